//! What the registry asks of a method's model: one training step, its
//! encoder, and the hooks most methods leave at their defaults.
use burn::tensor::Tensor;
use pretext_nn::Encoder;

use super::StepOutput;
use super::momentum::StepProgress;
use super::replica::{self, StepReplicas};

/// A method's model: an encoder, its pretraining heads and the loss of one
/// step.
pub trait MethodModel: Sized {
    /// One forward pass over the views of a batch.
    ///
    /// # Shapes
    /// - `views`: as many `[batch, c, h, w]` tensors as the settings' views
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput;

    /// The encoder being pretrained.
    fn encoder(&self) -> &Encoder;

    /// Consumes the model, keeping only its encoder.
    fn into_encoder(self) -> Encoder;

    /// The update that follows each optimiser step (a momentum network, a
    /// queue taking the step's `keys`); the identity by default.
    fn after_step(self, _keys: Option<Tensor<2>>, _progress: StepProgress) -> Self {
        self
    }

    /// For methods that reconstruct their input, the reconstruction of a
    /// normalised batch as pixels in `[0, 1]`; `None` by default.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h, w]`
    fn reconstruct_pixels(&self, _x: Tensor<4>) -> Option<Tensor<4>> {
        None
    }

    /// [`MethodModel::forward`] with the batch split by rows over
    /// `replicas` (copies on several devices, the first on the views'
    /// device). By default each copy runs the whole method on its rows and
    /// the losses are averaged, weighted by rows: right for losses that are
    /// a mean over images. Methods whose loss couples the images of a batch
    /// gather what the loss reads on the first device instead.
    fn forward_replicated(replicas: StepReplicas<'_, Self>, views: &[Tensor<4>]) -> StepOutput {
        forward_each(replicas, views)
    }
}

/// `encoder` and `into_encoder` of a model whose encoder is its `encoder`
/// field: `encoder_field!();` in a [`MethodModel`] impl,
/// `encoder_field!(TextEncoder);` in a text method's.
macro_rules! encoder_field {
    () => {
        encoder_field!(pretext_nn::Encoder);
    };
    ($encoder:ty) => {
        fn encoder(&self) -> &$encoder {
            &self.encoder
        }

        fn into_encoder(self) -> $encoder {
            self.encoder
        }
    };
}
pub(crate) use encoder_field;

/// Each replica runs the whole method on its rows: for losses that are a mean
/// over images, the rows-weighted mean of the replicas' losses is the batch's.
fn forward_each<M: MethodModel>(replicas: StepReplicas<'_, M>, views: &[Tensor<4>]) -> StepOutput {
    let home = views[0].device();
    let [b, ..] = views[0].dims();
    let parts = replicas.each_rows(b, |r, rows| {
        let shard: Vec<_> = views
            .iter()
            .map(|v| replica::rows_on(v, rows, r.device))
            .collect();
        r.model.forward(&shard)
    });
    let (mut loss, mut embeddings, mut keys) = (None, Vec::new(), Vec::new());
    for (out, rows) in parts {
        let part = replica::moved(out.loss, &home).mul_scalar(rows.1 as f64 / b as f64);
        loss = Some(match loss {
            None => part,
            Some(sum) => sum + part,
        });
        embeddings.push(out.embeddings);
        keys.extend(out.keys);
    }
    let parts = embeddings.len();
    StepOutput {
        loss: loss.expect("a batch has rows"),
        embeddings: replica::gather(embeddings, &home),
        keys: (keys.len() == parts).then(|| replica::gather(keys, &home)),
    }
}
