//! Fine-tuning a text encoder under a linear head on few labels, and the
//! supervised-from-scratch baseline: the same procedure from a random
//! initialisation (same architecture, batches, steps and early stopping,
//! every layer at the head's learning rate). Dropout is the only noise.
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::LoaderConfig;
use pretext_data::text::{TextBatch, TextLoader};
use pretext_nn::ClassifierHead;
use pretext_nn::text::{TextEncoder, Tokens};

use crate::finetune_loop::{Labelled, Part};
use crate::outcome::predict_rows;
use crate::side::Texts;
use crate::text::embed::by_length;

/// The labelled documents one fine-tuning sees, as token ids.
pub struct LabelledTexts<'a> {
    /// Token ids of the labelled pool.
    pub pool: &'a Arc<Vec<Vec<u32>>>,
    /// Labels of the pool.
    pub labels: &'a Arc<Vec<u32>>,
    /// Pool indices of the training labels.
    pub train: &'a [usize],
    /// Pool indices of the validation labels.
    pub val: &'a [usize],
    /// Token ids of the test set.
    pub test: &'a [Vec<u32>],
    /// Number of classes.
    pub classes: usize,
}

impl Labelled for LabelledTexts<'_> {
    type Side = Texts;
    type Loader = TextLoader;
    type Batch = TextBatch;

    fn classes(&self) -> usize {
        self.classes
    }

    fn train(&self) -> &[usize] {
        self.train
    }

    fn val_labels(&self) -> Vec<u32> {
        self.val.iter().map(|&i| self.labels[i]).collect()
    }

    fn loader(&self, settings: LoaderConfig) -> Result<TextLoader, String> {
        Ok(TextLoader::new(
            self.pool.clone(),
            Some(self.labels.clone()),
            self.train.to_vec(),
            settings,
        ))
    }

    fn epoch(loader: &TextLoader, epoch: usize) -> impl Iterator<Item = TextBatch> + '_ {
        loader.epoch(epoch)
    }

    fn step(
        encoder: &TextEncoder,
        head: &ClassifierHead,
        batch: TextBatch,
        device: &Device,
    ) -> (Tensor<2>, Vec<u32>) {
        let labels = batch.labels.clone().expect("the labelled pool has labels");
        let c = batch.clean;
        let x = Tokens::from_host(c.ids, c.mask, c.shape, device); // [b, l]
        (head.forward(encoder.forward(&x)), labels)
    }

    fn predict(
        &self,
        encoder: &TextEncoder,
        head: &ClassifierHead,
        part: Part,
        device: &Device,
    ) -> Vec<u32> {
        match part {
            Part::Val => predict_texts(encoder, head, self.pool, self.val, device),
            Part::Test => {
                let all: Vec<usize> = (0..self.test.len()).collect();
                predict_texts(encoder, head, self.test, &all, device)
            }
        }
    }
}

/// Predicted classes of the sequences `indices` of `tokens`, in order.
fn predict_texts(
    encoder: &TextEncoder,
    head: &ClassifierHead,
    tokens: &[Vec<u32>],
    indices: &[usize],
    device: &Device,
) -> Vec<u32> {
    let mut predictions = vec![0u32; indices.len()];
    by_length(tokens, indices, device, |x, rows| {
        for (p, class) in rows
            .iter()
            .zip(predict_rows(head.forward(encoder.forward(&x))))
        {
            predictions[*p] = class;
        }
    });
    predictions
}
