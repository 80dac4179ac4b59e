//! What can go wrong while writing a report.
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A report could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The directory is not a run (the error names its `run.json`), or a
    /// run file could not be written.
    #[error(transparent)]
    Run(#[from] pretext_runs::RunsError),
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
