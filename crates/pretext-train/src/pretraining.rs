//! What the pretraining loop needs from one kind of data (images, text) and
//! the model trained on it. The loop in `trainer.rs` is written once against
//! this trait; `setup.rs` and `text/setup.rs` implement it.
use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_data::{LoaderConfig, Modality, train_val_split};
use pretext_methods::{InputSpec, StepOutput, StepProgress, StepReplicas};

use pretext_runs::KnnReading;

use crate::{TrainConfig, TrainError};

/// Sizes of a run, derived from its experiment so a resumed run gets the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// Optimiser steps of the whole run.
    pub total_steps: usize,
    /// Samples in the training split.
    pub train_samples: usize,
    /// Samples in the validation split.
    pub val_samples: usize,
}

impl Counts {
    /// The sizes of a run of `epochs`, whose loader gives `batches_per_epoch`
    /// batches and which takes at most `max_steps_per_epoch` of them.
    pub fn new(
        train_samples: usize,
        val_samples: usize,
        batches_per_epoch: usize,
        max_steps_per_epoch: Option<usize>,
        epochs: usize,
    ) -> Self {
        let steps_per_epoch = batches_per_epoch.min(max_steps_per_epoch.unwrap_or(usize::MAX));
        Self {
            steps_per_epoch,
            total_steps: steps_per_epoch.saturating_mul(epochs),
            train_samples,
            val_samples,
        }
    }
}

/// The training and validation indices of `samples` samples
/// (`train.val_fraction` held out, drawn by `seed`), refusing a training
/// split smaller than one batch. `source` names the data in the error and
/// `items` its samples (`images`, `documents`).
pub(crate) fn split_for_training(
    samples: usize,
    t: &TrainConfig,
    seed: u64,
    source: &Path,
    items: &str,
) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    let (train, val) = train_val_split(samples, t.val_fraction, seed);
    if train.len() < t.batch_size {
        return Err(TrainError::Config {
            path: source.to_path_buf(),
            reason: format!(
                "train.batch_size ({}) is larger than the training split ({} {items})",
                t.batch_size,
                train.len()
            ),
        });
    }
    Ok((train, val))
}

/// The training and validation loaders of a run and its sizes.
/// `loader(indices, settings)` builds a loader of `train.batch_size`,
/// seeded by `seed`: the training one shuffled, dropping a last partial
/// batch; the validation one in order, and none for a validation split of
/// one sample (a batch of one breaks batch statistics).
pub(crate) fn loaders<L>(
    (train, val): (Vec<usize>, Vec<usize>),
    t: &TrainConfig,
    seed: u64,
    loader: impl Fn(Vec<usize>, LoaderConfig) -> L,
) -> (L, Option<L>, Counts) {
    let settings = |shuffle: bool| LoaderConfig {
        batch_size: t.batch_size,
        shuffle,
        drop_last: shuffle,
        seed,
        prefetch: 2,
    };
    let (train_samples, val_samples) = (train.len(), val.len());
    let counts = Counts::new(
        train_samples,
        val_samples,
        settings(true).batches_per_epoch(train_samples),
        t.max_steps_per_epoch,
        t.epochs,
    );
    let train_loader = loader(train, settings(true));
    let val_loader = (val_samples >= 2).then(|| loader(val, settings(false)));
    (train_loader, val_loader, counts)
}

/// Batches and a forward pass for one modality.
pub(crate) trait Pretraining {
    /// The method being pretrained (encoder and heads).
    type Model: Module;
    /// One batch as the data side assembles it (host buffers).
    type Batch;
    /// What the samples are, for the words logs use.
    const MODALITY: Modality;

    /// Sizes of the run.
    fn counts(&self) -> Counts;

    /// The training batches of `epoch` (the loop takes `steps_per_epoch`).
    fn train_batches(&self, epoch: usize) -> Box<dyn Iterator<Item = Self::Batch> + '_>;

    /// The validation batches, the same every epoch; `None` without a
    /// validation split.
    fn val_batches(&self) -> Option<Box<dyn Iterator<Item = Self::Batch> + '_>>;

    /// Samples in a batch.
    fn batch_len(batch: &Self::Batch) -> usize;

    /// Moves the batch to `device` and runs the method on it.
    fn forward(model: &Self::Model, batch: Self::Batch, device: &Device) -> StepOutput;

    /// Moves the batch to the first replica's device and runs the method with
    /// the batch split over the replicas (data-parallel). Only called with
    /// several replicas for a modality that supports it (images).
    fn forward_replicated(
        replicas: StepReplicas<'_, Self::Model>,
        batch: Self::Batch,
    ) -> StepOutput;

    /// The update after each optimiser step (momentum targets, queues).
    fn after_step(
        model: Self::Model,
        keys: Option<Tensor<2>>,
        progress: StepProgress,
    ) -> Self::Model;

    /// Writes into a new run's directory `run` what a resume needs besides
    /// the checkpoint (a text run's tokenizer); nothing by default.
    fn save_into(&self, _run: &Path) -> Result<(), TrainError> {
        Ok(())
    }

    /// The input the encoder is trained on, recorded in checkpoints (images:
    /// shape and normalisation; text: `None`, the run's tokenizer says it).
    fn input(&self) -> Option<InputSpec>;

    /// One line on the accuracy monitor (what it scores, or why it is off);
    /// `None` where there is nothing to say.
    fn monitor_note(&self) -> Option<String> {
        None
    }

    /// The accuracy monitor's readings after `epoch` of `last`, with `model`
    /// in inference mode; `None` when it does not score this epoch.
    fn score_monitor(
        &self,
        _model: &Self::Model,
        _epoch: usize,
        _last: usize,
        _device: &Device,
    ) -> Option<Vec<KnnReading>> {
        None
    }
}
