//! Everything a report is drawn from, read from a run directory as plain
//! data. Missing or damaged parts are noted, not fatal: a report of a run
//! that crashed in its second epoch still shows its first.
use std::path::{Path, PathBuf};

use pretext_eval::{EvalResults, Inspection};
use pretext_train::{RunDir, RunStatus};

use crate::{ReportError, RunLog};

/// The material of one run's report.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    /// The run directory.
    pub dir: PathBuf,
    /// The run's name.
    pub name: String,
    /// `run.json`, if readable.
    pub status: Option<RunStatus>,
    /// The resolved experiment (`config.toml`), if readable.
    pub config: Option<String>,
    /// The usable lines of `metrics.jsonl`.
    pub log: RunLog,
    /// `eval/results.json`, if the run was evaluated.
    pub eval: Option<EvalResults>,
    /// Sampled images and embeddings (computed by the caller, which holds
    /// the device; see [`pretext_eval::inspect`]).
    pub inspection: Option<Inspection>,
    /// What is missing or could not be read, one line each.
    pub notes: Vec<String>,
}

impl ReportInputs {
    /// Reads the run at `path`. Fails only when `path` is not a run
    /// directory; anything missing inside it becomes a note.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let dir = RunDir::open(path)?;
        let mut notes = Vec::new();
        let status = dir.status().map_err(|e| notes.push(e.to_string())).ok();
        let config = std::fs::read_to_string(dir.config_path())
            .map_err(|e| notes.push(format!("{}: {e}", dir.config_path().display())))
            .ok();
        let log = RunLog::read(&dir.metrics_path());
        notes.extend(log.problems.iter().cloned());
        let results = dir.path().join("eval/results.json");
        let eval = if results.is_file() {
            EvalResults::load(&results)
                .map_err(|e| notes.push(e.to_string()))
                .ok()
        } else {
            notes.push(format!(
                "{}: not evaluated yet (pretext evaluate {} adds the downstream figures)",
                results.display(),
                dir.path().display()
            ));
            None
        };
        Ok(Self {
            name: dir.name(),
            dir: dir.path().to_path_buf(),
            status,
            config,
            log,
            eval,
            inspection: None,
            notes,
        })
    }
}
