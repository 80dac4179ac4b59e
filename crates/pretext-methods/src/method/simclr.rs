//! SimCLR (Chen et al., 2020, "A Simple Framework for Contrastive Learning of
//! Visual Representations"): encode two augmented views, project them with a
//! small MLP head, and pull the two views of each image together against every
//! other image in the batch with NT-Xent. The same model trains DCL (see
//! `dcl.rs`), with the positive pair out of the loss's denominator.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::{check_projection, check_temperature};
use super::settings::{Build, MethodSettings};
use super::two_views::{TwoViewMethod, TwoViews, projected_towers};
use crate::StepOutput;
use crate::loss::{dcl, nt_xent};

/// Settings of [`Simclr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimclrConfig {
    /// Softmax temperature of NT-Xent (0.5 in the paper's CIFAR runs).
    pub temperature: f32,
    /// The projection head.
    pub projection: ProjectionHeadConfig,
}

impl Default for SimclrConfig {
    fn default() -> Self {
        Self {
            temperature: 0.5,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl SimclrConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Simclr {
        Simclr::new(encoder, &self.projection, self.temperature, false, device)
    }
}

/// A SimCLR model: encoder plus projection head. DCL's is the same with
/// `decoupled` set.
#[derive(Module, Debug)]
pub struct Simclr {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    temperature: f64,
    /// DCL's loss (the positive out of the denominator) instead of NT-Xent.
    #[module(skip)]
    decoupled: bool,
}

impl Simclr {
    /// Builds the model around `encoder`; `decoupled` picks DCL's loss.
    pub(crate) fn new(
        encoder: Encoder,
        projection: &ProjectionHeadConfig,
        temperature: f32,
        decoupled: bool,
        device: &Device,
    ) -> Self {
        Self {
            projection: projection.init(encoder.out_dim(), device),
            encoder,
            temperature: temperature as f64,
            decoupled,
        }
    }
}

impl TwoViewMethod for Simclr {
    const LABEL: &'static str = "simclr";

    projected_towers!();

    fn output(&self, v: TwoViews) -> StepOutput {
        let loss = if self.decoupled { dcl } else { nt_xent };
        StepOutput::new(loss(v.z1, v.z2, self.temperature as f32), v.h1)
    }
}

impl MethodSettings for SimclrConfig {
    type Model = Simclr;

    const NAME: &'static str = "simclr";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_temperature(self.temperature)?;
        check_projection(&self.projection)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Simclr {
        self.init(encoder, at.device)
    }
}
