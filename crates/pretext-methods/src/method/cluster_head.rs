//! The cluster head of SCAN and of self-labelling: the encoder's embedding
//! to one logit per cluster, through a linear layer (the paper's) or an MLP
//! with one hidden layer.
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use pretext_nn::{ProjectionHead, ProjectionHeadConfig};

use super::two_views::ViewHead;

/// SCAN's head: the encoder's embedding to cluster logits.
// One per run, built once: the size of the MLP variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub(crate) enum ClusterHead {
    /// The paper's.
    Linear(Linear),
    /// `Linear → BN → ReLU → Linear`.
    Mlp(ProjectionHead),
}

impl ViewHead for ClusterHead {
    fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        match self {
            ClusterHead::Linear(head) => head.forward(h),
            ClusterHead::Mlp(head) => head.forward(h),
        }
    }
}

impl ClusterHead {
    /// A new head from `in_dim` features to `clusters` logits, linear when
    /// `hidden_dim` is 0.
    pub(crate) fn new(in_dim: usize, hidden_dim: usize, clusters: usize, device: &Device) -> Self {
        if hidden_dim == 0 {
            ClusterHead::Linear(LinearConfig::new(in_dim, clusters).init(device))
        } else {
            let mlp = ProjectionHeadConfig {
                hidden_dim,
                out_dim: clusters,
                batch_norm: true,
            };
            ClusterHead::Mlp(mlp.init(in_dim, device))
        }
    }
}
