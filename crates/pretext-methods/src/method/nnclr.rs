//! NNCLR (Dwibedi et al., 2021, "With a Little Help from My Friends:
//! Nearest-Neighbor Contrastive Learning of Visual Representations"): SimCLR's
//! two views, encoder and projection head, with each view's positive taken
//! from a support set: the nearest of the projections of earlier batches.
//! Images pulled together are then different images that look alike, not
//! only two views of one image, which can gather a class's styles that no
//! augmentation turns into one another. After each step the first view's
//! normalised projections enter the support set, pushing out the oldest.
//!
//! The support set starts as zeros (similarity 0 to everything), so the
//! first step's neighbours are empty and it learns nothing; from the second
//! step on they are real. The paper's prediction head is left out.
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::{check_projection, check_temperature};
use super::queue::push_newest;
use super::settings::{Build, MethodSettings, rows};
use super::two_views::{TwoViewMethod, TwoViews, projected_towers};
use crate::StepOutput;
use crate::loss::{l2_normalize, nnclr};

/// Settings of [`Nnclr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NnclrConfig {
    /// Softmax temperature (0.1 in the paper).
    pub temperature: f32,
    /// Projections held as the support set (98,304 on ImageNet; 16,384 is
    /// about a quarter of MNIST).
    pub support_size: usize,
    /// The projection head.
    pub projection: ProjectionHeadConfig,
}

impl Default for NnclrConfig {
    fn default() -> Self {
        Self {
            temperature: 0.1,
            support_size: 16384,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl NnclrConfig {
    /// Builds the method around `encoder`, with an empty (all-zero) support set.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Nnclr {
        let support = Tensor::<2>::zeros([self.support_size, self.projection.out_dim], device);
        Nnclr {
            projection: self.projection.init(encoder.out_dim(), device),
            encoder,
            support: Param::from_tensor(support).set_require_grad(false),
            temperature: self.temperature as f64,
        }
    }
}

/// An NNCLR model: encoder, projection head and the support set.
#[derive(Module, Debug)]
pub struct Nnclr {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    /// Normalised first-view projections of earlier batches, newest first,
    /// `[support_size, out_dim]`; rows of zeros until filled.
    support: Param<Tensor<2>>,
    temperature: f64,
}

impl Nnclr {
    /// Puts this step's normalised first-view projections (`keys`) at the
    /// front of the support set and drops as many of the oldest.
    ///
    /// # Shapes
    /// - `keys`: `[b, out_dim]`
    pub fn after_step(self, keys: Option<Tensor<2>>) -> Self {
        match keys {
            Some(keys) => Self {
                support: push_newest(self.support, keys),
                ..self
            },
            None => self,
        }
    }
}

impl TwoViewMethod for Nnclr {
    const LABEL: &'static str = "nnclr";

    projected_towers!();

    fn after_step(self, keys: Option<Tensor<2>>) -> Self {
        Nnclr::after_step(self, keys)
    }

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput {
            loss: nnclr(
                v.z1.clone(),
                v.z2,
                self.support.val(),
                self.temperature as f32,
            ),
            embeddings: v.h1,
            keys: Some(l2_normalize(v.z1.detach())),
        }
    }
}

impl MethodSettings for NnclrConfig {
    type Model = Nnclr;

    const NAME: &'static str = "nnclr";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_temperature(self.temperature)?;
        if self.support_size == 0 {
            return Err("method.support_size must be at least 1".into());
        }
        check_projection(&self.projection)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed) + rows(self.support_size, self.projection.out_dim)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Nnclr {
        self.init(encoder, at.device)
    }
}

#[cfg(test)]
mod tests {
    use crate::method::MethodModel;
    use pretext_nn::encoder::MlpConfig;
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;

    #[test]
    fn the_support_set_starts_empty_and_takes_the_first_views() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 1);
        let shape = InputShape::new(1, 4, 4);
        let config = NnclrConfig {
            support_size: 5,
            projection: crate::method::queue::tiny_projection(),
            ..Default::default()
        };
        let model = config.init(
            EncoderConfig::Mlp(MlpConfig { hidden: vec![8] }).init(shape, &device),
            &device,
        );
        let zeros: f32 = model.support.val().abs().sum().into_scalar();
        assert_eq!(zeros, 0.0);
        let views =
            vec![
                Tensor::<4>::random([2, 1, 4, 4], burn::tensor::Distribution::Default, &device);
                2
            ];
        let out = model.forward(&views);
        let keys = out.keys.expect("nnclr queues its first views");
        assert_eq!(keys.dims(), [2, 3]);
        let model = model.after_step(Some(keys.clone()));
        let support = model.support.val();
        let front = support.clone().narrow(0, 0, 2);
        let diff: f32 = (front - keys).abs().max().into_scalar();
        assert!(diff < 1e-6, "the newest rows are this step's keys ({diff})");
        let rest: f32 = support.narrow(0, 2, 3).abs().sum().into_scalar();
        assert_eq!(rest, 0.0, "the other rows are still empty");
    }
}
