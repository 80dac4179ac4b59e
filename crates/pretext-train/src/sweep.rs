//! A sweep: several methods, each pretrained under several seeds from one
//! base experiment (the same data, augmentations, encoder, batch and
//! epochs), then evaluated alike. It is how methods are compared on an equal
//! budget (`experiments/compare-mnist.toml`).
//!
//! ```toml
//! name = "compare-mnist"
//! experiment = "simclr-mnist.toml"   # everything but the method
//! seeds = [1, 2, 3]                  # pretraining seeds
//! set = ["train.epochs=2"]           # overrides for every member
//! evaluate = ['heads=["linear", "knn"]']  # task overrides for every member
//!
//! [methods.simclr]                   # a label, then the [method] table
//! name = "simclr"
//! temperature = 0.5
//!
//! [methods.mae]
//! name = "mae"
//! encoder = { kind = "vit" }         # optional: this method's [encoder]
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pretext_methods::MethodConfig;
use serde::{Deserialize, Serialize};

use crate::experiment::check_name;
use crate::{ExperimentConfig, TrainError};

/// A sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Names the directory of the sweep's runs and its comparison.
    pub name: String,
    /// The base experiment, relative to the sweep file.
    pub experiment: PathBuf,
    /// Pretraining seeds; every method runs once per seed.
    pub seeds: Vec<u64>,
    /// `key=value` overrides applied to every member's experiment.
    #[serde(default)]
    pub set: Vec<String>,
    /// `key=value` overrides of the evaluation task for every member.
    #[serde(default)]
    pub evaluate: Vec<String>,
    /// The methods, by label, each as its `[method]` table; in label order.
    /// A method that needs another architecture (the masked autoencoder
    /// needs a ViT) gives its `[encoder]` table as an `encoder` key.
    pub methods: BTreeMap<String, toml::Table>,
}

/// One run of a sweep.
#[derive(Debug, Clone)]
pub struct SweepMember {
    /// The method's label in the sweep.
    pub label: String,
    /// The pretraining seed.
    pub seed: u64,
    /// The member's experiment (named `<label>-seed<seed>`).
    pub config: ExperimentConfig,
}

impl SweepConfig {
    /// Reads and checks a sweep file.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        let config: SweepConfig =
            pretext_data::from_toml_with_overrides(&text, &[]).map_err(err)?;
        check_name("name", &config.name).map_err(err)?;
        for label in config.methods.keys() {
            check_name(&format!("methods.{label}"), label).map_err(err)?;
        }
        if config.seeds.is_empty() {
            return Err(err("seeds: give at least one seed".into()));
        }
        if config.methods.is_empty() {
            return Err(err(
                "methods: give at least one [methods.<label>] table".into()
            ));
        }
        Ok(config)
    }

    /// Every member, method by method and seed by seed, with the base
    /// experiment at `base` (the sweep file's folder joined with
    /// [`SweepConfig::experiment`]).
    pub fn members(&self, sweep_file: &Path) -> Result<Vec<SweepMember>, TrainError> {
        let base_path = sweep_file
            .parent()
            .unwrap_or(Path::new(""))
            .join(&self.experiment);
        let text =
            std::fs::read_to_string(&base_path).map_err(|e| TrainError::io(&base_path, e))?;
        let base: toml::Table = toml::from_str(&text).map_err(|e| TrainError::Config {
            path: base_path.clone(),
            reason: e.message().to_string(),
        })?;
        let mut members = Vec::new();
        for (label, method) in &self.methods {
            let mut method = method.clone();
            let encoder = method.remove("encoder");
            let method_err = |reason: String| TrainError::Config {
                path: sweep_file.to_path_buf(),
                reason: format!("methods.{label}: {reason}"),
            };
            let parsed: MethodConfig = toml::Value::Table(method.clone())
                .try_into()
                .map_err(|e: toml::de::Error| method_err(e.message().to_string()))?;
            for &seed in &self.seeds {
                let mut table = base.clone();
                table.insert("method".into(), toml::Value::Table(method.clone()));
                table.insert("seed".into(), toml::Value::Integer(seed as i64));
                table.insert("name".into(), format!("{label}-seed{seed}").into());
                if let Some(encoder) = &encoder {
                    table.insert("encoder".into(), encoder.clone());
                }
                if let Some(toml::Value::Table(augment)) = table.get_mut("augment") {
                    augment.insert("views".into(), (parsed.views() as i64).into());
                }
                let text = toml::to_string(&table).expect("a TOML table serialises");
                let config = ExperimentConfig::from_toml(&text, &base_path, &self.set)?;
                members.push(SweepMember {
                    label: label.clone(),
                    seed,
                    config,
                });
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_runs_under_every_seed_on_the_base_experiment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            r#"
name = "base"
seed = 42
[data]
format = "idx"
images = "x.gz"
[augment]
preset = "mnist"
views = 2
[method]
name = "simclr"
[train]
epochs = 8
"#,
        )
        .unwrap();
        let sweep_file = dir.path().join("sweep.toml");
        std::fs::write(
            &sweep_file,
            r#"
name = "cmp"
experiment = "base.toml"
seeds = [1, 2]
set = ["train.epochs=2"]
[methods.simclr]
name = "simclr"
temperature = 0.2
[methods.ae]
name = "autoencoder"
[methods.mae]
name = "mae"
encoder = { kind = "vit", patch_size = 7 }
"#,
        )
        .unwrap();
        let sweep = SweepConfig::load(&sweep_file).unwrap();
        let members = sweep.members(&sweep_file).unwrap();
        let names: Vec<_> = members.iter().map(|m| m.config.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ae-seed1",
                "ae-seed2",
                "mae-seed1",
                "mae-seed2",
                "simclr-seed1",
                "simclr-seed2"
            ]
        );
        for m in &members {
            assert_eq!(m.config.seed, m.seed);
            assert_eq!(m.config.train.epochs, 2);
            assert_eq!(m.config.augment.views, Some(m.config.method.views()));
        }
        assert_eq!(members[0].config.method.name(), "autoencoder");
        assert!(matches!(
            &members[0].config.encoder,
            pretext_nn::EncoderConfig::SmallCnn(_)
        ));
        assert!(
            matches!(&members[2].config.encoder, pretext_nn::EncoderConfig::Vit(v) if v.patch_size == 7),
            "{:?}",
            members[2].config.encoder
        );
        assert!(
            matches!(&members[4].config.method, MethodConfig::Simclr(c) if c.temperature == 0.2),
            "{:?}",
            members[4].config.method
        );
    }

    #[test]
    fn a_bad_method_table_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            "name = \"b\"\n[data]\nformat = \"idx\"\nimages = \"x.gz\"\n",
        )
        .unwrap();
        let sweep_file = dir.path().join("sweep.toml");
        std::fs::write(
            &sweep_file,
            "name = \"cmp\"\nexperiment = \"base.toml\"\nseeds = [1]\n[methods.x]\nname = \"nope\"\n",
        )
        .unwrap();
        let err = SweepConfig::load(&sweep_file)
            .unwrap()
            .members(&sweep_file)
            .unwrap_err();
        assert!(err.to_string().contains("methods.x"), "{err}");
    }
}

#[cfg(test)]
mod names {
    use super::*;

    #[test]
    fn a_sweep_name_or_label_that_would_leave_the_runs_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (text, needle) in [
            (
                "name = \"../x\"\nexperiment = \"b.toml\"\nseeds = [1]\n[methods.a]\nname = \"simclr\"\n",
                "name must be",
            ),
            (
                "name = \"x\"\nexperiment = \"b.toml\"\nseeds = [1]\n[methods.\"a/b\"]\nname = \"simclr\"\n",
                "methods.a/b must be",
            ),
        ] {
            let path = dir.path().join("s.toml");
            std::fs::write(&path, text).unwrap();
            let err = SweepConfig::load(&path).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains("s.toml"), "{err}");
        }
    }
}
