//! VICReg (Bardes, Ponce and LeCun, 2022, "VICReg: Variance-Invariance-
//! Covariance Regularization for Self-Supervised Learning"): encode two
//! augmented views, project them, and make the projections agree while each
//! dimension keeps its variance and the dimensions stay decorrelated.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::check_projection;
use super::settings::{Build, MethodSettings};
use super::two_views::{TwoViewMethod, TwoViews, projected_towers};
use crate::StepOutput;
use crate::loss::{VicregWeights, vicreg};

/// Settings of [`Vicreg`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VicregConfig {
    /// Weight of the invariance term (25 in the paper).
    pub invariance: f32,
    /// Weight of the variance term (25).
    pub variance: f32,
    /// Weight of the covariance term (1).
    pub covariance: f32,
    /// The projection head.
    pub projection: ProjectionHeadConfig,
}

impl Default for VicregConfig {
    fn default() -> Self {
        let w = VicregWeights::default();
        Self {
            invariance: w.invariance,
            variance: w.variance,
            covariance: w.covariance,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl VicregConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Vicreg {
        Vicreg {
            projection: self.projection.init(encoder.out_dim(), device),
            encoder,
            invariance: self.invariance as f64,
            variance: self.variance as f64,
            covariance: self.covariance as f64,
        }
    }
}

/// A VICReg model: encoder plus projection head.
#[derive(Module, Debug)]
pub struct Vicreg {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    invariance: f64,
    variance: f64,
    covariance: f64,
}

impl TwoViewMethod for Vicreg {
    const LABEL: &'static str = "vicreg";

    projected_towers!();

    fn output(&self, v: TwoViews) -> StepOutput {
        let weights = VicregWeights {
            invariance: self.invariance as f32,
            variance: self.variance as f32,
            covariance: self.covariance as f32,
        };
        StepOutput::new(vicreg(v.z1, v.z2, weights), v.h1)
    }
}

impl MethodSettings for VicregConfig {
    type Model = Vicreg;

    const NAME: &'static str = "vicreg";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        for (key, w) in [
            ("invariance", self.invariance),
            ("variance", self.variance),
            ("covariance", self.covariance),
        ] {
            if !(w >= 0.0 && w.is_finite()) {
                return Err(format!("method.{key} must be 0 or more, got {w}"));
            }
        }
        check_projection(&self.projection)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Vicreg {
        self.init(encoder, at.device)
    }
}
