//! A text evaluation task: a labelled pool, a test set (a file, or a seeded
//! share of the pool when the set comes as one file, as MR, Subj and CR do),
//! the label budgets and seeds, the heads and the baselines.
//!
//! ```toml
//! name = "trec"
//! budgets = ["8/class", "64/class", "all"]
//! [train]
//! format = "label_text"
//! path = "../../../shared/datasets/text/sentences/TREC.train.all"
//! [test]
//! format = "label_text"
//! path = "../../../shared/datasets/text/sentences/TREC.test.all"
//! ```
use std::path::{Path, PathBuf};

use pretext_data::LabelBudget;
use pretext_data::text::TextDataConfig;
use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::knn::KnnConfig;
use crate::linear::LinearProbeConfig;
use crate::mlp::MlpHeadConfig;
use crate::task::{Baseline, Head};
use crate::text_finetune::TextFinetuneConfig;
use crate::tfidf::TfidfConfig;

/// Everything one text evaluation needs besides the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextTaskConfig {
    /// The task's name: results go to `<run>/eval/<name>/`.
    pub name: String,
    /// The labelled pool: budgets draw the heads' training and validation
    /// labels from it.
    pub train: TextDataConfig,
    /// The test set; when absent, `test_fraction` of the pool is held out
    /// (seeded by `seed`), never drawn for training or validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TextDataConfig>,
    /// Share of the pool held out as the test set when `test` is absent
    /// (default 0.2).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Label budgets (`"8/class"`, `"1%"`, `"all"`).
    #[serde(default = "default_budgets")]
    pub budgets: Vec<LabelBudget>,
    /// Number of seeds per budget (mean ± std over them).
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// The first seed; seeds are `seed, seed + 1, …`.
    #[serde(default)]
    pub seed: u64,
    /// Heads to run on the pretrained encoder.
    #[serde(default = "default_heads")]
    pub heads: Vec<Head>,
    /// Baselines on the same labels: `tfidf` (TF-IDF + logistic regression),
    /// `random_init` (the heads on a random encoder), `supervised` (the
    /// encoder trained from scratch on the labels).
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
    /// TF-IDF baseline settings.
    #[serde(default)]
    pub tfidf: TfidfConfig,
    /// Fine-tuning (and supervised-baseline) settings.
    #[serde(default)]
    pub finetune: TextFinetuneConfig,
    /// The file the task was read from; not part of the file.
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_test_fraction() -> f64 {
    0.2
}

fn default_budgets() -> Vec<LabelBudget> {
    ["8/class", "64/class", "all"]
        .iter()
        .map(|b| b.parse().expect("valid default budget"))
        .collect()
}

fn default_seeds() -> usize {
    3
}

fn default_heads() -> Vec<Head> {
    vec![Head::Linear, Head::Knn]
}

fn default_baselines() -> Vec<Baseline> {
    vec![Baseline::Tfidf, Baseline::RandomInit, Baseline::Supervised]
}

impl TextTaskConfig {
    /// Reads a task file and applies `key=value` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_toml(&text, path, overrides)
    }

    /// Like [`TextTaskConfig::load`], from text; `path` names it in messages
    /// and gives the base directory of relative data paths.
    pub fn from_toml(text: &str, path: &Path, overrides: &[String]) -> Result<Self, EvalError> {
        let err = |reason: String| EvalError::Task {
            path: path.to_path_buf(),
            reason,
        };
        let mut task: TextTaskConfig =
            pretext_train::from_toml_with_overrides(text, overrides).map_err(err)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::path::absolute(&base).unwrap_or(base);
        task.train = task.train.resolved(&base);
        task.test = task.test.map(|t| t.resolved(&base));
        task.path = path.to_path_buf();
        task.validate().map_err(err)?;
        Ok(task)
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        crate::task::check_task_name(&self.name)?;
        if self.budgets.is_empty() {
            return Err("budgets must not be empty".into());
        }
        if self.seeds == 0 {
            return Err("seeds must be at least 1, got 0".into());
        }
        if self.heads.is_empty() {
            return Err("heads must not be empty".into());
        }
        if self.test.is_none() && !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(format!(
                "test_fraction must be above 0 and below 1, got {}",
                self.test_fraction
            ));
        }
        for (image_only, key) in [
            (Baseline::RawPixels, "raw_pixels"),
            (Baseline::Kmeans, "kmeans"),
        ] {
            if self.compares_with(image_only) {
                return Err(format!(
                    "baselines: {key} is an image baseline; text tasks take tfidf, random_init and supervised"
                ));
            }
        }
        self.linear.validate()?;
        self.knn.validate()?;
        self.mlp.validate()?;
        self.tfidf.validate()?;
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

    /// The budgets fine-tuning and the supervised baseline run at.
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
name = "mr"
[train]
format = "label_text"
path = "rt-polarity.all"
"#;

    fn load(text: &str, overrides: &[&str]) -> Result<TextTaskConfig, String> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TextTaskConfig::from_toml(text, Path::new("tasks/mr.toml"), &o).map_err(|e| e.to_string())
    }

    #[test]
    fn a_text_task_defaults_to_the_issue_budgets_and_the_text_baselines() {
        let t = load(TASK, &[]).unwrap();
        assert_eq!(t.budgets.len(), 3);
        assert_eq!(t.seed_list(), [0, 1, 2]);
        assert!(t.test.is_none());
        assert!(t.compares_with(Baseline::Tfidf) && t.compares_with(Baseline::Supervised));
        assert!(t.train.path().is_absolute());
    }

    #[test]
    fn bad_text_task_values_name_the_file_and_key() {
        let e = load(TASK, &["test_fraction=1.0"]).unwrap_err();
        assert_eq!(
            e,
            "tasks/mr.toml: test_fraction must be above 0 and below 1, got 1"
        );
        let e = load(TASK, &["baselines=[\"raw_pixels\"]"]).unwrap_err();
        assert!(e.contains("raw_pixels is an image baseline"), "{e}");
        let e = load(TASK, &["name=\"../x\""]).unwrap_err();
        assert!(e.contains("name must be letters"), "{e}");
    }
}
