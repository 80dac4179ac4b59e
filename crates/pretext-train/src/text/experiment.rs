//! A text experiment: the same file shape as an image experiment, with a
//! text dataset, a tokenizer trained on it, text augmentations, a text
//! encoder and a text method.
//!
//! ```toml
//! name = "simcse-sst2"
//! [data]
//! format = "table"
//! path = "../../shared/datasets/text/sst2-phrases/train.tsv"
//! text_column = "sentence"
//! [tokenizer]
//! vocab_size = 8000
//! max_len = 64
//! [encoder]
//! kind = "transformer"
//! [method]
//! name = "simcse"
//! ```
use std::path::{Path, PathBuf};

use pretext_data::text::{TextAugmentConfig, TextDataConfig, TokenizerConfig};
use pretext_methods::text::TextMethodConfig;
use pretext_nn::text::TextEncoderConfig;
use serde::{Deserialize, Serialize};

use crate::experiment::check_name;
use crate::{TrainConfig, TrainError};

/// Everything one text pretraining run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextExperimentConfig {
    /// The run's name: outputs go to `<out>/<name>/`.
    pub name: String,
    /// Seeds initialisation, splits, shuffling, augmentation and dropout.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The unlabelled corpus (labels, if any, are ignored for pretraining).
    pub data: TextDataConfig,
    /// The WordPiece vocabulary trained on the corpus, and the longest
    /// sequence kept.
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
    /// Token-level augmentations of the views (contrastive methods); TSDAE
    /// sets its own deletion rate.
    #[serde(default)]
    pub augment: TextAugmentConfig,
    /// The text encoder to pretrain.
    #[serde(default)]
    pub encoder: TextEncoderConfig,
    /// The self-supervised text method.
    #[serde(default)]
    pub method: TextMethodConfig,
    /// Optimisation settings.
    #[serde(default)]
    pub train: TrainConfig,
    /// The evaluation task `pretext evaluate` runs when given none (a task
    /// file, relative to this file; `""` names none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<PathBuf>,
    /// The directory relative data paths are read from (the experiment file's
    /// directory); not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_seed() -> u64 {
    42
}

impl TextExperimentConfig {
    /// Like [`crate::ExperimentConfig::from_toml`], for a text experiment.
    pub fn from_toml(text: &str, path: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let mut config: TextExperimentConfig =
            pretext_data::from_toml_with_overrides(text, overrides).map_err(err)?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::path::absolute(&config.base_dir).unwrap_or(config.base_dir.clone());
        config.data = config.data.resolved(&base);
        config.task = crate::experiment::resolved_task(config.task, &base);
        config.validate().map_err(err)?;
        Ok(config)
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_name("name", &self.name)?;
        self.tokenizer.validate()?;
        self.augment
            .validate()
            .map_err(|e| format!("augment: {e}"))?;
        self.encoder.validate()?;
        self.method.validate()?;
        self.method.check_encoder(&self.encoder)?;
        self.train.validate()
    }

    /// The resolved config as TOML, as written into the run directory.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a text experiment config always serialises")
    }
}
