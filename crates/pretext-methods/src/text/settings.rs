//! What the text registry asks of a text method's settings (`[method]`).
use burn::tensor::Device;
use pretext_nn::TextEncoderConfig;
use pretext_nn::text::TextEncoder;

use super::model::TextMethodModel;

/// The settings of one text method, read from an experiment's `[method]`
/// table. A text method is one file: these settings, a model that
/// implements [`TextMethodModel`], and one line in the registry
/// (`text/mod.rs`).
pub trait TextMethodSettings {
    /// What the settings build.
    type Model: TextMethodModel;

    /// The method's name in configs (`name = "..."`); a unit test checks it
    /// against the registry's serde name.
    const NAME: &'static str;

    /// How many views of each sentence one step needs: two unless the
    /// method says otherwise, as for image methods.
    const VIEWS: usize = 2;

    /// Checks the settings, naming the offending key.
    fn validate(&self) -> Result<(), String>;

    /// Builds the model around `encoder`.
    fn init(&self, encoder: TextEncoder, device: &Device) -> Self::Model;

    /// The deletion probability the loader must apply to the views; `None`
    /// (the default) leaves the experiment's own text augmentation.
    fn view_deletion(&self) -> Option<f32> {
        None
    }

    /// Checks that `encoder` is one the method can train, naming the keys;
    /// any encoder by default.
    fn check_encoder(&self, _encoder: &TextEncoderConfig) -> Result<(), String> {
        Ok(())
    }
}
