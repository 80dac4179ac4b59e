//! SCAN (Van Gansbeke et al., 2020, "SCAN: Learning to Classify Images
//! without Labels", step 2): a linear cluster head on the encoder, trained
//! so that each image and one of its nearest neighbours, mined from an
//! earlier run's embedding, fall in the same cluster with confidence, while
//! the batch spreads over all clusters. The encoder is trained with it.
//!
//! The neighbours come from the experiment's `partners` table (`pretext
//! neighbours`): the first view is the image, the second one of its
//! neighbours, each augmented. The head is linear, as in the paper
//! (`hidden_dim = 0`), or an MLP with one hidden layer. Starting from a
//! pretrained encoder (the experiment's `init`) is the paper's recipe; from
//! scratch the neighbours still pull together, but the clusters are those
//! of a random network.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_nn::Encoder;
use serde::{Deserialize, Serialize};

use super::checks::check_clusters;
use super::cluster_head::ClusterHead;
use super::two_views::{TwoViewMethod, TwoViews};
use crate::StepOutput;
use crate::loss::scan;

/// Settings of [`Scan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Clusters of the head (the paper sets it to the number of classes).
    pub clusters: usize,
    /// Weight of the entropy term that keeps every cluster in use (5 in the paper).
    pub entropy_weight: f32,
    /// Width of the cluster head's hidden layer (with batch norm and ReLU);
    /// 0 for the paper's linear head.
    pub hidden_dim: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            clusters: 10,
            entropy_weight: 5.0,
            hidden_dim: 0,
        }
    }
}

impl ScanConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_clusters(self.clusters)?;
        if !(self.entropy_weight >= 0.0 && self.entropy_weight.is_finite()) {
            return Err(format!(
                "method.entropy_weight must be zero or positive, got {}",
                self.entropy_weight
            ));
        }
        Ok(())
    }

    /// Builds the method around `encoder`, with a new cluster head.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Scan {
        Scan {
            head: ClusterHead::new(encoder.out_dim(), self.hidden_dim, self.clusters, device),
            encoder,
            entropy_weight: self.entropy_weight as f64,
        }
    }
}

/// A SCAN model: encoder plus cluster head.
#[derive(Module, Debug)]
pub struct Scan {
    /// The encoder being trained.
    pub encoder: Encoder,
    head: ClusterHead,
    entropy_weight: f64,
}

impl Scan {
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors, the images and their neighbours
    pub fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        self.forward_two_views(views)
    }

    /// The encoder and the cluster head, for self-labelling to continue from.
    pub(crate) fn into_parts(self) -> (Encoder, ClusterHead) {
        (self.encoder, self.head)
    }
}

impl TwoViewMethod for Scan {
    const LABEL: &'static str = "scan";

    type Head = ClusterHead;

    fn towers(&self) -> (&Encoder, &ClusterHead) {
        (&self.encoder, &self.head)
    }

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput {
            loss: scan(v.z1, v.z2, self.entropy_weight as f32),
            embeddings: v.h1,
            keys: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;

    #[test]
    fn refuses_one_cluster_and_a_negative_weight() {
        let one = ScanConfig {
            clusters: 1,
            ..ScanConfig::default()
        };
        assert!(one.validate().unwrap_err().contains("method.clusters"));
        let negative = ScanConfig {
            entropy_weight: -1.0,
            ..ScanConfig::default()
        };
        assert!(
            negative
                .validate()
                .unwrap_err()
                .contains("method.entropy_weight")
        );
    }

    #[test]
    fn a_step_gives_a_finite_loss_above_its_bound_with_either_head() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 1);
        let shape = InputShape::new(1, 28, 28);
        for hidden_dim in [0, 32] {
            let encoder = EncoderConfig::default().init(shape, &device);
            let config = ScanConfig {
                hidden_dim,
                ..ScanConfig::default()
            };
            let method = config.init(encoder, &device);
            let view = || Tensor::<4>::random([6, 1, 28, 28], Distribution::Default, &device);
            let out = method.forward(&[view(), view()]);
            let loss: f32 = out.loss.into_scalar();
            // Above the bound -5·ln 10 that only confident, agreeing, spread pairs reach.
            assert!(loss.is_finite() && loss > -5.0 * 10f32.ln(), "{loss}");
            assert_eq!(out.embeddings.dims(), [6, method.encoder.out_dim()]);
        }
    }
}
