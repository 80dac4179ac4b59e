//! An evaluation task is a TOML file: a labelled pool the heads learn from, a
//! test set scored once per head, the label budgets and seeds, which heads
//! and baselines to run, and their settings.
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

use pretext_data::{DatasetConfig, LabelBudget};
use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::finetune::FinetuneConfig;
use crate::knn::KnnConfig;
use crate::linear::LinearProbeConfig;
use crate::mlp::MlpHeadConfig;

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
}

/// Everything one evaluation needs besides the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The task's name, used in result tables.
    pub name: String,
    /// The labelled pool: budgets draw the heads' training and validation
    /// labels from it.
    pub train: DatasetConfig,
    /// The test set, never seen before the final score.
    pub test: DatasetConfig,
    /// Label budgets (`"10/class"`, `"1%"`, `"all"`).
    #[serde(default = "default_budgets")]
    pub budgets: Vec<LabelBudget>,
    /// Number of seeds per budget: each draws other labels and initialises
    /// heads differently; results are reported as mean ± std.
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// The first seed; seeds are `seed, seed + 1, …`.
    #[serde(default)]
    pub seed: u64,
    /// Heads to run on the pretrained encoder.
    #[serde(default = "default_heads")]
    pub heads: Vec<Head>,
    /// Baselines to run with the same heads and labels.
    #[serde(default = "default_baselines")]
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
    pub finetune: FinetuneConfig,
    /// The directory relative data paths are read from; not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file the task was read from; not part of the file.
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_budgets() -> Vec<LabelBudget> {
    [
        "1/class",
        "5/class",
        "10/class",
        "100/class",
        "1%",
        "10%",
        "all",
    ]
    .iter()
    .map(|b| b.parse().expect("valid default budget"))
    .collect()
}

fn default_seeds() -> usize {
    3
}

fn default_heads() -> Vec<Head> {
    vec![Head::Linear, Head::Knn, Head::Mlp, Head::Finetune]
}

fn default_baselines() -> Vec<Baseline> {
    vec![
        Baseline::RawPixels,
        Baseline::RandomInit,
        Baseline::Supervised,
    ]
}

impl TaskConfig {
    /// Reads a task file and applies `key=value` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_toml(&text, path, overrides)
    }

    /// Like [`TaskConfig::load`], from text; `path` names it in messages and
    /// gives the base directory of relative data paths.
    pub fn from_toml(text: &str, path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let err = |reason: String| EvalError::Task {
            path: path.to_path_buf(),
            reason,
        };
        let mut task: TaskConfig =
            pretext_train::from_toml_with_overrides(text, overrides).map_err(err)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::path::absolute(&base).unwrap_or(base);
        task.train = task.train.resolved(&base);
        task.test = task.test.resolved(&base);
        task.base_dir = base;
        task.path = path.to_path_buf();
        task.validate().map_err(err)?;
        Ok(task)
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.budgets.is_empty() {
            return Err("budgets must not be empty".into());
        }
        if self.seeds == 0 {
            return Err("seeds must be at least 1, got 0".into());
        }
        if self.heads.is_empty() {
            return Err("heads must not be empty".into());
        }
        if self.compares_with(Baseline::Tfidf) {
            return Err("baselines: tfidf is a text baseline; image tasks take raw_pixels, random_init and supervised".into());
        }
        self.linear.validate()?;
        self.knn.validate()?;
        self.mlp.validate()?;
        self.finetune.validate()
    }

    /// The seeds of each budget.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds as u64).map(|i| self.seed + i).collect()
    }

    /// Whether a head runs on the pretrained encoder.
    pub fn runs(&self, head: Head) -> bool {
        self.heads.contains(&head)
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

#[cfg(test)]
mod tests {
    use super::*;

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
            DatasetConfig::Idx { images, .. } => assert_eq!(images, Path::new("/abs/test.gz")),
            other => panic!("{other:?}"),
        }
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
    }
}
