//! What the joint-embedding methods share: two augmented views through one
//! encoder and one head (a projection head, or SCAN's cluster head), and the
//! check of a predictor on top.

use burn::nn::Linear;
use burn::tensor::Tensor;
use pretext_nn::{Encoder, ProjectionHead, ProjectionHeadConfig};

use crate::StepOutput;

use super::model::MethodModel;
use super::momentum::StepProgress;
use super::replica::{StepReplicas, gather, rows_on};

/// A head on the encoder's embeddings whose output a two-view loss reads.
pub(crate) trait ViewHead {
    /// # Shapes
    /// `[b, d]` → `[b, p]`
    fn forward(&self, h: Tensor<2>) -> Tensor<2>;
}

impl ViewHead for ProjectionHead {
    fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        ProjectionHead::forward(self, h)
    }
}

impl ViewHead for Linear {
    fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        Linear::forward(self, h)
    }
}

/// The two views of a batch, encoded and projected.
pub(crate) struct TwoViews {
    /// The encoder's embeddings of the first view, `[b, d]` (for monitoring).
    pub h1: Tensor<2>,
    /// Projections of the first view, `[b, p]`.
    pub z1: Tensor<2>,
    /// Projections of the second view, `[b, p]`.
    pub z2: Tensor<2>,
}

/// Encodes and projects both views in one batch, so batch norm sees `2b`
/// images, then splits them again.
///
/// # Shapes
/// - `views`: two `[b, c, h, w]` tensors
pub(crate) fn encode_two_views<H: ViewHead>(
    encoder: &Encoder,
    projection: &H,
    views: &[Tensor<4>],
    method: &str,
) -> TwoViews {
    assert_eq!(views.len(), 2, "{method} needs two views");
    let [b, ..] = views[0].dims();
    let h = encoder.forward(Tensor::cat(vec![views[0].clone(), views[1].clone()], 0)); // [2b, d]
    let z = projection.forward(h.clone()); // [2b, p]
    TwoViews {
        h1: h.narrow(0, 0, b),
        z1: z.clone().narrow(0, 0, b),
        z2: z.narrow(0, b, b),
    }
}

/// The towers of a [`TwoViewMethod`] whose fields are `encoder` and a
/// `projection` head: `projected_towers!();` in the impl gives its `Head`,
/// `towers` and `into_encoder`.
macro_rules! projected_towers {
    () => {
        type Head = pretext_nn::ProjectionHead;

        fn towers(&self) -> (&pretext_nn::Encoder, &pretext_nn::ProjectionHead) {
            (&self.encoder, &self.projection)
        }

        fn into_encoder(self) -> pretext_nn::Encoder {
            self.encoder
        }
    };
}
pub(crate) use projected_towers;

/// A method that encodes two views through one encoder and one head and
/// computes its loss from the pair (SimCLR, DCL, NNCLR, Barlow Twins, VICReg,
/// SCAN, self-labelling). Such a method is a [`MethodModel`] through the
/// impl below: its step is [`TwoViewMethod::forward_two_views`], and over
/// several devices its projections are gathered on the first, so the loss
/// sees the whole batch.
pub(crate) trait TwoViewMethod: Sized {
    /// The method's name in messages.
    const LABEL: &'static str;

    /// The head on the encoder.
    type Head: ViewHead;

    /// The encoder and the head.
    fn towers(&self) -> (&Encoder, &Self::Head);

    /// The loss and outputs of a step from the encoded views.
    fn output(&self, v: TwoViews) -> StepOutput;

    /// Consumes the method, keeping only its encoder.
    fn into_encoder(self) -> Encoder;

    /// The update that follows each optimiser step (NNCLR's support set
    /// takes the step's `keys`); the identity by default.
    fn after_step(self, _keys: Option<Tensor<2>>) -> Self {
        self
    }

    /// One step on one device.
    ///
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward_two_views(&self, views: &[Tensor<4>]) -> StepOutput {
        let (encoder, projection) = self.towers();
        self.output(encode_two_views(encoder, projection, views, Self::LABEL))
    }
}

impl<M: TwoViewMethod> MethodModel for M {
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        self.forward_two_views(views)
    }

    fn encoder(&self) -> &Encoder {
        self.towers().0
    }

    fn into_encoder(self) -> Encoder {
        TwoViewMethod::into_encoder(self)
    }

    fn after_step(self, keys: Option<Tensor<2>>, _progress: StepProgress) -> Self {
        TwoViewMethod::after_step(self, keys)
    }

    fn forward_replicated(replicas: StepReplicas<'_, Self>, views: &[Tensor<4>]) -> StepOutput {
        forward_two_views_replicated(replicas, views)
    }
}

/// One step with the batch split by rows over `replicas`: each copy encodes
/// both views of its rows, so its batch norm sees both views as on one
/// device, and the outputs are gathered on the first device in the batch's
/// order. The loss sees every image of the batch, as on one device:
/// contrastive negatives span the whole batch.
fn forward_two_views_replicated<M: TwoViewMethod>(
    replicas: StepReplicas<'_, M>,
    views: &[Tensor<4>],
) -> StepOutput {
    assert_eq!(views.len(), 2, "{} needs two views", M::LABEL);
    let first = replicas.first.model;
    let home = views[0].device();
    let [b, ..] = views[0].dims();
    let parts = replicas.each_rows(b, |r, rows| {
        let (encoder, projection) = r.model.towers();
        let shard = [
            rows_on(&views[0], rows, r.device),
            rows_on(&views[1], rows, r.device),
        ];
        encode_two_views(encoder, projection, &shard, M::LABEL)
    });
    let (mut h1, mut z1, mut z2) = (Vec::new(), Vec::new(), Vec::new());
    for (v, _) in parts {
        h1.push(v.h1);
        z1.push(v.z1);
        z2.push(v.z2);
    }
    first.output(TwoViews {
        h1: gather(h1, &home),
        z1: gather(z1, &home),
        z2: gather(z2, &home),
    })
}

/// Checks a projection head and a predictor on its output (BYOL, SimSiam):
/// each valid, and the predictor predicting a projection-sized vector.
pub(crate) fn check_heads(
    projection: &ProjectionHeadConfig,
    predictor: &ProjectionHeadConfig,
) -> Result<(), String> {
    super::checks::check_projection(projection)?;
    predictor
        .validate()
        .map_err(|e| format!("method.predictor: {e}"))?;
    if predictor.out_dim != projection.out_dim {
        return Err(format!(
            "method.predictor.out_dim ({}) must equal method.projection.out_dim ({})",
            predictor.out_dim, projection.out_dim
        ));
    }
    Ok(())
}
