//! BYOL (Grill et al., 2020, "Bootstrap Your Own Latent: A New Approach to
//! Self-Supervised Learning"): an online network (encoder, projection,
//! predictor) learns to predict a target network's projection of the other
//! view. The target is an exponential moving average of the online encoder
//! and projection, with a momentum that rises to 1 along a cosine; no
//! negatives are used.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::check_momentum;
use super::model::{MethodModel, encoder_field};
use super::momentum::{StepProgress, cosine_momentum, ema_update};
use super::settings::{Build, MethodSettings, params_only};
use super::two_views::{check_heads, encode_two_views};
use crate::StepOutput;
use crate::loss::byol;

/// Settings of [`Byol`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ByolConfig {
    /// Momentum of the target at the first step (0.996 in the paper's long
    /// ImageNet runs; 0.99 suits short runs); it rises to 1 at the last step.
    pub momentum: f64,
    /// The projection head (online and target).
    pub projection: ProjectionHeadConfig,
    /// The online predictor, on projections; its `out_dim` must equal the
    /// projection's.
    pub predictor: ProjectionHeadConfig,
}

impl Default for ByolConfig {
    fn default() -> Self {
        Self {
            momentum: 0.99,
            projection: ProjectionHeadConfig::default(),
            predictor: ProjectionHeadConfig::default(),
        }
    }
}

impl ByolConfig {
    /// Builds the method around `encoder`; `target` is a second encoder of the
    /// same architecture, overwritten with the online weights.
    pub fn init(&self, encoder: Encoder, target: Encoder, device: &Device) -> Byol {
        let projection = self.projection.init(encoder.out_dim(), device);
        let target_projection = self.projection.init(encoder.out_dim(), device);
        Byol {
            predictor: self.predictor.init(self.projection.out_dim, device),
            target_encoder: ema_update(target, &encoder, 0.0),
            target_projection: ema_update(target_projection, &projection, 0.0),
            encoder,
            projection,
            momentum: self.momentum,
        }
    }
}

/// A BYOL model: online encoder, projection and predictor; momentum target
/// encoder and projection.
#[derive(Module, Debug)]
pub struct Byol {
    /// The encoder being pretrained (the online one).
    pub encoder: Encoder,
    projection: ProjectionHead,
    predictor: ProjectionHead,
    target_encoder: Encoder,
    target_projection: ProjectionHead,
    momentum: f64,
}

impl Byol {
    /// Moves the target towards the online network, with the momentum of
    /// this point of the run.
    pub fn after_step(self, progress: StepProgress) -> Self {
        let tau = cosine_momentum(self.momentum, progress);
        Self {
            target_encoder: ema_update(self.target_encoder, &self.encoder, tau),
            target_projection: ema_update(self.target_projection, &self.projection, tau),
            ..self
        }
    }
}

impl MethodSettings for ByolConfig {
    type Model = Byol;

    const NAME: &'static str = "byol";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_momentum(self.momentum)?;
        check_heads(&self.projection, &self.predictor)
    }

    fn footprint(&self, encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        let head = self.projection.footprint(embed);
        head + self.predictor.footprint(self.projection.out_dim) + params_only(encoder + head)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Byol {
        let target = at.encoder.init(at.input.shape, at.device);
        self.init(encoder, target, at.device)
    }
}

impl MethodModel for Byol {
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        let online = encode_two_views(&self.encoder, &self.projection, views, "byol");
        let target = encode_two_views(&self.target_encoder, &self.target_projection, views, "byol");
        let p1 = self.predictor.forward(online.z1);
        let p2 = self.predictor.forward(online.z2);
        StepOutput::new(byol(p1, p2, target.z1, target.z2), online.h1)
    }

    encoder_field!();

    fn after_step(self, _keys: Option<Tensor<2>>, progress: StepProgress) -> Self {
        Byol::after_step(self, progress)
    }
}

#[cfg(test)]
mod tests {
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::Distribution;
    use pretext_nn::encoder::MlpConfig;
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;

    use crate::method::momentum::float_values as weights;

    #[test]
    fn the_optimiser_leaves_the_target_alone_and_the_update_moves_it() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 2);
        let encoder = EncoderConfig::Mlp(MlpConfig { hidden: vec![8] });
        let shape = InputShape::new(1, 4, 4);
        let byol = ByolConfig::default().init(
            encoder.init(shape, &device),
            encoder.init(shape, &device),
            &device,
        );
        let views: Vec<Tensor<4>> = (0..2)
            .map(|_| Tensor::random([6, 1, 4, 4], Distribution::Normal(0.0, 1.0), &device))
            .collect();
        let target = weights(&byol.target_encoder);
        let online = weights(&byol.encoder);
        assert!(target == online, "the target starts as a copy");
        let out = byol.forward(&views);
        let grads = GradientsParams::from_grads(out.loss.backward(), &byol);
        let byol = AdamConfig::new().init().step(1e-2, byol, grads);
        assert!(
            weights(&byol.target_encoder) == target,
            "the optimiser moved the target"
        );
        assert!(
            weights(&byol.encoder) != online,
            "the optimiser left the online encoder"
        );
        let progress = StepProgress {
            step: 1,
            total_steps: 10,
        };
        let byol = byol.after_step(progress);
        assert!(
            weights(&byol.target_encoder) != target,
            "the update left the target"
        );
    }
}
