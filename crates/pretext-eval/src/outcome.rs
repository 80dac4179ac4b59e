//! What every head reports, whatever its protocol: test predictions and, for
//! trained heads, the validation curve and where it stopped improving.
use burn::tensor::{Device, Int, Tensor, TensorData};
use pretext_runs::EpochPoint;

/// The result of one head on one label draw.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadOutcome {
    /// Predicted class of every test image.
    pub test_predictions: Vec<u32>,
    /// Best validation accuracy (trained heads).
    pub val_accuracy: Option<f32>,
    /// The epoch whose weights were kept: after it validation stopped
    /// improving, where overfitting begins (trained heads).
    pub best_epoch: Option<usize>,
    /// Epochs run before early stopping (trained heads).
    pub epochs: Option<usize>,
    /// Validation accuracy per epoch (trained heads).
    pub curve: Vec<EpochPoint>,
    /// A chosen hyper-parameter worth reporting, e.g. `l2=0.001`.
    pub detail: Option<String>,
}

impl HeadOutcome {
    /// The outcome of a head that is not trained (kNN).
    pub fn untrained(test_predictions: Vec<u32>) -> Self {
        Self {
            test_predictions,
            val_accuracy: None,
            best_epoch: None,
            epochs: None,
            curve: Vec::new(),
            detail: None,
        }
    }
}

/// Class indices as an integer tensor.
pub(crate) fn labels_tensor(labels: &[u32], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}

/// The arg-max class of each row of `logits` (`[n, classes]`), computed on
/// the host so every backend agrees on ties (first wins).
pub(crate) fn predict_rows(logits: Tensor<2>) -> Vec<u32> {
    let [_, classes] = logits.dims();
    let values: Vec<f32> = logits
        .into_data()
        .try_into_vec()
        .expect("logits are float tensors");
    values
        .chunks_exact(classes.max(1))
        .map(|row| crate::features::argmax(row) as u32)
        .collect()
}
