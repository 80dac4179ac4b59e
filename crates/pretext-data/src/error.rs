//! Errors of the data crate: each names the file and what was wrong with it.
use std::path::PathBuf;

/// What can go wrong while reading or preparing data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error. Shown in the message and deliberately not
        /// exposed as `source()`, so a printed error chain names it once.
        cause: std::io::Error,
    },
    /// A file of a dataset pretext does not ship is not there
    /// ([`crate::external`]): the message names the dataset and the page
    /// that says where it comes from.
    #[error("{}: not found at {}; see {}", dataset.name, path.display(), crate::external::DATA_GUIDE)]
    Unavailable {
        /// The dataset the path lies in.
        dataset: &'static crate::external::ExternalDataset,
        /// The path that is missing.
        path: PathBuf,
    },
    /// The file was read but its content is not what its format requires.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong, lowercase, no final period.
        reason: String,
    },
    /// A setting is out of range or inconsistent with the data.
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    /// A format error for `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DataError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// An I/O error for `path`; a missing file of a dataset pretext does not
    /// ship becomes [`DataError::Unavailable`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound
            && let Some(dataset) = crate::external::recognise(&path)
        {
            return DataError::Unavailable { dataset, path };
        }
        DataError::Io {
            path,
            cause: source,
        }
    }
}
