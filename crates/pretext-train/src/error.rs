//! Errors of the training crate: each names the file or key and the cause.
use std::path::PathBuf;

/// What can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The run would need more memory than the budget allows; the message
    /// names the section or key, the estimate and the budget.
    #[error("{0}")]
    TooLarge(String),
    /// The experiment file is missing, malformed, or holds a bad value.
    #[error("{path}: {reason}")]
    Config {
        /// The experiment file.
        path: PathBuf,
        /// What was wrong (the key and the cause).
        reason: String,
    },
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] pretext_data::DataError),
    /// A run file could not be written or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error. Shown in the message and deliberately not
        /// exposed as `source()`, so a printed error chain names it once.
        cause: std::io::Error,
    },
    /// A checkpoint could not be written or read.
    #[error("{path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A run file (run.json, metrics.jsonl, the resolved config) could
    /// not be written or read, or another process trains the run.
    #[error(transparent)]
    Run(#[from] pretext_runs::RunsError),
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at step {step} (epoch {epoch}); {kept}; try a lower train.optimizer.lr or gradient clipping (train.grad_clip)"
    )]
    Diverged {
        /// The global step.
        step: usize,
        /// The epoch.
        epoch: usize,
        /// The loss value.
        value: f32,
        /// What was kept: `the checkpoint of epoch 3 is kept, resume from it
        /// with --resume` or `no checkpoint was written yet`.
        kept: String,
    },
    /// The devices cannot run this experiment.
    #[error("--devices: {reason}")]
    Devices {
        /// Why.
        reason: String,
    },
    /// A device stopped answering during training (a remote worker that
    /// went away).
    #[error("a device stopped answering ({reason}); {kept}")]
    DeviceLost {
        /// burn's message.
        reason: String,
        /// What was kept (as for [`TrainError::Diverged`]).
        kept: String,
    },
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            cause: source,
        }
    }
}
