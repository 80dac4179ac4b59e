//! Barlow Twins (Zbontar et al., 2021, "Barlow Twins: Self-Supervised
//! Learning via Redundancy Reduction"): encode two augmented views, project
//! them, and make the cross-correlation of the projections the identity. No
//! negatives, no momentum encoder: redundancy reduction alone prevents
//! collapse.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::check_projection;
use super::settings::{Build, MethodSettings};
use super::two_views::{TwoViewMethod, TwoViews, projected_towers};
use crate::StepOutput;
use crate::loss::barlow_twins;

/// Settings of [`BarlowTwins`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BarlowTwinsConfig {
    /// Weight of the off-diagonal (redundancy) term (0.0051 in the paper).
    pub lambda: f32,
    /// The projection head.
    pub projection: ProjectionHeadConfig,
}

impl Default for BarlowTwinsConfig {
    fn default() -> Self {
        Self {
            lambda: 0.0051,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl BarlowTwinsConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, device: &Device) -> BarlowTwins {
        BarlowTwins {
            projection: self.projection.init(encoder.out_dim(), device),
            encoder,
            lambda: self.lambda as f64,
        }
    }
}

/// A Barlow Twins model: encoder plus projection head.
#[derive(Module, Debug)]
pub struct BarlowTwins {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    lambda: f64,
}

impl TwoViewMethod for BarlowTwins {
    const LABEL: &'static str = "barlow twins";

    projected_towers!();

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput::new(barlow_twins(v.z1, v.z2, self.lambda as f32), v.h1)
    }
}

impl MethodSettings for BarlowTwinsConfig {
    type Model = BarlowTwins;

    const NAME: &'static str = "barlow_twins";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(format!(
                "method.lambda must be 0 or more, got {}",
                self.lambda
            ));
        }
        check_projection(&self.projection)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> BarlowTwins {
        self.init(encoder, at.device)
    }
}
