//! Errors of reading and writing run files: each names the file and the cause.
use std::path::PathBuf;

/// What can go wrong with a run's files.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    /// A run file could not be written or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error. Shown in the message and deliberately not
        /// exposed as `source()`, so a printed error chain names it once.
        cause: std::io::Error,
    },
    /// A run file was read but does not hold what it should.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Another process holds the run's lock.
    #[error("{path}: another pretext process is training this run (it holds {path}/lock)")]
    Busy {
        /// The run directory.
        path: PathBuf,
    },
}

impl RunsError {
    /// An [`RunsError::Io`] naming `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        RunsError::Io {
            path: path.into(),
            cause,
        }
    }
}
