//! What can go wrong while writing a report.
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A report could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The directory is not a run.
    #[error("{path}: {reason}")]
    Run {
        /// The run directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A figure could not be drawn.
    #[error("{path}: cannot draw figure: {reason}")]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl ReportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
