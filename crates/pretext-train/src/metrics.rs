//! The metrics log: one JSON object a line in `runs/<name>/metrics.jsonl`,
//! appended and flushed as training goes, so a crash loses at most a line.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// A line written every `log_every` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Always `"step"`.
    pub kind: String,
    /// Global optimiser step (1-based).
    pub step: usize,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Training loss of this step.
    pub loss: f32,
    /// Learning rate used for this step.
    pub lr: f64,
    /// Images per second since the previous step line (each image counted once,
    /// whatever the number of views).
    pub images_per_sec: f64,
}

/// A line written at the end of each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Always `"epoch"`.
    pub kind: String,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Global step at the end of the epoch.
    pub step: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f32,
    /// Mean loss on the validation split (no gradient), if there is one.
    pub val_loss: Option<f32>,
    /// Collapse signal: the per-dimension standard deviation of the
    /// L2-normalised validation embeddings, times `sqrt(dim)`. Near 1 for
    /// embeddings spread over the sphere, near 0 when they collapse to a point.
    pub embedding_std: Option<f32>,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Training images per second over the epoch.
    pub images_per_sec: f64,
    /// Wall-clock seconds of the epoch, validation included.
    pub seconds: f64,
}

/// An append-only JSON-lines log.
#[derive(Debug)]
pub struct MetricsLog {
    file: File,
    path: PathBuf,
}

impl MetricsLog {
    /// Opens `path` for appending, creating it if needed.
    pub fn append(path: &Path) -> Result<Self, TrainError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record as a line and flushes it.
    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        let mut line = serde_json::to_string(record).expect("records always serialise");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| TrainError::io(&self.path, e))
    }
}
