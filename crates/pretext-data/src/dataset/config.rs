//! Which dataset to read, as it is written in an experiment file:
//!
//! ```toml
//! [data]
//! format = "idx"
//! images = "datasets/mnist/train-images-idx3-ubyte.gz"
//! labels = "datasets/mnist/train-labels-idx1-ubyte.gz"
//! limit = 10000
//! ```
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::FolderOptions;
use super::{ImageDataset, cifar, digits, folder, idx, stl10};
use crate::DataError;
use crate::settings::yes;

/// A dataset on disk and the format it is stored in. Unknown keys are errors.
///
/// Every variant takes `limit`: keep only the first `limit` images (the rest
/// is not read where the format allows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum DatasetConfig {
    /// IDX files: MNIST, Fashion-MNIST. Gzipped or plain.
    Idx {
        /// The images file (`*-images-idx3-ubyte[.gz]`).
        images: PathBuf,
        /// The labels file (`*-labels-idx1-ubyte[.gz]`), if labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<PathBuf>,
        /// Keep the first `limit` images.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// A folder of PNG or JPEG images: `root/<class>/*.png` when labelled,
    /// `root/*.png` when not.
    ImageFolder {
        /// The folder.
        root: PathBuf,
        /// Whether images sit in one subfolder per class (default true).
        #[serde(default = "yes")]
        labelled: bool,
        /// 1 (grey) or 3 (RGB); default 3 if any image has colour, else 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channels: Option<usize>,
        /// `[height, width]` every image is resized to; without it all images
        /// must share one size.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<[u32; 2]>,
        /// Keep the first `limit` images, in sorted order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// Class folders to leave out (`["BACKGROUND_Google"]`); each must
        /// exist.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exclude: Vec<String>,
    },
    /// CIFAR-10 or CIFAR-100, binary version, one or more batch files read in order.
    Cifar {
        /// The batch files (`data_batch_1.bin`, ..., or `train.bin`).
        files: Vec<PathBuf>,
        /// 10 or 100 (default 10); CIFAR-100 keeps the fine label.
        #[serde(default = "ten")]
        classes: usize,
        /// Keep the first `limit` images.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// STL-10, binary version: 96x96 RGB.
    Stl10 {
        /// The images file (`train_X.bin`, `unlabeled_X.bin`, ...).
        images: PathBuf,
        /// The labels file (`train_y.bin`), absent for the unlabelled split.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<PathBuf>,
        /// Keep the first `limit` images.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// scikit-learn's 8x8 digits as CSV (gzipped or plain): 64 pixels in
    /// 0..=16, then the label.
    DigitsCsv {
        /// The CSV file.
        path: PathBuf,
        /// Keep the first `limit` images.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
}

fn ten() -> usize {
    10
}

impl DatasetConfig {
    /// The same config with every relative path joined onto `base`
    /// (absolute paths are kept as they are) and, where the file exists,
    /// made canonical (`a/b/../c` reads `a/c` in messages and run configs).
    pub fn resolved(&self, base: &Path) -> Self {
        let at = |p: &PathBuf| {
            let joined = base.join(p); // `join` keeps an absolute `p` as is
            std::fs::canonicalize(&joined).unwrap_or(joined)
        };
        let mut out = self.clone();
        match &mut out {
            DatasetConfig::Idx { images, labels, .. }
            | DatasetConfig::Stl10 { images, labels, .. } => {
                *images = at(images);
                *labels = labels.as_ref().map(at);
            }
            DatasetConfig::ImageFolder { root, .. } => *root = at(root),
            DatasetConfig::Cifar { files, .. } => *files = files.iter().map(at).collect(),
            DatasetConfig::DigitsCsv { path, .. } => *path = at(path),
        }
        out
    }

    /// Reads the dataset; relative paths are resolved against `base` (the
    /// directory of the experiment file, or the working directory).
    pub fn load(&self, base: &Path) -> Result<ImageDataset, DataError> {
        if self.limit() == Some(0) {
            return Err(DataError::Invalid(
                "`limit` must be at least 1, got 0".into(),
            ));
        }
        match self.resolved(base) {
            DatasetConfig::Idx {
                images,
                labels,
                limit,
            } => idx::load(&images, labels.as_deref(), limit),
            DatasetConfig::ImageFolder {
                root,
                labelled,
                channels,
                size,
                limit,
                exclude,
            } => folder::load(
                &root,
                &FolderOptions {
                    labelled,
                    channels,
                    size,
                    limit,
                    exclude,
                },
            ),
            DatasetConfig::Cifar {
                files,
                classes,
                limit,
            } => cifar::load(&files, classes, limit),
            DatasetConfig::Stl10 {
                images,
                labels,
                limit,
            } => stl10::load(&images, labels.as_deref(), limit),
            DatasetConfig::DigitsCsv { path, limit } => digits::load(&path, limit),
        }
    }

    /// The dataset a path points to, by its form: a folder is an image
    /// folder (labelled when it holds subfolders); `*idx3-ubyte[.gz]` is IDX,
    /// with the labels file beside it (`images` → `labels`, `idx3` → `idx1`)
    /// when there is one; `*.bin` is a CIFAR batch; `*.csv[.gz]` the digits.
    pub fn from_path(path: &Path) -> Result<Self, DataError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if path.is_dir() {
            let folders: Vec<PathBuf> = super::folder::sorted_entries(path)?
                .into_iter()
                .filter(|p| p.is_dir())
                .collect();
            // Advice in the words of a command line, not of an experiment's keys.
            if let [one] = folders.as_slice() {
                return Err(DataError::format(
                    path,
                    format!(
                        "holds one class folder ({}): labels need two classes or more; give {} itself to read its images without labels",
                        super::folder::file_name(one),
                        one.display()
                    ),
                ));
            }
            let labelled = !folders.is_empty();
            return Ok(DatasetConfig::ImageFolder {
                root: path.to_path_buf(),
                labelled,
                channels: None,
                size: None,
                limit: None,
                exclude: Vec::new(),
            });
        }
        if !path.exists() {
            return Err(DataError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
            ));
        }
        if name.contains("idx3-ubyte") {
            let labels =
                path.with_file_name(name.replace("images", "labels").replace("idx3", "idx1"));
            return Ok(DatasetConfig::Idx {
                images: path.to_path_buf(),
                labels: (labels != path && labels.is_file()).then_some(labels),
                limit: None,
            });
        }
        if name.ends_with(".bin") {
            return Ok(DatasetConfig::Cifar {
                files: vec![path.to_path_buf()],
                classes: 10,
                limit: None,
            });
        }
        if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            return Ok(DatasetConfig::DigitsCsv {
                path: path.to_path_buf(),
                limit: None,
            });
        }
        Err(DataError::format(
            path,
            "cannot tell the format: give an image folder, an `*idx3-ubyte[.gz]` file, a CIFAR `.bin` batch or a digits `.csv[.gz]`",
        ))
    }

    /// The number of images to keep, if limited.
    pub fn limit(&self) -> Option<usize> {
        match self {
            DatasetConfig::Idx { limit, .. }
            | DatasetConfig::ImageFolder { limit, .. }
            | DatasetConfig::Cifar { limit, .. }
            | DatasetConfig::Stl10 { limit, .. }
            | DatasetConfig::DigitsCsv { limit, .. } => *limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error, MapDeserializer};

    const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    #[test]
    fn a_path_names_its_format() {
        let mnist = Path::new(REPO).join("datasets/mnist/t10k-images-idx3-ubyte.gz");
        match DatasetConfig::from_path(&mnist).unwrap() {
            DatasetConfig::Idx {
                labels: Some(l), ..
            } => {
                assert!(l.ends_with("t10k-labels-idx1-ubyte.gz"), "{}", l.display())
            }
            other => panic!("{other:?}"),
        }
        let digits = Path::new(REPO).join("datasets/digits/digits.csv.gz");
        assert!(matches!(
            DatasetConfig::from_path(&digits).unwrap(),
            DatasetConfig::DigitsCsv { .. }
        ));
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            DatasetConfig::from_path(tmp.path()).unwrap(),
            DatasetConfig::ImageFolder {
                labelled: false,
                ..
            }
        ));
        std::fs::create_dir(tmp.path().join("cats")).unwrap();
        let one = DatasetConfig::from_path(tmp.path())
            .unwrap_err()
            .to_string();
        assert!(one.contains("one class folder (cats)"), "{one}");
        std::fs::create_dir(tmp.path().join("dogs")).unwrap();
        assert!(matches!(
            DatasetConfig::from_path(tmp.path()).unwrap(),
            DatasetConfig::ImageFolder { labelled: true, .. }
        ));
        let odd = tmp.path().join("notes.txt");
        std::fs::write(&odd, "x").unwrap();
        let e = DatasetConfig::from_path(&odd).unwrap_err().to_string();
        assert!(
            e.contains("notes.txt") && e.contains("cannot tell the format"),
            "{e}"
        );
        assert!(DatasetConfig::from_path(&tmp.path().join("absent")).is_err());
    }

    /// Deserializes a config from string keys and values, as a TOML table would give.
    fn from_pairs(pairs: &[(&'static str, &'static str)]) -> Result<DatasetConfig, Error> {
        let map = MapDeserializer::<_, Error>::new(pairs.iter().copied());
        DatasetConfig::deserialize(map)
    }

    #[test]
    fn known_keys_parse_and_defaults_apply() {
        let config = from_pairs(&[("format", "image_folder"), ("root", "data/pets")]).unwrap();
        assert_eq!(
            config,
            DatasetConfig::ImageFolder {
                root: "data/pets".into(),
                labelled: true,
                channels: None,
                size: None,
                limit: None,
                exclude: Vec::new(),
            }
        );
        let config =
            from_pairs(&[("format", "idx"), ("images", "a.gz"), ("labels", "b.gz")]).unwrap();
        assert_eq!(
            config,
            DatasetConfig::Idx {
                images: "a.gz".into(),
                labels: Some("b.gz".into()),
                limit: None,
            }
        );
        let config = from_pairs(&[("format", "digits_csv"), ("path", "d.csv")]).unwrap();
        assert_eq!(config.limit(), None);
    }

    #[test]
    fn unknown_keys_and_formats_are_rejected() {
        let err =
            from_pairs(&[("format", "idx"), ("images", "a.gz"), ("lables", "b.gz")]).unwrap_err();
        assert!(err.to_string().contains("unknown field `lables`"), "{err}");
        let err =
            from_pairs(&[("format", "stl10"), ("images", "x.bin"), ("size", "9")]).unwrap_err();
        assert!(err.to_string().contains("unknown field `size`"), "{err}");
        let err = from_pairs(&[("format", "png"), ("images", "a")]).unwrap_err();
        assert!(err.to_string().contains("unknown variant `png`"), "{err}");
        assert!(from_pairs(&[("images", "a")]).is_err());
    }

    #[test]
    fn relative_paths_resolve_against_base() {
        let config = DatasetConfig::Idx {
            images: "datasets/mnist/t10k-images-idx3-ubyte.gz".into(),
            labels: Some("datasets/mnist/t10k-labels-idx1-ubyte.gz".into()),
            limit: Some(3),
        };
        let data = config.load(Path::new(REPO)).unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data.label(0), Some(7));
        let digits = DatasetConfig::DigitsCsv {
            path: Path::new(REPO).join("datasets/digits/digits.csv.gz"),
            limit: Some(10),
        };
        // An absolute path ignores the base.
        assert_eq!(digits.load(Path::new("/nonexistent")).unwrap().len(), 10);
        let err = config
            .load(Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/nonexistent/datasets/mnist/t10k-images"),
            "{err}"
        );
    }

    #[test]
    fn zero_limit_is_invalid() {
        let config = DatasetConfig::DigitsCsv {
            path: "d.csv".into(),
            limit: Some(0),
        };
        let err = config.load(Path::new(".")).unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)), "{err}");
    }
}
