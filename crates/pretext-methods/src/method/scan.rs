//! SCAN (Van Gansbeke et al., 2020, "SCAN: Learning to Classify Images
//! without Labels", step 2): a linear cluster head on the encoder, trained
//! so that each image and one of its nearest neighbours, mined from an
//! earlier run's embedding, fall in the same cluster with confidence, while
//! the batch spreads over all clusters. The encoder is trained with it.
//!
//! The neighbours come from the experiment's `partners` table (`pretext
//! neighbours`): the first view is the image, the second one of its
//! neighbours, each augmented. The head is linear, as in the paper
//! (`hidden_dim = 0`), or an MLP with one hidden layer. With `heads` above
//! one, several heads, each initialised apart, are trained side by side on
//! the same pairs and the loss is their mean (SCAN's code sums the losses
//! of its `num_heads` heads; IIC, Ji et al. 2019, trains sub-heads for
//! robustness to a bad initialisation): a partition that one head gets
//! wrong (two digits merged, another split) pulls the encoder only with
//! that head's share. Starting from a
//! pretrained encoder (the experiment's `init`) is the paper's recipe; from
//! scratch the neighbours still pull together, but the clusters are those
//! of a random network.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_nn::{Encoder, Footprint, InputShape};
use serde::{Deserialize, Serialize};

use super::checks::check_clusters;
use super::cluster_head::ClusterHead;
use super::settings::{Build, MethodSettings, Needs};
use super::two_views::{TwoViewMethod, TwoViews, ViewHead};
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
    /// Cluster heads trained side by side, each initialised apart, the loss
    /// their mean; self-labelling continues the first.
    pub heads: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            clusters: 10,
            entropy_weight: 5.0,
            hidden_dim: 0,
            heads: 1,
        }
    }
}

impl ScanConfig {
    /// Builds the method around `encoder`, with new cluster heads.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Scan {
        let head = || ClusterHead::new(encoder.out_dim(), self.hidden_dim, self.clusters, device);
        Scan {
            head: head(),
            more_heads: (1..self.heads).map(|_| head()).collect(),
            encoder,
            entropy_weight: self.entropy_weight as f64,
        }
    }
}

/// A SCAN model: encoder plus cluster heads.
#[derive(Module, Debug)]
pub struct Scan {
    /// The encoder being trained.
    pub encoder: Encoder,
    /// The first cluster head (a field of its own, so that a checkpoint of
    /// one head keeps the keys it had before there could be several).
    head: ClusterHead,
    /// The other heads, `heads - 1` of them.
    more_heads: Vec<ClusterHead>,
    entropy_weight: f64,
}

impl Scan {
    /// The encoder and the first cluster head, for self-labelling to
    /// continue from.
    pub(crate) fn into_parts(self) -> (Encoder, ClusterHead) {
        (self.encoder, self.head)
    }
}

/// All heads as one: their logits side by side, `clusters` columns each.
impl ViewHead for Scan {
    fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        if self.more_heads.is_empty() {
            return self.head.forward(h);
        }
        let mut logits = vec![self.head.forward(h.clone())];
        logits.extend(self.more_heads.iter().map(|head| head.forward(h.clone())));
        Tensor::cat(logits, 1)
    }
}

impl TwoViewMethod for Scan {
    const LABEL: &'static str = "scan";

    type Head = Scan;

    fn towers(&self) -> (&Encoder, &Scan) {
        (&self.encoder, self)
    }

    fn into_encoder(self) -> Encoder {
        self.encoder
    }

    /// The mean of the heads' SCAN losses, each on its own share of the columns.
    fn output(&self, v: TwoViews) -> StepOutput {
        let heads = 1 + self.more_heads.len();
        let k = v.z1.dims()[1] / heads;
        let loss = (0..heads)
            .map(|i| {
                let (z1, z2) = (
                    v.z1.clone().narrow(1, i * k, k),
                    v.z2.clone().narrow(1, i * k, k),
                );
                scan(z1, z2, self.entropy_weight as f32)
            })
            .reduce(|a, b| a + b)
            .expect("at least one head")
            / heads as f32;
        StepOutput::new(loss, v.h1)
    }
}

impl MethodSettings for ScanConfig {
    type Model = Scan;

    const NAME: &'static str = "scan";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_clusters(self.clusters)?;
        if !(self.entropy_weight >= 0.0 && self.entropy_weight.is_finite()) {
            return Err(format!(
                "method.entropy_weight must be zero or positive, got {}",
                self.entropy_weight
            ));
        }
        if self.heads == 0 {
            return Err("method.heads must be at least 1, got 0".into());
        }
        Ok(())
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        let one = Footprint::linear(embed, self.hidden_dim.max(1))
            + Footprint::linear(self.hidden_dim.max(1), self.clusters);
        Footprint::new(
            one.params * self.heads as f64,
            one.activations * self.heads as f64,
        )
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Scan {
        self.init(encoder, at.device)
    }

    fn needs(&self) -> Needs {
        Needs {
            partners: Some("pairs each image with a mined neighbour"),
            ..Needs::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::method::MethodModel;
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
        let none = ScanConfig {
            heads: 0,
            ..ScanConfig::default()
        };
        assert!(none.validate().unwrap_err().contains("method.heads"));
    }

    #[test]
    fn several_heads_differ_and_the_loss_is_the_mean_of_theirs() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 2);
        let shape = InputShape::new(1, 28, 28);
        let config = ScanConfig {
            heads: 3,
            hidden_dim: 16,
            ..ScanConfig::default()
        };
        let method = config.init(EncoderConfig::default().init(shape, &device), &device);
        let view = || Tensor::<4>::random([6, 1, 28, 28], Distribution::Default, &device);
        let views = [view(), view()];
        let loss: f32 = MethodModel::forward(&method, &views).loss.into_scalar();

        let h = method
            .encoder
            .forward(Tensor::cat(vec![views[0].clone(), views[1].clone()], 0));
        let heads: Vec<&ClusterHead> = std::iter::once(&method.head)
            .chain(method.more_heads.iter())
            .collect();
        assert_eq!(heads.len(), 3);
        let each: Vec<f32> = heads
            .iter()
            .map(|head| {
                let z = head.forward(h.clone());
                scan(z.clone().narrow(0, 0, 6), z.narrow(0, 6, 6), 5.0).into_scalar()
            })
            .collect();
        assert!(
            each[0] != each[1] && each[1] != each[2],
            "the heads start apart: {each:?}"
        );
        let mean = each.iter().sum::<f32>() / 3.0;
        assert!(
            (loss - mean).abs() < 1e-4,
            "{loss} against {mean} of {each:?}"
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
            let out = MethodModel::forward(&method, &[view(), view()]);
            let loss: f32 = out.loss.into_scalar();
            // Above the bound -5·ln 10 that only confident, agreeing, spread pairs reach.
            assert!(loss.is_finite() && loss > -5.0 * 10f32.ln(), "{loss}");
            assert_eq!(out.embeddings.dims(), [6, method.encoder.out_dim()]);
        }
    }
}
