//! An experiment is a TOML file: data, augmentation, encoder, method and
//! training settings. `--set key=value` overrides apply before validation, and
//! the resolved config is written beside the run's outputs.
use std::path::{Path, PathBuf};

use pretext_data::{AugmentConfig, DatasetConfig, Modality, TextDataConfig};
use pretext_methods::MethodConfig;
use pretext_nn::EncoderConfig;
use serde::{Deserialize, Serialize};

use crate::monitor::MonitorConfig;
use crate::{OptimizerConfig, ScheduleConfig, TextExperimentConfig, TrainError};

/// The `data.format` values of text datasets: an experiment with one of them
/// is a [`TextExperimentConfig`].
pub const TEXT_FORMATS: [&str; 5] = TextDataConfig::FORMATS;

/// An experiment of either modality, as its file holds it: text when
/// `data.format` is one of [`TEXT_FORMATS`], images otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Experiment {
    /// Images: augmented views, an image encoder, an image method.
    Image(ExperimentConfig),
    /// Text: a tokenizer, token augmentations, a text encoder, a text method.
    Text(TextExperimentConfig),
}

/// An experiment's `task` resolved against `base`, the experiment file's
/// folder; an empty path (`--set task=""`) names no task.
pub(crate) fn resolved_task(task: Option<PathBuf>, base: &Path) -> Option<PathBuf> {
    task.filter(|t| !t.as_os_str().is_empty())
        .map(|t| base.join(t))
}

impl Experiment {
    /// Reads an experiment file of either modality, applies `key=value`
    /// overrides and validates the result.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        Ok(
            if Modality::of_experiment(&text, overrides) == Modality::Text {
                Experiment::Text(TextExperimentConfig::from_toml(&text, path, overrides)?)
            } else {
                Experiment::Image(ExperimentConfig::from_toml(&text, path, overrides)?)
            },
        )
    }

    /// The run's name.
    pub fn name(&self) -> &str {
        match self {
            Experiment::Image(c) => &c.name,
            Experiment::Text(c) => &c.name,
        }
    }

    /// The evaluation task the experiment names, if any.
    pub fn task(&self) -> Option<&Path> {
        match self {
            Experiment::Image(c) => c.task.as_deref(),
            Experiment::Text(c) => c.task.as_deref(),
        }
    }

    /// The method's name.
    pub fn method_name(&self) -> &'static str {
        match self {
            Experiment::Image(c) => c.method.name(),
            Experiment::Text(c) => c.method.name(),
        }
    }

    /// Optimisation settings.
    pub fn train(&self) -> &TrainConfig {
        match self {
            Experiment::Image(c) => &c.train,
            Experiment::Text(c) => &c.train,
        }
    }
}

/// Everything one pretraining run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The run's name: outputs go to `<out>/<name>/`.
    pub name: String,
    /// Seeds initialisation, splits, shuffling, augmentation and noise.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Where the images come from (labels, if any, are ignored for pretraining).
    pub data: DatasetConfig,
    /// Augmentations and number of views.
    #[serde(default)]
    pub augment: AugmentConfig,
    /// The encoder to pretrain.
    #[serde(default)]
    pub encoder: EncoderConfig,
    /// The self-supervised method.
    #[serde(default)]
    pub method: MethodConfig,
    /// Optimisation settings.
    #[serde(default)]
    pub train: TrainConfig,
    /// The evaluation task `pretext evaluate` runs when given none (a task
    /// file, relative to this file; `""`, as `--set task=""` gives, names
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<PathBuf>,
    /// A table of each image's nearest neighbours under an earlier run's
    /// encoder (`pretext neighbours <run>` writes `<run>/neighbours.bin`),
    /// relative to this file. Every training view after the first is then
    /// made from one of the image's neighbours, drawn per epoch and image
    /// (see [`pretext_data::Partners`]); validation views stay plain pairs.
    /// Methods of two or more views only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partners: Option<PathBuf>,
    /// A run directory whose encoder this run starts from, relative to this
    /// file: its last good checkpoint's weights, with new heads. The two
    /// experiments' `encoder` settings must be equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
    /// The accuracy monitor during pretraining (`[monitor]`): a kNN
    /// classifier on a labelled slice of the validation split, when the data
    /// has labels.
    #[serde(default)]
    pub monitor: MonitorConfig,
    /// The directory relative data paths are read from (the experiment file's
    /// directory); not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_seed() -> u64 {
    42
}

/// Optimisation settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training split.
    pub epochs: usize,
    /// Images per step (each contributes one view per method view).
    pub batch_size: usize,
    /// Fraction of the data held out for the validation loss.
    pub val_fraction: f64,
    /// The optimiser and its base learning rate.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    pub schedule: ScheduleConfig,
    /// Clip each parameter's gradient to this L2 norm.
    pub grad_clip: Option<f32>,
    /// Write a step line to `metrics.jsonl` every this many steps.
    pub log_every: usize,
    /// Cap on steps per epoch (for quick runs); all batches when absent.
    pub max_steps_per_epoch: Option<usize>,
    /// A wall-clock budget in minutes. After the first epoch the run fixes
    /// its length (and the schedule's) at as many epochs as the budget holds
    /// at that epoch's speed, at most `epochs`, and writes the decision into
    /// `config.toml` and `run.json`; it also stops once the budget is spent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_minutes: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 256,
            val_fraction: 0.1,
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            grad_clip: None,
            log_every: 10,
            max_steps_per_epoch: None,
            budget_minutes: None,
        }
    }
}

/// The most epochs a run may plan: far past any real run, and small enough
/// that steps, seeds and schedules never overflow.
const MAX_EPOCHS: usize = 1_000_000;

impl TrainConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("train.epochs must be at least 1, got 0".into());
        }
        if self.epochs > MAX_EPOCHS {
            return Err(format!(
                "train.epochs must be at most {MAX_EPOCHS}, got {}",
                self.epochs
            ));
        }
        if self.batch_size < 2 {
            return Err(format!(
                "train.batch_size must be at least 2, got {}",
                self.batch_size
            ));
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            return Err(format!(
                "train.val_fraction must be in [0, 1), got {}",
                self.val_fraction
            ));
        }
        if let Some(m) = self.budget_minutes
            && !(m > 0.0 && m.is_finite())
        {
            return Err(format!("train.budget_minutes must be positive, got {m}"));
        }
        if let Some(c) = self.grad_clip
            && !(c > 0.0 && c.is_finite())
        {
            return Err(format!("train.grad_clip must be positive, got {c}"));
        }
        if self.log_every == 0 {
            return Err("train.log_every must be at least 1, got 0".into());
        }
        if self.max_steps_per_epoch == Some(0) {
            return Err("train.max_steps_per_epoch must be at least 1, got 0".into());
        }
        self.optimizer.validate()?;
        self.schedule.validate()
    }
}

/// Checks a name that becomes a directory (a run's, a sweep's): letters,
/// digits, '-', '_' or '.', not starting with '.', so it stays inside the
/// directory that holds it. `key` names the setting in the message.
pub fn check_name(key: &str, name: &str) -> Result<(), String> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        || name.starts_with('.')
    {
        return Err(format!(
            "{key} must be letters, digits, '-', '_' or '.', got {name:?}"
        ));
    }
    Ok(())
}

impl ExperimentConfig {
    /// Reads an experiment file, applies `key=value` overrides (dotted keys,
    /// TOML values; a bare word is a string), and validates the result.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        Self::from_toml(&text, path, overrides)
    }

    /// Like [`ExperimentConfig::load`], from text; `path` names it in messages
    /// and gives the base directory of relative data paths.
    pub fn from_toml(text: &str, path: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Config {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(format) = pretext_data::experiment_format(text, overrides)
            && TEXT_FORMATS.contains(&format.as_str())
        {
            return Err(err(format!(
                "data.format \"{format}\" is a text format: this command takes image experiments only"
            )));
        }
        let mut config: ExperimentConfig =
            pretext_data::from_toml_with_overrides(text, overrides).map_err(err)?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // Data paths become absolute, so the resolved config written into a run
        // directory reloads from anywhere.
        let base = std::path::absolute(&config.base_dir).unwrap_or(config.base_dir.clone());
        config.data = config.data.resolved(&base);
        config.task = resolved_task(config.task, &base);
        config.partners = config.partners.map(|p| base.join(p));
        config.init = config.init.map(|p| base.join(p));
        config.validate().map_err(err)?;
        Ok(config)
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_name("name", &self.name)?;
        self.encoder.validate()?;
        self.method.validate()?;
        let needs = self.method.needs();
        let method = self.method.name();
        if let Some((kind, why)) = needs.encoder
            && self.encoder.kind() != kind
        {
            return Err(format!(
                "method {method} needs encoder.kind = \"{kind}\" ({why})"
            ));
        }
        // Its messages already begin "augment: ".
        self.augment.validate()?;
        if let Some(views) = self.augment.views
            && views != self.method.views()
        {
            return Err(format!(
                "augment.views is {views} but {} takes {}",
                self.method.name(),
                self.method.views()
            ));
        }
        if let Some(why) = needs.partners
            && self.partners.is_none()
        {
            return Err(format!(
                "method {method} {why}: set partners (pretext neighbours <run> writes them)"
            ));
        }
        if let Some(why) = needs.init
            && self.init.is_none()
        {
            return Err(format!("method {method} {why}: set init to its directory"));
        }
        if self.partners.is_some() && self.method.views() < 2 {
            return Err(format!(
                "partners pairs an image with a neighbour, but {} takes one view",
                self.method.name()
            ));
        }
        self.monitor.validate()?;
        self.train.validate()
    }

    /// The resolved config as TOML, as written into the run directory.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment config always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
[data]
format = "idx"
images = "x.gz"
[method]
name = "simclr"
"#;

    fn load(text: &str, overrides: &[&str]) -> Result<ExperimentConfig, String> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        ExperimentConfig::from_toml(text, Path::new("exp/e.toml"), &o).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_fill_in_and_the_config_round_trips() {
        let c = load(BASE, &[]).unwrap();
        assert_eq!(c.seed, 42);
        assert_eq!(c.base_dir, Path::new("exp"));
        match &c.data {
            DatasetConfig::Idx { images, .. } => {
                assert!(
                    images.is_absolute() && images.ends_with("exp/x.gz"),
                    "{images:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        let again = load(&c.to_toml(), &[]).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn an_empty_task_names_none_and_a_task_resolves_beside_the_file() {
        let c = load(BASE, &["task=\"tasks/t.toml\""]).unwrap();
        let t = c.task.clone().unwrap();
        assert!(t.is_absolute() && t.ends_with("exp/tasks/t.toml"), "{t:?}");
        assert_eq!(load(BASE, &["task=\"\""]).unwrap().task, None);
    }

    #[test]
    fn partners_resolve_beside_the_file_and_need_two_views() {
        let c = load(BASE, &["partners=\"../runs/a/neighbours.bin\""]).unwrap();
        let p = c.partners.clone().unwrap();
        assert!(
            p.is_absolute() && p.ends_with("exp/../runs/a/neighbours.bin"),
            "{p:?}"
        );
        assert_eq!(load(&c.to_toml(), &[]).unwrap(), c);
        let e = load(BASE, &["partners=\"n.bin\"", "method.name=\"autoencoder\""]).unwrap_err();
        assert!(
            e.contains("partners pairs an image with a neighbour, but autoencoder takes one view"),
            "{e}"
        );
    }

    #[test]
    fn init_resolves_beside_the_file_scan_needs_partners_and_self_label_init() {
        let c = load(
            BASE,
            &[
                "init=\"../runs/a\"",
                "partners=\"../runs/a/neighbours.bin\"",
                "method={name=\"scan\"}",
            ],
        )
        .unwrap();
        let p = c.init.clone().unwrap();
        assert!(p.is_absolute() && p.ends_with("exp/../runs/a"), "{p:?}");
        assert_eq!(load(&c.to_toml(), &[]).unwrap(), c);
        let e = load(BASE, &["method={name=\"scan\"}"]).unwrap_err();
        assert!(
            e.contains("method scan pairs each image with a mined neighbour: set partners"),
            "{e}"
        );
        let e = load(BASE, &["method={name=\"self_label\"}"]).unwrap_err();
        assert!(
            e.contains("method self_label continues a scan run: set init"),
            "{e}"
        );
    }

    #[test]
    fn overrides_set_nested_keys() {
        let c = load(
            BASE,
            &["train.batch_size=32", "method.temperature=0.2", "seed=7"],
        )
        .unwrap();
        assert_eq!(c.train.batch_size, 32);
        assert_eq!(c.seed, 7);
        match c.method {
            MethodConfig::Simclr(s) => assert!((s.temperature - 0.2).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_values_name_the_file_and_key() {
        let e = load(BASE, &["train.batch_size=0"]).unwrap_err();
        assert_eq!(e, "exp/e.toml: train.batch_size must be at least 2, got 0");
        let e = load(BASE, &["train.batchsize=3"]).unwrap_err();
        assert!(
            e.starts_with("exp/e.toml: train.batchsize: unknown field `batchsize`"),
            "{e}"
        );
        let e = load(BASE, &["train.epochs=\"many\""]).unwrap_err();
        assert!(
            e.starts_with("exp/e.toml: train.epochs: invalid type"),
            "{e}"
        );
        let e = load(BASE, &["method.temperature=-1"]).unwrap_err();
        assert!(e.contains("method.temperature must be between"), "{e}");
        let e = load(BASE, &["method.temperature=1e-30"]).unwrap_err();
        assert!(
            e.contains("method.temperature must be between 0.01 and 100, got 0.000"),
            "{e}"
        );
        let e = load(BASE, &["train.epochs=9223372036854775807"]).unwrap_err();
        assert!(e.contains("train.epochs must be at most 1000000"), "{e}");
        let e = load(BASE, &["train.epochs=3\nname=\"x\""]).unwrap_err();
        assert!(
            e.contains("--set train.epochs: the value holds a line break"),
            "{e}"
        );
        let e = load(BASE, &["train.optimizer.lr=-0.1"]).unwrap_err();
        assert!(e.contains("train.optimizer.lr must be positive"), "{e}");
        let e = load("name = \"t\"\n[data\n", &[]).unwrap_err();
        assert!(e.starts_with("exp/e.toml: line 2:"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = load(&format!("{BASE}\nextra = 1\n"), &[]).unwrap_err();
        assert!(e.contains("unknown field `extra`"), "{e}");
    }
}
