//! The experiment, sweep and task files shipped in `experiments/` load and
//! pass validation, so the files users start from cannot drift from the
//! settings they describe.
use std::path::{Path, PathBuf};

use pretext::eval::{TaskConfig, TextTaskConfig};
use pretext::train::{Experiment, SweepConfig, TEXT_FORMATS};

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments")
}

/// The `.toml` files directly in `dir`, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn parsed(path: &Path) -> toml::Table {
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

#[test]
fn every_shipped_experiment_and_sweep_file_loads() {
    let files = toml_files(&experiments_dir());
    assert!(files.len() >= 10, "{files:?}");
    for path in &files {
        // A sweep names the experiment it varies; anything else is an experiment.
        let loaded = if parsed(path).contains_key("experiment") {
            SweepConfig::load(path).map(|_| ())
        } else {
            Experiment::load(path, &[]).map(|_| ())
        };
        if let Err(e) = loaded {
            panic!("{e}");
        }
    }
}

#[test]
fn every_shipped_task_file_loads() {
    let files = toml_files(&experiments_dir().join("tasks"));
    assert!(files.len() >= 5, "{files:?}");
    for path in &files {
        let format = parsed(path)["train"]["format"]
            .as_str()
            .unwrap()
            .to_string();
        let loaded = if TEXT_FORMATS.contains(&format.as_str()) {
            TextTaskConfig::load(path, &[]).map(|_| ())
        } else {
            TaskConfig::load(path, &[]).map(|_| ())
        };
        if let Err(e) = loaded {
            panic!("{e}");
        }
    }
}
