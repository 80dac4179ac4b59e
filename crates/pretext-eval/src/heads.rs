//! The pieces every evaluation shares, images or text: the seeded label
//! draws written out for reuse, the frozen-feature heads (linear probe, kNN,
//! MLP) on one draw, and the result row of each head.
use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::transform::derive_seed;
use pretext_data::{LabelBudget, LabelSplit, draw_labels_named};

use pretext_nn::random_streams;

use crate::EvalError;
use crate::evaluation::{HEAD_STREAM, RANDOM_INIT_STREAM};
use crate::features::{Features, accuracy, confusion_matrix};
use crate::knn::{KnnConfig, knn_predict};
use crate::linear::{LinearProbeConfig, fit_linear};
use crate::mlp::{MlpHeadConfig, fit_mlp};
use crate::outcome::HeadOutcome;
use crate::task::Head;
use pretext_runs::{ResultRow, Source};

/// Every (budget, seed) draw from a pool with `labels`, whose classes are
/// `class_names`. `pool` names the pool in errors (a budget larger than a
/// class, naming every class that falls short).
pub(crate) fn draw_all(
    labels: &[u32],
    class_names: &[String],
    budgets: &[LabelBudget],
    seeds: &[u64],
    pool: &Path,
) -> Result<Vec<LabelSplit>, EvalError> {
    let mut splits = Vec::new();
    for &budget in budgets {
        for &seed in seeds {
            let split = draw_labels_named(labels, class_names, budget, seed).map_err(|e| {
                EvalError::Mismatch {
                    path: pool.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
            splits.push(split);
        }
    }
    Ok(splits)
}

/// Writes each draw to `<dir>/splits/<budget>-seed<seed>.json`, for anyone
/// to reuse.
pub(crate) fn write_splits(splits: &[LabelSplit], dir: &Path) -> Result<(), EvalError> {
    let split_dir = dir.join("splits");
    std::fs::create_dir_all(&split_dir).map_err(|e| EvalError::io(&split_dir, e))?;
    for s in splits {
        let path = split_dir.join(format!("{}-seed{}.json", s.budget.slug(), s.seed));
        let json = serde_json::to_string(s).expect("a split always serialises");
        pretext_runs::write_atomic(&path, json.as_bytes())?;
    }
    Ok(())
}

/// Says, when `dir` already holds this task's results, that a rerun
/// rewrites its label draws and merges into its results.
pub(crate) fn note_rerun(dir: &Path, log: &mut dyn FnMut(&str)) {
    if dir.join("results.json").is_file() {
        log(&format!(
            "{} holds an earlier evaluation of this task: its label draws are rewritten and \
             its results merged with this one's (other tasks' folders are left alone)",
            dir.display()
        ));
    }
}

/// The budgets of `budgets` followed by those of `extra` not already in it.
pub(crate) fn union(budgets: &[LabelBudget], extra: &[LabelBudget]) -> Vec<LabelBudget> {
    let mut all = budgets.to_vec();
    for b in extra {
        if !all.contains(b) {
            all.push(*b);
        }
    }
    all
}

/// Which frozen-feature heads run, with their settings.
pub(crate) struct FrozenHeads<'a> {
    /// The heads the task asks for (only linear, knn and mlp are used here).
    pub heads: &'a [Head],
    /// Linear-probe settings.
    pub linear: &'a LinearProbeConfig,
    /// kNN settings.
    pub knn: &'a KnnConfig,
    /// MLP-head settings.
    pub mlp: &'a MlpHeadConfig,
}

impl FrozenHeads<'_> {
    /// Runs every frozen head on one draw of one source's features; each
    /// result goes to `record`. The MLP head trains on a one-thread pool
    /// (see [`one_thread`]).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        source: Source,
        pool: &Features,
        test: &Features,
        split: &LabelSplit,
        pool_labels: &[u32],
        classes: usize,
        seed: u64,
        device: &Device,
        record: &mut Recorder,
    ) {
        let y_train: Vec<u32> = split.train.iter().map(|&i| pool_labels[i]).collect();
        let y_val: Vec<u32> = split.val.iter().map(|&i| pool_labels[i]).collect();
        let (x_train, x_val) = (pool.select(&split.train), pool.select(&split.val));
        if self.heads.contains(&Head::Linear) {
            let t = Instant::now();
            let fit = fit_linear(&x_train, &y_train, &x_val, &y_val, classes, self.linear);
            let outcome = fit.choice.outcome(fit.model.predict(test));
            record.add(source, "linear", split, outcome, t.elapsed().as_secs_f64());
        }
        if self.heads.contains(&Head::Knn) {
            let t = Instant::now();
            let predictions = knn_predict(&x_train, &y_train, test, classes, self.knn);
            let seconds = t.elapsed().as_secs_f64();
            for (&k, p) in self.knn.k.iter().zip(predictions) {
                let head = format!("knn-{k}");
                let mut outcome = HeadOutcome::untrained(p);
                // Fewer labelled images than k: every one of them votes.
                if k > x_train.rows {
                    outcome.detail = Some(format!("k={}", x_train.rows));
                }
                record.add(source, &head, split, outcome, seconds);
            }
        }
        if self.heads.contains(&Head::Mlp) {
            let t = Instant::now();
            let outcome = one_thread(|| {
                fit_mlp(
                    &x_train, &y_train, &x_val, &y_val, test, classes, self.mlp, seed, device,
                )
            });
            record.add(source, "mlp", split, outcome, t.elapsed().as_secs_f64());
        }
    }
}

/// Collects result rows, scoring each head on the test labels and logging
/// one line per head.
pub(crate) struct Recorder<'a> {
    /// The rows so far.
    pub rows: Vec<ResultRow>,
    test_labels: &'a [u32],
    classes: usize,
    log: &'a mut dyn FnMut(&str),
}

impl<'a> Recorder<'a> {
    /// A recorder scoring against `test_labels`.
    pub fn new(test_labels: &'a [u32], classes: usize, log: &'a mut dyn FnMut(&str)) -> Self {
        Self {
            rows: Vec::new(),
            test_labels,
            classes,
            log,
        }
    }

    /// Scores one head's outcome and keeps its row.
    pub fn add(
        &mut self,
        source: Source,
        head: &str,
        split: &LabelSplit,
        outcome: HeadOutcome,
        seconds: f64,
    ) {
        let predictions = &outcome.test_predictions;
        let row = ResultRow {
            source,
            head: head.to_string(),
            budget: split.budget,
            seed: split.seed,
            train_labels: split.train.len(),
            val_labels: split.val.len(),
            test_accuracy: accuracy(predictions, self.test_labels),
            confusion: confusion_matrix(predictions, self.test_labels, self.classes),
            val_accuracy: outcome.val_accuracy,
            best_epoch: outcome.best_epoch,
            epochs: outcome.epochs,
            curve: outcome.curve,
            detail: outcome.detail,
            seconds,
        };
        (self.log)(&format!(
            "{:<8} seed {} {:<28} test {:5.1}%{}",
            row.budget.to_string(),
            row.seed,
            row.label(),
            100.0 * row.test_accuracy,
            match (row.best_epoch, row.epochs) {
                (Some(b), Some(e)) => format!("  (best epoch {b} of {e}{})", capped(head, b, e)),
                _ => String::new(),
            }
        ));
        self.rows.push(row);
    }
}

/// `n` and `noun`, plural unless `n` is 1: `1 budget`, `3 seeds`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// What the log adds when a trained head was still improving at its last
/// epoch: the epoch cap ended it, not early stopping, and a higher cap may
/// score better. Empty otherwise, and for the linear probe, whose
/// iterations also end when it converges.
fn capped(head: &str, best: usize, epochs: usize) -> String {
    match head {
        "finetune" | "mlp" if best == epochs => format!(
            "; still improving when {head}.max_epochs stopped it, a higher cap may score better"
        ),
        _ => String::new(),
    }
}

/// Which fine-tunings a task asks for on each split of its fine-tuning
/// budgets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FinetuneJobs<'a> {
    /// The budgets fine-tuning runs at.
    pub budgets: &'a [LabelBudget],
    /// Fine-tune the pretrained encoder.
    pub pretrained: bool,
    /// Train the same architecture from a random start (the supervised
    /// baseline).
    pub supervised: bool,
    /// The task file, named when a fine-tuning fails.
    pub task_path: &'a Path,
}

impl FinetuneJobs<'_> {
    /// Runs the jobs on every split of a fine-tuning budget and records
    /// them. `encoder(source, seed)` builds the encoder to start from (the
    /// checkpoint's for [`Source::Pretrained`], a random one from `seed` for
    /// [`Source::RandomInit`]); `finetune(encoder, pretrained, split,
    /// head_seed)` trains it and scores the test set. Both encoders of a
    /// split are built before either trains.
    ///
    /// Each fine-tuning runs on a one-thread rayon pool (see
    /// [`one_thread`]).
    pub fn run<E: Send>(
        &self,
        splits: &[LabelSplit],
        record: &mut Recorder,
        mut encoder: impl FnMut(Source, u64) -> Result<E, EvalError>,
        mut finetune: impl FnMut(E, bool, &LabelSplit, u64) -> Result<HeadOutcome, String> + Send,
    ) -> Result<(), EvalError> {
        for split in splits.iter().filter(|s| self.budgets.contains(&s.budget)) {
            let head_seed = derive_seed(split.seed, HEAD_STREAM);
            let mut jobs: Vec<(Source, E)> = Vec::new();
            if self.pretrained {
                jobs.push((Source::Pretrained, encoder(Source::Pretrained, head_seed)?));
            }
            if self.supervised {
                let seed = derive_seed(head_seed, RANDOM_INIT_STREAM);
                jobs.push((Source::RandomInit, encoder(Source::RandomInit, seed)?));
            }
            for (source, start) in jobs {
                let t = Instant::now();
                let pretrained = source == Source::Pretrained;
                let outcome = one_thread(|| finetune(start, pretrained, split, head_seed))
                    .map_err(|reason| EvalError::Task {
                        path: self.task_path.to_path_buf(),
                        reason,
                    })?;
                record.add(
                    source,
                    "finetune",
                    split,
                    outcome,
                    t.elapsed().as_secs_f64(),
                );
            }
        }
        Ok(())
    }
}

/// Runs `f` on a rayon pool of one thread (holding the random streams this
/// thread holds: [`random_streams::on_one_thread`]), so the backend's
/// parallel kernels add in one order on every machine. Fine-tuning from a
/// few labels is chaotic: on flex, the supervised baseline's third MNIST
/// draw at 10 labels per class scored 93.2% with two threads and 90.5% with
/// one (`RAYON_NUM_THREADS=1`), its training losses apart by 1e-5 after the
/// first epoch; each thread count repeated bit for bit, but two threads
/// gave 90.1% when the evaluation had fine-tuned the pretrained encoder
/// first. On this pool the draw gives 90.9% both alone and after that
/// fine-tune, bit for bit. One thread cost nothing there (188 s against
/// 199 s): at 64 images a step the second core bought nothing.
pub(crate) fn one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    random_streams::on_one_thread(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_still_improving_at_its_epoch_cap_says_so() {
        assert!(capped("finetune", 40, 40).contains("finetune.max_epochs stopped it"));
        assert!(capped("mlp", 12, 12).contains("mlp.max_epochs stopped it"));
        assert_eq!(capped("finetune", 12, 27), "");
        assert_eq!(capped("linear", 30, 30), "");
    }

    #[test]
    fn counts_take_the_plural_from_two() {
        assert_eq!(count(1, "budget"), "1 budget");
        assert_eq!(count(3, "seed"), "3 seeds");
    }
}
