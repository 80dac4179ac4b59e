//! Errors of evaluation: each names the file or setting and the cause.
use std::path::PathBuf;

/// What can stop an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The task file is missing, malformed, or holds a bad value.
    #[error("{path}: {reason}")]
    Task {
        /// The task file.
        path: PathBuf,
        /// What was wrong (the key and the cause).
        reason: String,
    },
    /// The run cannot be evaluated (no checkpoint, unreadable config).
    #[error("{path}: {reason}")]
    Run {
        /// The run directory or the file in it.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The task's data does not fit the encoder or the budgets.
    #[error("{path}: {reason}")]
    Mismatch {
        /// The data file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] pretext_data::DataError),
    /// Loading the run's checkpoint or config failed.
    #[error(transparent)]
    Train(#[from] pretext_train::TrainError),
    /// A run file (results.json, run.json) could not be written or read.
    #[error(transparent)]
    Runs(#[from] pretext_runs::RunsError),
    /// A result or cache file could not be written or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (in the message, not `source()`, so it is printed once).
        cause: std::io::Error,
    },
}

impl EvalError {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        EvalError::Io {
            path: path.into(),
            cause,
        }
    }
}
