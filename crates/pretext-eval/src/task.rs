//! An evaluation task is a TOML file: a labelled pool the heads learn from, a
//! test set scored once per head, the label budgets and seeds, which heads
//! and baselines to run, and their settings. One [`Task`] type serves images
//! ([`TaskConfig`]) and text ([`TextTaskConfig`]); what differs between them
//! is the [`Side`].
//!
//! ```toml
//! name = "mnist"
//! budgets = ["1/class", "10/class", "100/class", "all"]
//! seeds = 3
//! [train]
//! format = "idx"
//! images = "../../datasets/mnist/train-images-idx3-ubyte.gz"
//! labels = "../../datasets/mnist/train-labels-idx1-ubyte.gz"
//! [test]
//! format = "idx"
//! images = "../../datasets/mnist/t10k-images-idx3-ubyte.gz"
//! labels = "../../datasets/mnist/t10k-labels-idx1-ubyte.gz"
//! ```
use std::path::{Path, PathBuf};

use pretext_data::{ImageDataset, LabelBudget, Modality, Readout, stratified_test_split};
use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::finetune::FinetuneConfig;
use crate::kmeans::KmeansConfig;
use crate::knn::KnnConfig;
use crate::linear::LinearProbeConfig;
use crate::mlp::MlpHeadConfig;
use crate::side::{Images, Side, Texts};
use crate::text::{LsaConfig, TfidfConfig};

/// A head trained or fitted on frozen features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// Multinomial logistic regression.
    Linear,
    /// Weighted k nearest neighbours (one result per k).
    Knn,
    /// One hidden layer with dropout.
    Mlp,
    /// The encoder unfrozen under a linear head.
    Finetune,
}

/// A baseline every pretrained result is compared with, on the same labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The frozen-feature heads on the normalised pixels.
    RawPixels,
    /// The frozen-feature heads on a randomly initialised encoder.
    RandomInit,
    /// The same architecture trained from scratch on the labels (fine-tuning
    /// a random initialisation, same augmentations and steps).
    Supervised,
    /// Text only: TF-IDF of word unigrams and bigrams with logistic
    /// regression, fitted on the same labels.
    Tfidf,
    /// Image only: the frozen-feature heads on single-layer k-means features
    /// (Coates, Lee and Ng 2011), fitted on the pool's images (`[kmeans]`).
    Kmeans,
    /// Text only: the frozen-feature heads on LSA features (truncated SVD of
    /// the TF-IDF rows), fitted on the pool's documents without their labels
    /// (`[lsa]`).
    Lsa,
}

impl Baseline {
    /// Every baseline, in the order a task file's error lists them.
    pub const ALL: [Baseline; 6] = [
        Baseline::RawPixels,
        Baseline::Kmeans,
        Baseline::Tfidf,
        Baseline::Lsa,
        Baseline::RandomInit,
        Baseline::Supervised,
    ];

    /// Its name in task files (`raw_pixels`, `lsa`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Baseline::RawPixels => "raw_pixels",
            Baseline::RandomInit => "random_init",
            Baseline::Supervised => "supervised",
            Baseline::Tfidf => "tfidf",
            Baseline::Kmeans => "kmeans",
            Baseline::Lsa => "lsa",
        }
    }

    /// Whether a task on `modality` can compare with it: the pixel and
    /// k-means baselines are for images, TF-IDF and LSA for text, the rest
    /// for both.
    pub fn applies_to(self, modality: Modality) -> bool {
        match self {
            Baseline::RawPixels | Baseline::Kmeans => modality == Modality::Image,
            Baseline::Tfidf | Baseline::Lsa => modality == Modality::Text,
            Baseline::RandomInit | Baseline::Supervised => true,
        }
    }
}

/// The error of a task on `modality` that names `baseline`, which is for the
/// other kind of data: it lists those the task can take.
fn other_kind(baseline: Baseline, modality: Modality) -> String {
    let (article, kind, other) = match modality {
        Modality::Image => ("a", "text", "image"),
        Modality::Text => ("an", "image", "text"),
    };
    let takes: Vec<&str> = Baseline::ALL
        .iter()
        .filter(|b| b.applies_to(modality))
        .map(|b| b.key())
        .collect();
    let (last, rest) = takes
        .split_last()
        .expect("both baselines apply to every task");
    format!(
        "baselines: {} is {article} {kind} baseline; {other} tasks take {} and {last}",
        baseline.key(),
        rest.join(", ")
    )
}

/// Everything one evaluation needs besides the run: the task file, for
/// images ([`TaskConfig`]) or text ([`TextTaskConfig`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Task<M: Side> {
    /// The task's name, used in result tables: results go to
    /// `<run>/eval/<name>/`.
    pub name: String,
    /// The labelled pool: budgets draw the heads' training and validation
    /// labels from it.
    pub train: M::Data,
    /// The test set, never seen before the final score. When absent,
    /// `test_fraction` of the pool is held out instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<M::Data>,
    /// Without `test`: the share of the pool held out as the test set
    /// (of each class, for images), drawn by `seed` (default 0.2); never
    /// drawn for training or validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// Label budgets (`"10/class"`, `"1%"`, `"all"`).
    #[serde(default = "M::default_budgets")]
    pub budgets: Vec<LabelBudget>,
    /// Number of seeds per budget: each draws other labels and initialises
    /// heads differently; results are reported as mean ± std.
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// The first seed; seeds are `seed, seed + 1, …`.
    #[serde(default)]
    pub seed: u64,
    /// Heads to run on the pretrained encoder.
    #[serde(default = "M::default_heads")]
    pub heads: Vec<Head>,
    /// Baselines to run with the same heads and labels.
    #[serde(default = "M::default_baselines")]
    pub baselines: Vec<Baseline>,
    /// Linear-probe settings.
    #[serde(default)]
    pub linear: LinearProbeConfig,
    /// kNN settings.
    #[serde(default)]
    pub knn: KnnConfig,
    /// MLP-head settings.
    #[serde(default)]
    pub mlp: MlpHeadConfig,
    /// Fine-tuning (and supervised-baseline) settings.
    #[serde(default)]
    pub finetune: FinetuneConfig<M>,
    /// Images: settings of the k-means baseline (used when `baselines` has
    /// `kmeans`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub kmeans: KmeansConfig,
    /// Text: settings of the TF-IDF baseline (used when `baselines` has
    /// `tfidf`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub tfidf: TfidfConfig,
    /// Text: settings of the LSA baseline (used when `baselines` has `lsa`;
    /// its vectoriser is `[tfidf]`'s).
    #[serde(default, skip_serializing_if = "is_default")]
    pub lsa: LsaConfig,
    /// Images: the frozen heads' features (linear, kNN, MLP), for the
    /// pretrained and the random encoder alike (`[readout]`: `grid`,
    /// `stages`): the default is the encoder's embedding. Convolutional
    /// encoders only; fine-tuning always trains on the embedding.
    #[serde(default, skip_serializing_if = "Readout::is_embedding")]
    pub readout: Readout,
    /// The directory relative data paths are read from; not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file the task was read from; not part of the file.
    #[serde(skip)]
    pub path: PathBuf,
    /// The `key=value` overrides it was read with (`--set`); not part of
    /// the file.
    #[serde(skip)]
    pub overrides: Vec<String>,
}

/// An image task (`experiments/tasks/mnist.toml`).
pub type TaskConfig = Task<Images>;

/// A text task (`experiments/tasks/trec.toml`): the test set is a file, or
/// a seeded share of the pool when the set comes as one file, as MR, Subj
/// and CR do.
pub type TextTaskConfig = Task<Texts>;

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A task's labelled images: the pool and the test set, the test labels
/// expressed in the pool's classes.
#[derive(Debug)]
pub struct TaskImages {
    /// The labelled pool budgets draw from.
    pub pool: ImageDataset,
    /// The test set.
    pub test: ImageDataset,
    /// How the test set was held out of the pool (`"held out 0.2, seed
    /// 0"`), or `None` when it is the task's test data.
    pub held_out: Option<String>,
}

/// The share of each class held out as the test set by default.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

/// A task's name names its folder under `<run>/eval/`, beside `cache/`.
pub(crate) fn check_task_name(name: &str) -> Result<(), String> {
    pretext_train::check_name("name", name)?;
    if name == "cache" {
        return Err("name must not be `cache`, the folder of cached embeddings".into());
    }
    Ok(())
}

fn default_seeds() -> usize {
    3
}

impl<M: Side> Task<M> {
    /// Reads a task file and applies `key=value` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_toml(&text, path, overrides)
    }

    /// Like [`Task::load`], from text; `path` names it in messages and
    /// gives the base directory of relative data paths.
    pub fn from_toml(text: &str, path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let err = |reason: String| EvalError::Task {
            path: path.to_path_buf(),
            reason,
        };
        let mut task: Task<M> =
            pretext_train::from_toml_with_overrides(text, overrides).map_err(err)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::path::absolute(&base).unwrap_or(base);
        task.train = M::resolved(task.train, &base);
        task.test = task.test.map(|t| M::resolved(t, &base));
        task.base_dir = base;
        task.path = path.to_path_buf();
        task.overrides = overrides.to_vec();
        task.validate().map_err(err)?;
        Ok(task)
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_task_name(&self.name)?;
        match (&self.test, self.test_fraction) {
            (Some(_), Some(_)) => {
                return Err(
                    "test_fraction holds a test set out of the pool; a task with [test] takes none"
                        .into(),
                );
            }
            (None, Some(f)) if !(f > 0.0 && f < 1.0) => {
                return Err(format!(
                    "test_fraction must be above 0 and below 1, got {f}"
                ));
            }
            _ => {}
        }
        if self.budgets.is_empty() {
            return Err("budgets must not be empty".into());
        }
        if self.seeds == 0 {
            return Err("seeds must be at least 1, got 0".into());
        }
        if self.heads.is_empty() {
            return Err("heads must not be empty".into());
        }
        if let Some(&b) = self.baselines.iter().find(|b| !b.applies_to(M::MODALITY)) {
            return Err(other_kind(b, M::MODALITY));
        }
        M::check(self)?;
        self.linear.validate()?;
        self.knn.validate()?;
        self.mlp.validate()?;
        self.finetune.validate()
    }

    /// The share of the pool held out as the test set, when the task has no
    /// test data.
    pub fn held_out_fraction(&self) -> Option<f64> {
        match self.test {
            Some(_) => None,
            None => Some(self.test_fraction.unwrap_or(DEFAULT_TEST_FRACTION)),
        }
    }

    /// The seeds of each budget.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds as u64).map(|i| self.seed + i).collect()
    }

    /// Whether a head runs on the pretrained encoder.
    pub fn runs(&self, head: Head) -> bool {
        self.heads.contains(&head)
    }

    /// Whether any head on frozen features (linear, kNN, MLP) runs.
    pub fn runs_frozen_heads(&self) -> bool {
        [Head::Linear, Head::Knn, Head::Mlp]
            .iter()
            .any(|&h| self.runs(h))
    }

    /// Whether a baseline runs.
    pub fn compares_with(&self, baseline: Baseline) -> bool {
        self.baselines.contains(&baseline)
    }

    /// The budgets fine-tuning and the supervised baseline run at: the task's
    /// `finetune.budgets`, those of `budgets` when it names none.
    pub fn finetune_budgets(&self) -> Vec<LabelBudget> {
        self.finetune
            .budgets
            .clone()
            .unwrap_or_else(|| self.budgets.clone())
    }
}

impl Task<Images> {
    /// Reads the pool and the test set: the test data with its classes
    /// matched to the pool's by name (by value where they have none), or a
    /// class-stratified `test_fraction` of the pool held out by `seed`.
    /// Both must be labelled.
    pub fn load_images(&self) -> Result<TaskImages, EvalError> {
        let unlabelled = |d: &ImageDataset| EvalError::Mismatch {
            path: d.source().to_path_buf(),
            reason: "has no labels; a task's train and test data must be labelled".into(),
        };
        let pool = self.train.load(&self.base_dir)?;
        let Some(labels) = pool.labels() else {
            return Err(unlabelled(&pool));
        };
        match &self.test {
            Some(test) => {
                let test = test.load(&self.base_dir)?;
                if test.labels().is_none() {
                    return Err(unlabelled(&test));
                }
                let test = test.with_classes(&pool.named_classes())?;
                Ok(TaskImages {
                    pool,
                    test,
                    held_out: None,
                })
            }
            None => {
                let fraction = self.test_fraction.unwrap_or(DEFAULT_TEST_FRACTION);
                let (kept, held) = stratified_test_split(labels, fraction, self.seed);
                if kept.is_empty() || held.is_empty() {
                    return Err(EvalError::Mismatch {
                        path: pool.source().to_path_buf(),
                        reason: format!(
                            "{} images leave nothing to hold out as test_fraction {fraction}",
                            pool.len()
                        ),
                    });
                }
                Ok(TaskImages {
                    test: pool.subset(&held),
                    pool: pool.subset(&kept),
                    held_out: Some(format!("held out {fraction}, seed {}", self.seed)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretext_data::DatasetConfig;

    const TASK: &str = r#"
name = "t"
[train]
format = "idx"
images = "pool.gz"
labels = "pool-labels.gz"
[test]
format = "idx"
images = "/abs/test.gz"
labels = "/abs/test-labels.gz"
"#;

    fn load(text: &str, overrides: &[&str]) -> Result<TaskConfig, String> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TaskConfig::from_toml(text, Path::new("tasks/t.toml"), &o).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_run_every_head_and_baseline_at_every_budget() {
        let t = load(TASK, &[]).unwrap();
        assert_eq!(t.budgets.len(), 7);
        assert_eq!(t.seed_list(), [0, 1, 2]);
        assert!(t.runs(Head::Finetune) && t.compares_with(Baseline::Supervised));
        assert_eq!(t.finetune_budgets(), t.budgets);
        match &t.train {
            DatasetConfig::Idx { images, .. } => {
                assert!(images.is_absolute() && images.ends_with("tasks/pool.gz"))
            }
            other => panic!("{other:?}"),
        }
        match &t.test {
            Some(DatasetConfig::Idx { images, .. }) => {
                assert_eq!(images, Path::new("/abs/test.gz"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.held_out_fraction(), None);
    }

    #[test]
    fn overrides_and_sections_set_what_runs() {
        let t = load(
            TASK,
            &[
                "budgets=[\"10/class\", \"1%\"]",
                "seeds=1",
                "heads=[\"linear\"]",
                "finetune.budgets=[\"10/class\"]",
                "knn.k=[5]",
            ],
        )
        .unwrap();
        assert_eq!(
            t.budgets,
            ["10/class".parse().unwrap(), LabelBudget::Fraction(0.01)]
        );
        assert_eq!(t.seed_list(), [0]);
        assert!(t.runs(Head::Linear) && !t.runs(Head::Knn));
        assert_eq!(t.finetune_budgets(), [LabelBudget::PerClass(10)]);
        assert_eq!(t.knn.k, [5]);
    }

    #[test]
    fn bad_values_name_the_file_and_key() {
        let e = load(TASK, &["seeds=0"]).unwrap_err();
        assert_eq!(e, "tasks/t.toml: seeds must be at least 1, got 0");
        let e = load(TASK, &["budgets=[\"ten\"]"]).unwrap_err();
        assert!(
            e.starts_with("tasks/t.toml: budgets[0]: not a label budget"),
            "{e}"
        );
        let e = load(TASK, &["heads=[\"svm\"]"]).unwrap_err();
        assert!(e.contains("heads[0]: unknown variant `svm`"), "{e}");
        let e = load(TASK, &["mlp.dropout=2"]).unwrap_err();
        assert!(e.contains("mlp.dropout must be in [0, 1)"), "{e}");
        let e = load(TASK, &["finetune.encoder_lr=0"]).unwrap_err();
        assert!(e.contains("finetune.encoder_lr must be positive"), "{e}");
        let e = load(&TASK.replace("[test]", "[tset]"), &[]).unwrap_err();
        assert!(e.contains("unknown field `tset`"), "{e}");
        let e = load(TASK, &["name=\"cache\""]).unwrap_err();
        assert!(e.contains("name must not be `cache`"), "{e}");
    }

    #[test]
    fn without_test_data_a_share_of_the_pool_is_held_out_and_checked() {
        let no_test = &TASK[..TASK.find("[test]").unwrap()];
        let t = load(no_test, &[]).unwrap();
        assert_eq!((t.test.is_none(), t.held_out_fraction()), (true, Some(0.2)));
        let t = load(no_test, &["test_fraction=0.25"]).unwrap();
        assert_eq!(t.held_out_fraction(), Some(0.25));
        for bad in ["0", "1", "1.5", "-0.1"] {
            let e = load(no_test, &[&format!("test_fraction={bad}")]).unwrap_err();
            assert!(
                e.starts_with("tasks/t.toml: test_fraction must be above 0 and below 1"),
                "{bad}: {e}"
            );
        }
        let e = load(TASK, &["test_fraction=0.2"]).unwrap_err();
        assert!(e.contains("a task with [test] takes none"), "{e}");
    }

    const TEXT_TASK: &str = r#"
name = "mr"
[train]
format = "label_text"
path = "rt-polarity.all"
"#;

    fn load_text(text: &str, overrides: &[&str]) -> Result<TextTaskConfig, String> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TextTaskConfig::from_toml(text, Path::new("tasks/mr.toml"), &o).map_err(|e| e.to_string())
    }

    #[test]
    fn a_text_task_defaults_to_the_issue_budgets_and_the_text_baselines() {
        let t = load_text(TEXT_TASK, &[]).unwrap();
        assert_eq!(t.budgets.len(), 3);
        assert_eq!(t.seed_list(), [0, 1, 2]);
        assert!(t.test.is_none());
        assert!(t.compares_with(Baseline::Tfidf) && t.compares_with(Baseline::Supervised));
        assert!(t.train.path().is_absolute());
        assert_eq!(t.held_out_fraction(), Some(0.2));
        assert_eq!((t.finetune.max_epochs, t.finetune.batch_size), (40, 32));
    }

    #[test]
    fn bad_text_task_values_name_the_file_and_key() {
        let e = load_text(TEXT_TASK, &["test_fraction=1.0"]).unwrap_err();
        assert_eq!(
            e,
            "tasks/mr.toml: test_fraction must be above 0 and below 1, got 1"
        );
        let e = load_text(TEXT_TASK, &["baselines=[\"raw_pixels\"]"]).unwrap_err();
        assert!(
            e.ends_with(
                "baselines: raw_pixels is an image baseline; text tasks take tfidf, lsa, random_init and supervised"
            ),
            "{e}"
        );
        let e = load_text(TEXT_TASK, &["name=\"../x\""]).unwrap_err();
        assert!(e.contains("name must be letters"), "{e}");
    }

    #[test]
    fn settings_of_the_other_kind_of_data_name_their_key() {
        let e = load_text(TEXT_TASK, &["kmeans.centroids=10"]).unwrap_err();
        assert!(
            e.contains("kmeans: the k-means baseline is for image tasks"),
            "{e}"
        );
        let e = load_text(TEXT_TASK, &["readout.grid=2"]).unwrap_err();
        assert!(e.starts_with("tasks/mr.toml: readout:"), "{e}");
        let e = load_text(TEXT_TASK, &["finetune.augment.preset=\"mnist\""]).unwrap_err();
        assert!(e.contains("finetune.augment: text fine-tuning"), "{e}");
        let e = load(TASK, &["tfidf.min_df=3"]).unwrap_err();
        assert!(
            e.contains("tfidf: the TF-IDF baseline is for text tasks"),
            "{e}"
        );
        let e = load(TASK, &["lsa.dims=50"]).unwrap_err();
        assert!(e.contains("lsa: the LSA baseline is for text tasks"), "{e}");
        let e = load(TASK, &["baselines=[\"lsa\"]"]).unwrap_err();
        assert!(
            e.ends_with(
                "baselines: lsa is a text baseline; image tasks take raw_pixels, kmeans, random_init and supervised"
            ),
            "{e}"
        );
    }

    #[test]
    fn every_baseline_is_listed_under_its_task_file_name() {
        let mut all = Baseline::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Baseline::ALL.len());
        for b in Baseline::ALL {
            assert_eq!(
                serde_json::to_string(&b).unwrap(),
                format!("\"{}\"", b.key())
            );
        }
    }

    #[test]
    fn a_text_task_compares_with_lsa_by_default_and_checks_its_settings() {
        let t = load_text(TEXT_TASK, &[]).unwrap();
        assert!(t.compares_with(Baseline::Lsa));
        assert_eq!(t.lsa, LsaConfig::default());
        let e = load_text(TEXT_TASK, &["lsa.dims=0"]).unwrap_err();
        assert_eq!(e, "tasks/mr.toml: lsa.dims must be at least 1, got 0");
    }
}
