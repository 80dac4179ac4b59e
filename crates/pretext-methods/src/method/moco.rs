//! MoCo v2 (He et al., 2020, "Momentum Contrast for Unsupervised Visual
//! Representation Learning"; Chen et al., 2020, "Improved Baselines with
//! Momentum Contrastive Learning"): queries from the online encoder and MLP
//! projection, keys from a momentum copy of both, and InfoNCE against a
//! queue of the keys of earlier batches. After each step the key network
//! moves towards the query network and the step's keys enter the queue,
//! pushing out the oldest.
//!
//! On one device, batch norm sees the whole key batch, so MoCo's shuffling of
//! batch norm across GPUs has nothing to shuffle; it is left out.
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::{check_momentum, check_projection, check_temperature};
use super::model::{MethodModel, encoder_field};
use super::momentum::{StepProgress, ema_update};
use super::queue::push_newest;
use super::settings::{Build, MethodSettings, params_only, rows};
use crate::StepOutput;
use crate::loss::{info_nce, l2_normalize};

/// Settings of [`Moco`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MocoConfig {
    /// Softmax temperature (0.2 in MoCo v2).
    pub temperature: f32,
    /// Momentum of the key network (0.999 in the paper's long ImageNet runs;
    /// 0.99 suits short runs on small data).
    pub momentum: f64,
    /// Keys held as negatives (65,536 on ImageNet; 4,096 suits MNIST-sized
    /// sets and batches of 256).
    pub queue_size: usize,
    /// The projection head (query and key).
    pub projection: ProjectionHeadConfig,
}

impl Default for MocoConfig {
    fn default() -> Self {
        Self {
            temperature: 0.2,
            momentum: 0.99,
            queue_size: 4096,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl MocoConfig {
    /// Builds the method around `encoder`; `key` is a second encoder of the
    /// same architecture, overwritten with the query encoder's weights. The
    /// queue starts as random unit vectors, as in the paper.
    pub fn init(&self, encoder: Encoder, key: Encoder, device: &Device) -> Moco {
        let projection = self.projection.init(encoder.out_dim(), device);
        let key_projection = self.projection.init(encoder.out_dim(), device);
        let queue = Tensor::<2>::random(
            [self.queue_size, self.projection.out_dim],
            Distribution::Normal(0.0, 1.0),
            device,
        );
        Moco {
            key_encoder: ema_update(key, &encoder, 0.0),
            key_projection: ema_update(key_projection, &projection, 0.0),
            encoder,
            projection,
            queue: Param::from_tensor(l2_normalize(queue)).set_require_grad(false),
            temperature: self.temperature as f64,
            momentum: self.momentum,
        }
    }
}

/// A MoCo v2 model: query encoder and projection, momentum key encoder and
/// projection, and the queue of keys.
#[derive(Module, Debug)]
pub struct Moco {
    /// The encoder being pretrained (the query encoder).
    pub encoder: Encoder,
    projection: ProjectionHead,
    key_encoder: Encoder,
    key_projection: ProjectionHead,
    /// Normalised keys of earlier batches, newest first, `[queue_size, out_dim]`.
    queue: Param<Tensor<2>>,
    temperature: f64,
    momentum: f64,
}

impl Moco {
    /// Moves the key network towards the query network, then puts this
    /// step's `keys` at the front of the queue and drops as many of the
    /// oldest.
    ///
    /// # Shapes
    /// - `keys`: `[b, out_dim]`, normalised
    pub fn after_step(self, keys: Option<Tensor<2>>) -> Self {
        let queue = match keys {
            Some(keys) => push_newest(self.queue, keys),
            None => self.queue,
        };
        Self {
            key_encoder: ema_update(self.key_encoder, &self.encoder, self.momentum),
            key_projection: ema_update(self.key_projection, &self.projection, self.momentum),
            queue,
            ..self
        }
    }
}

impl MethodSettings for MocoConfig {
    type Model = Moco;

    const NAME: &'static str = "moco";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_temperature(self.temperature)?;
        check_momentum(self.momentum)?;
        if self.queue_size == 0 {
            return Err("method.queue_size must be at least 1".into());
        }
        check_projection(&self.projection)
    }

    fn footprint(&self, encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        let head = self.projection.footprint(embed);
        head + params_only(encoder + head) + rows(self.queue_size, self.projection.out_dim)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Moco {
        let key = at.encoder.init(at.input.shape, at.device);
        self.init(encoder, key, at.device)
    }
}

impl MethodModel for Moco {
    /// The first view gives the queries, the second the keys.
    ///
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        assert_eq!(views.len(), 2, "moco needs two views");
        let h = self.encoder.forward(views[0].clone()); // [b, d]
        let q = self.projection.forward(h.clone()); // [b, p]
        let k = self
            .key_projection
            .forward(self.key_encoder.forward(views[1].clone()))
            .detach(); // [b, p]
        StepOutput {
            loss: info_nce(q, k.clone(), self.queue.val(), self.temperature as f32),
            embeddings: h,
            keys: Some(l2_normalize(k)),
        }
    }

    encoder_field!();

    fn after_step(self, keys: Option<Tensor<2>>, _progress: StepProgress) -> Self {
        Moco::after_step(self, keys)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;
    use pretext_nn::encoder::MlpConfig;
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;

    fn rows(t: Tensor<2>) -> Vec<Vec<f32>> {
        let [_, d] = t.dims();
        let v = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        v.chunks(d).map(|r| r.to_vec()).collect()
    }

    #[test]
    fn the_queue_takes_the_newest_keys_first_and_drops_the_oldest() {
        let device = Device::flex().autodiff();
        let encoder = EncoderConfig::Mlp(MlpConfig { hidden: vec![8] });
        let shape = InputShape::new(1, 4, 4);
        let config = MocoConfig {
            queue_size: 5,
            projection: crate::method::queue::tiny_projection(),
            ..Default::default()
        };
        let moco = config.init(
            encoder.init(shape, &device),
            encoder.init(shape, &device),
            &device,
        );
        let before = rows(moco.queue.val());
        let keys = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0], [2, 3]),
            &device,
        );
        let after = rows(moco.after_step(Some(keys)).queue.val());
        assert_eq!(after.len(), 5);
        assert_eq!(after[0], vec![1.0, 0.0, 0.0]);
        assert_eq!(after[1], vec![0.0, 1.0, 0.0]);
        assert_eq!(after[2..], before[..3]);
    }
}
