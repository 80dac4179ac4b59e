//! What the registry asks of a method's settings (`[method]`): its name, its
//! views, its checks and size, how it is built, and what it needs from the
//! experiment around it. The defaults cover what most methods do not need.
use burn::tensor::Device;
use pretext_nn::{Encoder, EncoderConfig, Footprint, InputShape};

use super::model::MethodModel;
use super::{InputSpec, Method, MethodConfig};

/// The settings of one method, read from an experiment's `[method]` table.
///
/// A method is one file: these settings, a model that implements
/// [`MethodModel`], and one line in the registry (`method/mod.rs`).
pub trait MethodSettings {
    /// What the settings build.
    type Model: MethodModel;

    /// The method's name in configs (`name = "..."`); a unit test checks it
    /// against the registry's serde name.
    const NAME: &'static str;

    /// How many augmented views of each image one step needs.
    const VIEWS: usize = 2;

    /// Checks the settings, naming the offending key.
    fn validate(&self) -> Result<(), String>;

    /// What the method holds beyond its encoder, in floats, for an encoder
    /// of `encoder` footprint and `embed` output length on `input` images
    /// (see [`MethodConfig::footprint`]).
    fn footprint(&self, encoder: Footprint, embed: usize, input: InputShape) -> Footprint;

    /// Builds the model around `encoder`, an encoder of architecture
    /// `at.encoder` (new, or trained by an earlier run): its heads are new.
    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Self::Model;

    /// What the method needs from the experiment beyond its own table.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// Whether a run of this method may start (`init`) from a run trained
    /// with `source`; the error says why not, after the run's name.
    fn continues_from(&self, _source: &MethodConfig) -> Result<(), String> {
        Ok(())
    }

    /// Builds the model from `source`, the trained method of the run it
    /// starts from: by default its encoder, with new heads.
    fn init_from(&self, source: Method, at: &Build<'_>) -> Self::Model {
        self.init_around(source.into_encoder(), at)
    }
}

/// What a method is built for: the encoder's architecture, the input, and
/// the device its new parts go on.
#[derive(Debug, Clone, Copy)]
pub struct Build<'a> {
    /// The encoder's settings (a momentum network is a new one of them).
    pub encoder: &'a EncoderConfig,
    /// The images' shape and normalisation.
    pub input: &'a InputSpec,
    /// Where the new parts go.
    pub device: &'a Device,
}

/// What a method needs from the experiment around it; each need says why,
/// in words that follow "method <name> ...".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The one encoder kind it works with (`encoder.kind`), and why.
    pub encoder: Option<(&'static str, &'static str)>,
    /// Mined neighbour partners (`partners`), and why.
    pub partners: Option<&'static str>,
    /// A run to continue (`init`), and why.
    pub init: Option<&'static str>,
}

/// A part that holds parameters only (a momentum copy): no activations.
pub(crate) fn params_only(f: Footprint) -> Footprint {
    Footprint::new(f.params, 0.0)
}

/// `n` stored rows of `d` floats (a queue, a support set).
pub(crate) fn rows(n: usize, d: usize) -> Footprint {
    Footprint::new(n as f64 * d as f64, 0.0)
}

/// A convolutional decoder of `widths` from an `embed`-long embedding: a
/// linear layer to the first map, then convolutions up to the image, with
/// about the encoder's maps (`encoder.activations`) again.
pub(crate) fn decoder_footprint(widths: &[usize], embed: usize, encoder: Footprint) -> Footprint {
    let convs: f64 = widths
        .windows(2)
        .map(|w| 9.0 * w[0] as f64 * w[1] as f64)
        .sum();
    let first = widths.first().copied().unwrap_or(1) as f64;
    Footprint::new(embed as f64 * first * 16.0 + convs, encoder.activations)
}
