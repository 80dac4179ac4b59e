//! Evaluation results: one row per (encoder, head, budget, seed), their
//! mean ± std over seeds, `results.json` and the markdown table, and the
//! table across runs of `pretext compare`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pretext_data::{LabelBudget, Modality, Readout};
use serde::{Deserialize, Serialize};

use crate::paired::{paired_differences, paired_markdown};
use crate::{RunsError, write_atomic};

/// One epoch of a trained head.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochPoint {
    /// 1-based epoch (iteration for the linear probe).
    pub epoch: usize,
    /// Mean training loss of the epoch.
    pub train_loss: f32,
    /// Accuracy on the validation labels after the epoch.
    pub val_accuracy: f32,
}

/// Which features or weights a head starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The run's pretrained encoder.
    Pretrained,
    /// The normalised pixels (baseline).
    RawPixels,
    /// The same architecture, randomly initialised (baseline; fine-tuned, it
    /// is the supervised-from-scratch baseline).
    RandomInit,
    /// TF-IDF features of the text (baseline, with logistic regression).
    Tfidf,
    /// Single-layer k-means features of the images (baseline).
    Kmeans,
    /// LSA features of the text: truncated SVD of its TF-IDF (baseline).
    Lsa,
}

impl Source {
    /// How tables name the source: `pretrained`, `raw pixels`, ….
    pub fn name(self) -> &'static str {
        match self {
            Source::Pretrained => "pretrained",
            Source::RawPixels => "raw pixels",
            Source::RandomInit => "random init",
            Source::Tfidf => "tf-idf",
            Source::Kmeans => "k-means",
            Source::Lsa => "lsa",
        }
    }
}

/// One head on one label draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// Where the features or weights come from.
    pub source: Source,
    /// `linear`, `knn-20`, `mlp`, `finetune`, …
    pub head: String,
    /// The label budget.
    pub budget: LabelBudget,
    /// The seed of the label draw and of the head.
    pub seed: u64,
    /// Training labels used.
    pub train_labels: usize,
    /// Validation labels used for model selection.
    pub val_labels: usize,
    /// Accuracy on the test set.
    pub test_accuracy: f32,
    /// Best validation accuracy (trained heads).
    pub val_accuracy: Option<f32>,
    /// Epoch whose weights were kept; validation stopped improving after it.
    pub best_epoch: Option<usize>,
    /// Epochs run before early stopping.
    pub epochs: Option<usize>,
    /// Validation accuracy per epoch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<EpochPoint>,
    /// A chosen hyper-parameter worth reporting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Wall time of this head, seconds.
    pub seconds: f64,
    /// Test confusion matrix: `confusion[t][p]` counts images of class `t`
    /// predicted as `p`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confusion: Vec<Vec<u32>>,
}

impl ResultRow {
    /// How the row is named in tables.
    pub fn label(&self) -> String {
        label(self.source, &self.head)
    }

    /// How a (source, head) pair is named in tables and figures.
    pub fn label_of(source: Source, head: &str) -> String {
        label(source, head)
    }
}

/// Table name of a (source, head) pair.
fn label(source: Source, head: &str) -> String {
    match (source, head) {
        (Source::RandomInit, "finetune") => "supervised from scratch".into(),
        (source, h) => format!("{} + {h}", source.name()),
    }
}

/// Mean and standard deviation of one (source, head, budget) over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Where the features or weights come from.
    pub source: Source,
    /// The head.
    pub head: String,
    /// The label budget.
    pub budget: LabelBudget,
    /// Mean test accuracy over seeds.
    pub mean: f32,
    /// Sample standard deviation over seeds (0 for one seed).
    pub std: f32,
    /// Number of seeds.
    pub seeds: usize,
}

/// Everything one evaluation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResults {
    /// The run's name.
    pub run: String,
    /// The task's name.
    pub task: String,
    /// The task file.
    pub task_file: String,
    /// The `key=value` overrides the task file was read with (`--set`), so
    /// that the task can be read again as it was scored (older results
    /// files: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_overrides: Vec<String>,
    /// Completed pretraining epochs of the evaluated checkpoint.
    pub checkpoint_epoch: usize,
    /// Number of classes.
    pub classes: usize,
    /// The classes' names, where the data names them (text labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_names: Vec<String>,
    /// What the samples are (older results files: images).
    #[serde(default)]
    pub modality: Modality,
    /// Samples in the labelled pool.
    pub pool_size: usize,
    /// Samples in the test set.
    pub test_size: usize,
    /// The budgets, in the task's order.
    pub budgets: Vec<LabelBudget>,
    /// The frozen heads' features (the task's `[readout]`; the embedding in
    /// older results files).
    #[serde(default, skip_serializing_if = "Readout::is_embedding")]
    pub readout: Readout,
    /// Every head on every draw.
    pub rows: Vec<ResultRow>,
    /// Mean ± std over seeds.
    pub summary: Vec<SummaryRow>,
}

impl EvalResults {
    /// Fills [`EvalResults::summary`] from the rows.
    pub fn summarise(&mut self) {
        let mut groups: BTreeMap<(Source, String, String), (LabelBudget, Vec<f32>)> =
            BTreeMap::new();
        for r in &self.rows {
            groups
                .entry((r.source, r.head.clone(), r.budget.to_string()))
                .or_insert_with(|| (r.budget, Vec::new()))
                .1
                .push(r.test_accuracy);
        }
        self.summary = groups
            .into_iter()
            .map(|((source, head, _), (budget, acc))| {
                let (mean, std) = mean_std(&acc);
                SummaryRow {
                    source,
                    head,
                    budget,
                    mean,
                    std,
                    seeds: acc.len(),
                }
            })
            .collect();
    }

    /// The summary as a markdown table: one row per (source, head), one
    /// column per budget, cells `mean ± std` in percent; then, where there
    /// are baselines, the pretrained head's paired differences from them
    /// ([`paired_differences`]).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Test accuracy (%) on {} ({} test {}), mean ± std over seeds; run {}, checkpoint epoch {}.\n\n",
            self.task,
            self.test_size,
            self.modality.samples(),
            self.run,
            self.checkpoint_epoch
        );
        if !self.readout.is_embedding() {
            out += &format!(
                "Frozen heads read the encoder's maps, not its embedding: {} (`[readout]`).\n\n",
                self.readout.describe()
            );
        }
        out += &table(&[("", self)], &self.budgets);
        for note in self.notes() {
            out += &format!("\n{note}\n");
        }
        let paired = paired_markdown(
            &paired_differences(&self.rows, &self.budgets),
            &self.budgets,
        );
        if !paired.is_empty() {
            out += "\n";
            out += &paired;
        }
        out
    }

    /// What the table's cells do not say, one line each: a kNN head whose k
    /// exceeded the training labels of a budget ran with every label voting.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        for r in &self.rows {
            let Some(k) = r.detail.as_deref().and_then(|d| d.strip_prefix("k=")) else {
                continue;
            };
            let note = format!(
                "{} at {} ran with k = {k}: the budget has only {} training labels.",
                r.label(),
                r.budget,
                r.train_labels
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        notes
    }

    /// The summary table as cells, for other formats (the HTML report):
    /// the header, then one row per (source, head).
    pub fn summary_cells(&self) -> (Vec<String>, Vec<Vec<String>>) {
        cells(&[("", self)], &self.budgets)
    }

    /// Adds the rows of `earlier` that this evaluation did not redo (same
    /// source, head, budget and seed), when `earlier` evaluated the same
    /// checkpoint on the same task with the same readout; returns how many
    /// were kept. So a partial re-evaluation (`--set heads=["finetune"]`)
    /// updates the results instead of discarding the rest.
    pub fn merge_earlier(&mut self, earlier: EvalResults) -> usize {
        let same = earlier.run == self.run
            && earlier.task == self.task
            && earlier.checkpoint_epoch == self.checkpoint_epoch
            && earlier.pool_size == self.pool_size
            && earlier.test_size == self.test_size
            && earlier.readout == self.readout;
        if !same {
            return 0;
        }
        let redone = |r: &ResultRow| {
            self.rows.iter().any(|n| {
                n.source == r.source && n.head == r.head && n.budget == r.budget && n.seed == r.seed
            })
        };
        let kept: Vec<ResultRow> = earlier.rows.into_iter().filter(|r| !redone(r)).collect();
        let count = kept.len();
        let mut budgets = earlier.budgets;
        for b in &self.budgets {
            if !budgets.contains(b) {
                budgets.push(*b);
            }
        }
        self.budgets = budgets;
        self.rows.splice(0..0, kept);
        self.summarise();
        count
    }

    /// Merges the rows of the `results.json` already in `dir` that this
    /// evaluation did not redo (see [`EvalResults::merge_earlier`]), then
    /// saves; the number kept goes to `log`.
    pub fn save_merged(&mut self, dir: &Path, log: &mut dyn FnMut(&str)) -> Result<(), RunsError> {
        let earlier_path = dir.join("results.json");
        if earlier_path.is_file()
            && let Ok(earlier) = EvalResults::load(&earlier_path)
        {
            let kept = self.merge_earlier(earlier);
            if kept > 0 {
                log(&format!(
                    "kept {kept} earlier results this evaluation did not redo"
                ));
            }
        }
        self.save(dir)
    }

    /// Writes `results.json` and `results.md` into `dir` (each atomically).
    pub fn save(&self, dir: &Path) -> Result<(), RunsError> {
        std::fs::create_dir_all(dir).map_err(|e| RunsError::io(dir, e))?;
        let json = serde_json::to_string_pretty(self).expect("results always serialise");
        write_atomic(&dir.join("results.json"), json.as_bytes())?;
        write_atomic(&dir.join("results.md"), self.markdown().as_bytes())?;
        Ok(())
    }

    /// Reads `results.json`.
    pub fn load(path: &Path) -> Result<Self, RunsError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunsError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| RunsError::Malformed {
            path: path.to_path_buf(),
            reason: format!("not a results file: {e}"),
        })
    }
}

/// Every results file of the run at `run`: `eval/results.json` (image runs
/// evaluated before results went one folder per task), then
/// `eval/<task>/results.json` by task name. Only files that exist.
pub fn results_files(run: &Path) -> Vec<PathBuf> {
    let eval_dir = run.join("eval");
    let mut per_task: Vec<PathBuf> = std::fs::read_dir(&eval_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("results.json")))
                .collect()
        })
        .unwrap_or_default();
    per_task.sort();
    let mut files = vec![eval_dir.join("results.json")];
    files.extend(per_task);
    files.retain(|f| f.is_file());
    files
}

/// One markdown table across several runs' results: rows (run, source, head),
/// columns the union of their budgets, fewest labels first.
pub fn compare_table(results: &[(String, EvalResults)]) -> String {
    let budgets = union_of_budgets(results.iter().map(|(_, r)| r));
    let named: Vec<(&str, &EvalResults)> = results.iter().map(|(n, r)| (n.as_str(), r)).collect();
    table(&named, &budgets)
}

/// The budgets of several results, each once, fewest labels first
/// (n/class, then fractions, then all).
pub(crate) fn union_of_budgets<'a>(
    results: impl Iterator<Item = &'a EvalResults>,
) -> Vec<LabelBudget> {
    let mut budgets: Vec<LabelBudget> = Vec::new();
    for r in results {
        for b in &r.budgets {
            if !budgets.contains(b) {
                budgets.push(*b);
            }
        }
    }
    let order = |b: &LabelBudget| match *b {
        LabelBudget::PerClass(n) => (0, n as f64),
        LabelBudget::Fraction(f) => (1, f),
        LabelBudget::All => (2, 0.0),
    };
    budgets.sort_by(|a, b| {
        order(a)
            .partial_cmp(&order(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    budgets
}

fn table(results: &[(&str, &EvalResults)], budgets: &[LabelBudget]) -> String {
    let (header, rows) = cells(results, budgets);
    render(&header, &rows)
}

/// A markdown table with padded columns.
pub(crate) fn render(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(header);
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    out += &line(&rule);
    for r in rows {
        out += &line(r);
    }
    out
}

/// The header and rows of the summary table (cells `mean ± std`, percent;
/// with the number of seeds, `(n=20)`, where a result's rows differ in it).
fn cells(
    results: &[(&str, &EvalResults)],
    budgets: &[LabelBudget],
) -> (Vec<String>, Vec<Vec<String>>) {
    let with_run = results.len() > 1 || !results.iter().all(|(n, _)| n.is_empty());
    let mut header = Vec::new();
    if with_run {
        header.push("run".to_string());
    }
    header.push("encoder + head".into());
    header.extend(budgets.iter().map(|b| b.to_string()));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (name, r) in results {
        // Seeds differ between rows when a later evaluation added seeds to
        // some heads only: then each cell says how many it averages.
        let uneven = r.summary.iter().any(|s| s.seeds != r.summary[0].seeds);
        let mut keys: Vec<(Source, String)> = Vec::new();
        for s in &r.summary {
            if !keys.contains(&(s.source, s.head.clone())) {
                keys.push((s.source, s.head.clone()));
            }
        }
        keys.sort_by_key(|(source, head)| (*source, head_order(head), head.clone()));
        for (source, head) in keys {
            let mut row = Vec::new();
            if with_run {
                row.push(name.to_string());
            }
            row.push(label(source, &head));
            for b in budgets {
                let cell = r
                    .summary
                    .iter()
                    .find(|s| s.source == source && s.head == head && s.budget == *b)
                    .map(|s| {
                        let cell = if s.seeds > 1 {
                            format!("{:.1} ± {:.1}", 100.0 * s.mean, 100.0 * s.std)
                        } else {
                            format!("{:.1}", 100.0 * s.mean)
                        };
                        match uneven {
                            true => format!("{cell} (n={})", s.seeds),
                            false => cell,
                        }
                    })
                    .unwrap_or_else(|| "–".into());
                row.push(cell);
            }
            rows.push(row);
        }
    }
    (header, rows)
}

/// Heads in reading order: linear, kNN, MLP, fine-tune.
pub(crate) fn head_order(head: &str) -> usize {
    match head {
        "linear" => 0,
        h if h.starts_with("knn") => 1,
        "mlp" => 2,
        _ => 3,
    }
}

/// Mean and sample standard deviation.
pub fn mean_std(values: &[f32]) -> (f32, f32) {
    let n = values.len();
    if n == 0 {
        return (f32::NAN, f32::NAN);
    }
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    if n == 1 {
        return (mean as f32, 0.0);
    }
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    (mean as f32, var.sqrt() as f32)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A result row with the fields the tests look at.
    pub(crate) fn row(source: Source, head: &str, budget: &str, seed: u64, acc: f32) -> ResultRow {
        ResultRow {
            source,
            head: head.into(),
            budget: budget.parse().unwrap(),
            seed,
            train_labels: 10,
            val_labels: 10,
            test_accuracy: acc,
            val_accuracy: None,
            best_epoch: None,
            epochs: None,
            curve: vec![],
            detail: None,
            seconds: 0.0,
            confusion: Vec::new(),
        }
    }

    fn results() -> EvalResults {
        let mut r = EvalResults {
            run: "r".into(),
            task: "t".into(),
            task_file: "t.toml".into(),
            task_overrides: Vec::new(),
            checkpoint_epoch: 3,
            classes: 10,
            class_names: Vec::new(),
            modality: Modality::Image,
            pool_size: 100,
            test_size: 50,
            budgets: vec!["1/class".parse().unwrap(), "all".parse().unwrap()],
            readout: Readout::default(),
            rows: vec![
                row(Source::RawPixels, "linear", "1/class", 0, 0.5),
                row(Source::Pretrained, "linear", "1/class", 0, 0.8),
                row(Source::Pretrained, "linear", "1/class", 1, 0.9),
                row(Source::Pretrained, "knn-20", "all", 0, 0.95),
                row(Source::RandomInit, "finetune", "1/class", 0, 0.4),
            ],
            summary: vec![],
        };
        r.summarise();
        r
    }

    #[test]
    fn summary_is_the_mean_and_sample_std_over_seeds() {
        let r = results();
        let s = r
            .summary
            .iter()
            .find(|s| s.source == Source::Pretrained && s.head == "linear")
            .unwrap();
        assert_eq!(s.seeds, 2);
        assert!((s.mean - 0.85).abs() < 1e-6);
        assert!((s.std - 0.070_710_7).abs() < 1e-5, "{}", s.std);
        assert_eq!(mean_std(&[0.3]), (0.3, 0.0));
    }

    #[test]
    fn the_table_has_a_row_per_encoder_and_head_and_a_column_per_budget() {
        let md = results().markdown();
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 2 + 4, "{md}");
        assert!(lines[0].contains("1/class") && lines[0].contains("all"));
        assert!(lines[2].contains("pretrained + linear") && lines[2].contains("85.0 ± 7.1"));
        assert!(lines[3].contains("pretrained + knn-20") && lines[3].contains("95.0"));
        assert!(md.contains("supervised from scratch"));
        assert!(md.contains("raw pixels + linear"));
        let cmp = compare_table(&[("a".into(), results()), ("b".into(), results())]);
        assert_eq!(cmp.lines().count(), 2 + 8);
        assert!(cmp.lines().nth(2).unwrap().starts_with("| a "));
        let mut other = results();
        other.budgets = vec![
            "all".parse().unwrap(),
            "10%".parse().unwrap(),
            "5/class".parse().unwrap(),
        ];
        let cmp = compare_table(&[("a".into(), results()), ("b".into(), other)]);
        let header: Vec<&str> = cmp
            .lines()
            .next()
            .unwrap()
            .split('|')
            .map(str::trim)
            .collect();
        assert_eq!(header[3..7], ["1/class", "5/class", "10%", "all"], "{cmp}");
    }

    #[test]
    fn cells_name_their_seed_count_only_when_rows_differ_in_it() {
        // The fixture's pretrained probe has 2 seeds, every other row 1.
        let md = results().markdown();
        assert!(md.contains("85.0 ± 7.1 (n=2)"), "{md}");
        assert!(md.contains("50.0 (n=1)"), "{md}");
        let mut even = results();
        even.rows.retain(|r| r.seed == 0);
        even.summarise();
        assert!(!even.markdown().contains("(n="), "{}", even.markdown());
    }

    #[test]
    fn a_partial_evaluation_replaces_its_rows_and_keeps_the_others() {
        let earlier = results();
        let mut partial = results();
        partial.rows = vec![row(Source::Pretrained, "linear", "1/class", 0, 0.7)];
        partial.budgets = vec!["1/class".parse().unwrap()];
        assert_eq!(partial.merge_earlier(earlier.clone()), 4);
        assert_eq!(partial.rows.len(), 5);
        assert_eq!(partial.budgets, earlier.budgets);
        let s = partial
            .summary
            .iter()
            .find(|s| s.source == Source::Pretrained && s.head == "linear")
            .unwrap();
        assert!((s.mean - 0.8).abs() < 1e-6, "{s:?}");
        // Another checkpoint's results are not mixed in.
        let mut other = results();
        other.checkpoint_epoch = 9;
        assert_eq!(other.merge_earlier(earlier.clone()), 0);
        assert_eq!(other.rows.len(), 5);
        // Nor the features of another readout.
        let mut quadrants = results();
        quadrants.readout = Readout { grid: 2, stages: 1 };
        assert_eq!(quadrants.merge_earlier(earlier), 0);
        assert!(quadrants.markdown().contains("last stage, 2x2 grid"));
    }

    #[test]
    fn results_round_trip_through_json() {
        let dir = tempfile::tempdir().unwrap();
        let r = results();
        r.save(dir.path()).unwrap();
        assert_eq!(
            EvalResults::load(&dir.path().join("results.json")).unwrap(),
            r
        );
        assert!(dir.path().join("results.md").is_file());
    }
}
