//! `metrics.jsonl` read for plotting: every line that parses is kept, and
//! every line that does not (truncated by a crash, edited by hand, from an
//! unknown writer) is named in [`RunLog::problems`] instead of failing the
//! report.
use std::path::Path;

use pretext_runs::{EpochRecord, StepRecord};
use serde_json::Value;

/// The usable lines of a run's metrics log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLog {
    /// Step lines, in file order.
    pub steps: Vec<StepRecord>,
    /// Epoch lines, in file order.
    pub epochs: Vec<EpochRecord>,
    /// One line per thing that could not be used, e.g.
    /// `metrics.jsonl line 7: truncated or not JSON`.
    pub problems: Vec<String>,
}

impl RunLog {
    /// Reads `path`; a missing file is a problem, not an error.
    pub fn read(path: &Path) -> Self {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(&String::from_utf8_lossy(&bytes), path),
            Err(e) => Self {
                problems: vec![format!("{}: {e}", path.display())],
                ..Self::default()
            },
        }
    }

    /// Parses the text of a log; `path` only names it in problems.
    pub fn parse(text: &str, path: &Path) -> Self {
        let mut log = Self::default();
        let name = path.display();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(_) => {
                    log.problems
                        .push(format!("{name} line {n}: truncated or not JSON"));
                    continue;
                }
            };
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let parsed = match kind.as_str() {
                "step" => serde_json::from_value(value).map(|r| log.steps.push(r)),
                "epoch" => serde_json::from_value(value).map(|r| log.epochs.push(r)),
                other => {
                    log.problems
                        .push(format!("{name} line {n}: unknown kind {other:?}"));
                    continue;
                }
            };
            if let Err(e) = parsed {
                // serde names a missing flattened throughput by its enum.
                let missing = match e.to_string() {
                    e if e.contains("enum Throughput") => {
                        "its throughput (images_per_sec or texts_per_sec)".to_string()
                    }
                    e => e,
                };
                log.problems
                    .push(format!("{name} line {n}: {kind} line without {missing}"));
            }
        }
        if log.steps.is_empty() && log.epochs.is_empty() && log.problems.is_empty() {
            log.problems.push(format!("{name}: no training lines yet"));
        }
        log
    }

    /// Steps per epoch, from the epoch lines (global step at each epoch end).
    pub fn steps_per_epoch(&self) -> Option<f64> {
        let e = self.epochs.first()?;
        (e.step > 0 && e.epoch > 0).then(|| e.step as f64 / e.epoch as f64)
    }

    /// A step's position in epochs (step 105 of 210-step epochs is 0.5).
    pub fn step_in_epochs(&self, step: usize) -> f64 {
        match self.steps_per_epoch() {
            Some(per) => step as f64 / per,
            None => step as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_STEP: &str =
        r#"{"kind":"step","step":10,"epoch":1,"loss":5.7,"lr":0.001,"images_per_sec":140.0}"#;
    const GOOD_EPOCH: &str = r#"{"kind":"epoch","epoch":1,"step":20,"train_loss":5.1,"val_loss":5.0,"embedding_std":0.8,"lr":0.002,"images_per_sec":150.0,"seconds":30.0}"#;

    #[test]
    fn a_line_without_its_throughput_says_so_by_its_keys() {
        let text = GOOD_STEP.replace(r#","images_per_sec":140.0"#, "");
        let log = RunLog::parse(&text, Path::new("runs/r/metrics.jsonl"));
        assert_eq!(log.steps.len(), 0);
        assert_eq!(
            log.problems,
            [
                "runs/r/metrics.jsonl line 1: step line without its throughput (images_per_sec or texts_per_sec)"
            ]
        );
    }

    #[test]
    fn keeps_good_lines_and_names_bad_ones() {
        let text = format!(
            "{GOOD_STEP}\n{GOOD_EPOCH}\n{{\"kind\":\"step\",\"step\":20,\"epo\n{{\"kind\":\"epoch\",\"epoch\":2}}\n{{\"kind\":\"weird\"}}\n"
        );
        let log = RunLog::parse(&text, Path::new("runs/r/metrics.jsonl"));
        assert_eq!(log.steps.len(), 1);
        assert_eq!(log.epochs.len(), 1);
        assert_eq!(log.problems.len(), 3, "{:?}", log.problems);
        assert!(
            log.problems[0].contains("line 3: truncated"),
            "{}",
            log.problems[0]
        );
        assert!(
            log.problems[1].contains("line 4: epoch line without missing field"),
            "{}",
            log.problems[1]
        );
        assert!(
            log.problems[2].contains("line 5: unknown kind"),
            "{}",
            log.problems[2]
        );
    }

    #[test]
    fn positions_steps_in_epochs() {
        let log = RunLog::parse(&format!("{GOOD_STEP}\n{GOOD_EPOCH}\n"), Path::new("m"));
        assert_eq!(log.steps_per_epoch(), Some(20.0));
        assert_eq!(log.step_in_epochs(10), 0.5);
    }

    #[test]
    fn a_missing_or_empty_log_is_a_problem_not_an_error() {
        let log = RunLog::read(Path::new("/nonexistent/metrics.jsonl"));
        assert_eq!(log.problems.len(), 1);
        let log = RunLog::parse("", Path::new("m"));
        assert_eq!(log.problems, vec!["m: no training lines yet".to_string()]);
    }
}
