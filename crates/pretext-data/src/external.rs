//! Datasets pretext reads but does not ship: their licenses keep them out of
//! the repository, so they live on the user's disk. The one registry of
//! them, [`EXTERNAL_DATASETS`], lets a missing file be named ("SST-2
//! phrases: not found at …; see docs/guide/data.md") and lets the project's
//! tests find them ([`test_data`]) or skip loudly where they are absent.
//!
//! Where they are looked for, in order: the folder named by the environment
//! variable [`DATA_ENV`] (`PRETEXT_DATA`), else `../shared/datasets` beside
//! the checkout. Shipped experiments name their paths relative to the
//! experiment file (`../../shared/datasets/...`); docs/guide/data.md says how
//! to point them elsewhere.
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// The environment variable naming the folder that holds the external
/// datasets, laid out as in [`EXTERNAL_DATASETS`].
pub const DATA_ENV: &str = "PRETEXT_DATA";

/// The environment variable that turns a test's missing external dataset
/// from a loud skip into a failure (`.ci/run` sets it).
pub const REQUIRE_DATA_ENV: &str = "PRETEXT_REQUIRE_DATA";

/// The page that says where each dataset comes from and how to lay it out.
pub const DATA_GUIDE: &str = "docs/guide/data.md";

/// One dataset that is read from the user's disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalDataset {
    /// Its name, as errors and skip lines say it.
    pub name: &'static str,
    /// Its folder under the datasets folder, `/`-separated.
    pub folder: &'static str,
    /// Where to get it, in a few words.
    pub origin: &'static str,
}

/// Every dataset pretext's experiments or tests read from outside the
/// repository: one line each.
pub const EXTERNAL_DATASETS: &[ExternalDataset] = &[
    ExternalDataset {
        name: "SST-2 phrases",
        folder: "text/sst2-phrases",
        origin: "GLUE SST-2 (train.tsv, dev.tsv, test.tsv)",
    },
    ExternalDataset {
        name: "Kim-2014 sentence sets",
        folder: "text/sentences",
        origin: "SST-2/5, TREC, MR, Subj, CR, MPQA as LABEL TEXT lines",
    },
    ExternalDataset {
        name: "SMS Spam Collection",
        folder: "text/sms-spam",
        origin: "UCI SMS Spam Collection (SMSSpamCollection)",
    },
    ExternalDataset {
        name: "IMDB reviews",
        folder: "text/imdb",
        origin: "Large Movie Review Dataset v1.0 (aclImdb.tar.gz, extracted)",
    },
    ExternalDataset {
        name: "BBC News",
        folder: "text/bbc-news",
        origin: "Greene & Cunningham 2006 (bbc.tar.gz, extracted)",
    },
    ExternalDataset {
        name: "CIFAR-10 (JPEG class folders)",
        folder: "cifar10-jpeg",
        origin: "CIFAR-10 as train/<class>/*.jpg and test/<class>/*.jpg",
    },
    ExternalDataset {
        name: "Fashion-MNIST",
        folder: "fashion-mnist",
        origin: "apt-get install dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)",
    },
];

/// The external dataset `path` lies in, recognised by its folder's names
/// appearing in order among the path's components
/// (`…/text/sst2-phrases/train.tsv` is the SST-2 phrases).
pub fn recognise(path: &Path) -> Option<&'static ExternalDataset> {
    let names: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    EXTERNAL_DATASETS.iter().find(|d| {
        let folder: Vec<&str> = d.folder.split('/').collect();
        names.windows(folder.len()).any(|w| w == folder.as_slice())
    })
}

/// The folder holding the external datasets: `$PRETEXT_DATA` if set, else
/// `default`.
pub fn datasets_root(default: &Path) -> PathBuf {
    match std::env::var_os(DATA_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default.to_path_buf(),
    }
}

/// For tests: the file `rel` (`text/sst2-phrases/train.tsv`) under the
/// datasets folder ([`datasets_root`] of the checkout's
/// `../shared/datasets`), or `None` where it is absent.
///
/// Absent, it prints one line per dataset and process, past the test
/// harness's capture so that `cargo test` shows it, naming the missing path
/// and how to get the data; the caller then returns early. With
/// [`REQUIRE_DATA_ENV`] set, absence panics instead.
pub fn test_data(rel: &str) -> Option<PathBuf> {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let root = datasets_root(&default);
    let path = root.join(rel);
    if path.exists() {
        return Some(path);
    }
    let dataset = recognise(Path::new(rel));
    let name = dataset.map_or(rel, |d| d.name);
    let origin = dataset.map_or("", |d| d.origin);
    assert!(
        std::env::var_os(REQUIRE_DATA_ENV).is_none(),
        "{REQUIRE_DATA_ENV} is set but {name} is not at {} ({origin}; see {DATA_GUIDE})",
        path.display()
    );
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|s| s == name) {
        said.push(name.to_string());
        // Written to the stream itself, not through `eprintln!`, which the
        // test harness captures and hides for tests that pass.
        let _ = writeln!(
            std::io::stderr(),
            "skipping the tests that read {name}: not found at {} ({origin}; set {DATA_ENV} \
             to the folder holding it, see {DATA_GUIDE})",
            path.display()
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_a_dataset_by_its_folder_anywhere_in_the_path() {
        let sst = recognise(Path::new(
            "experiments/../../shared/datasets/text/sst2-phrases/train.tsv",
        ))
        .unwrap();
        assert_eq!(sst.name, "SST-2 phrases");
        let fashion = recognise(Path::new(
            "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
        ))
        .unwrap();
        assert_eq!(fashion.name, "Fashion-MNIST");
        // Both names must appear, in order and side by side.
        assert_eq!(recognise(Path::new("text/other/sst2-phrases.tsv")), None);
        assert_eq!(recognise(Path::new("sst2-phrases/text/a.tsv")), None);
        assert_eq!(
            recognise(Path::new("datasets/mnist/train-images-idx3-ubyte.gz")),
            None
        );
    }

    #[test]
    fn every_folder_is_named_once() {
        for (i, a) in EXTERNAL_DATASETS.iter().enumerate() {
            for b in &EXTERNAL_DATASETS[i + 1..] {
                assert_ne!(a.folder, b.folder);
                assert_ne!(a.name, b.name);
            }
        }
    }
}
