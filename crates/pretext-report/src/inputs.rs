//! Everything a report is drawn from, read from a run directory as plain
//! data. Missing or damaged parts are noted, not fatal: a report of a run
//! that crashed in its second epoch still shows its first.
use std::path::{Path, PathBuf};

use pretext_data::Modality;
use pretext_runs::{EvalResults, Inspection, RunDir, RunStatus, TextInspection};

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
    /// Images or text, by the experiment's data format (images when the
    /// experiment cannot be read).
    pub modality: Modality,
    /// The usable lines of `metrics.jsonl`.
    pub log: RunLog,
    /// Every evaluation of the run: `eval/results.json` (image runs
    /// evaluated before results went per task), then
    /// `eval/<task>/results.json`, one per task, by task name.
    pub evals: Vec<EvalResults>,
    /// Sampled images and embeddings (computed by the caller, which holds
    /// the device; see `pretext_eval::inspect`).
    pub inspection: Option<Inspection>,
    /// Sampled texts and embeddings, for text runs (computed by the caller;
    /// see `pretext_eval::inspect_text`).
    pub text_inspection: Option<TextInspection>,
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
        let modality = config
            .as_deref()
            .map(|text| Modality::of_experiment(text, &[]))
            .unwrap_or_default();
        let eval_dir = dir.path().join("eval");
        let files = pretext_runs::results_files(dir.path());
        let evals: Vec<EvalResults> = files
            .iter()
            .filter_map(|f| {
                EvalResults::load(f)
                    .map_err(|e| notes.push(e.to_string()))
                    .ok()
            })
            .collect();
        if files.is_empty() {
            let task = match modality {
                Modality::Image => "",
                Modality::Text => " --task <task.toml>",
            };
            notes.push(format!(
                "{}: not evaluated yet (pretext evaluate {}{task} adds the downstream figures)",
                eval_dir.display(),
                dir.path().display()
            ));
        }
        Ok(Self {
            name: dir.name(),
            dir: dir.path().to_path_buf(),
            status,
            config,
            modality,
            log,
            evals,
            inspection: None,
            text_inspection: None,
            notes,
        })
    }
}
