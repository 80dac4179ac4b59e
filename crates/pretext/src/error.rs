//! Errors of the facade: loading, embedding and exporting encoders.
use std::path::PathBuf;

/// What can go wrong when using a pretrained encoder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run, its checkpoint or its experiment could not be used.
    #[error(transparent)]
    Eval(#[from] pretext_eval::EvalError),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] pretext_data::DataError),
    /// An image does not fit the encoder, or could not be decoded.
    #[error("{what}: {reason}")]
    Image {
        /// The file, or `image <i>` for images passed in memory.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// An exported encoder could not be written or read.
    #[error("{path}: {reason}")]
    Export {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The run's latest checkpoint is damaged, and a strict load refuses
    /// the older one.
    #[error("{reason}; refused (strict)")]
    Stale {
        /// Why the latest checkpoint was passed over.
        reason: String,
    },
    /// A file could not be written or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }

    pub(crate) fn export(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Export {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}
