//! Progress callbacks, so front ends (a progress bar, a notebook) can follow a
//! run without the loop knowing about them.
use std::path::Path;

use pretext_data::Modality;

use crate::{EpochRecord, StepRecord};

/// What a run is about to do.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The run directory.
    pub run_dir: &'a Path,
    /// First epoch to run (1-based).
    pub first_epoch: usize,
    /// Last epoch.
    pub epochs: usize,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// What the samples are (`images`, `texts`).
    pub modality: Modality,
    /// Samples in the training split.
    pub train_samples: usize,
    /// Samples in the validation split.
    pub val_samples: usize,
    /// Trainable parameters of the method (encoder and heads).
    pub parameters: usize,
}

/// Receives progress as a run goes.
pub trait Observer {
    /// Before the first step.
    fn on_start(&mut self, _plan: &Plan<'_>) {}
    /// After every optimiser step.
    fn on_step(&mut self, _record: &StepRecord) {}
    /// After each epoch's validation and checkpoint.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
    /// The run's last epoch changed (a wall-clock budget decided it).
    fn on_length(&mut self, _epochs: usize) {}
    /// A note for the user (a warning, a fallback taken).
    fn on_message(&mut self, _message: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}
