//! The evaluation of one task on one run, written once for images and text:
//! the label draws written out, the frozen features of every source under
//! every frozen head, the side's own heads (TF-IDF), fine-tuning and the
//! supervised baseline, then the results merged into `<run>/eval/<task>/`.
//! What differs between images and text is behind [`Evaluation`], which
//! `evaluate.rs` and `text/evaluate.rs` implement.
use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::transform::derive_seed;
use pretext_data::{LabelBudget, LabelSplit};
use pretext_runs::{EvalResults, Source};

use crate::EvalError;
use crate::features::Features;
use crate::finetune_loop::{Labelled, finetune};
use crate::heads::{
    FinetuneJobs, FrozenHeads, Recorder, draw_all, note_rerun, union, write_splits,
};
use crate::run::Run;
use crate::side::Side;
use crate::task::{Baseline, Head, Task};

/// Streams of the seeds derived from a task's seed (the k-means baseline's
/// is in `evaluate.rs`).
pub(crate) const RANDOM_INIT_STREAM: u64 = 0x5241_4E44;
pub(crate) const HEAD_STREAM: u64 = 0x4845_4144;

/// One line saying which of the pool's classes the test set lacks.
pub(crate) fn absent_line(absent: &[String], items: &str) -> String {
    let (what, verb) = if absent.len() == 1 {
        ("class", "has")
    } else {
        ("classes", "have")
    };
    format!(
        "the labelled pool's {what} {} {verb} no test {items}: learned, never scored",
        pretext_data::listed(absent)
    )
}

/// The classes of `names` that no label of `test` holds.
pub(crate) fn absent_classes(names: &[String], test: &[u32]) -> Vec<String> {
    let mut seen = vec![false; names.len()];
    for &l in test {
        if let Some(s) = seen.get_mut(l as usize) {
            *s = true;
        }
    }
    names
        .iter()
        .zip(seen)
        .filter(|(_, seen)| !seen)
        .map(|(n, _)| n.clone())
        .collect()
}

/// FNV-1a, for cache file names.
pub(crate) fn fnv64(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What every evaluation reads before it writes anything, images or text:
/// the run, the task's classes and labels, and every label draw.
pub(crate) struct Drawn<M: Side> {
    /// The run evaluated.
    pub run: Run<M>,
    /// The pool's classes, named (by their values where the data names
    /// none).
    pub classes: Vec<String>,
    /// The class names the results record (empty where the data names
    /// none).
    pub recorded_names: Vec<String>,
    /// Labels of the pool, in its classes.
    pub pool_labels: Arc<Vec<u32>>,
    /// Labels of the test set, in the pool's classes.
    pub test_labels: Vec<u32>,
    /// The budgets drawn: the task's, then fine-tuning's that it lacks
    /// (when fine-tuning or the supervised baseline runs).
    pub budgets: Vec<LabelBudget>,
    /// Every draw of the task, budget after budget.
    pub splits: Vec<LabelSplit>,
}

impl<M: Side> Drawn<M> {
    /// Draws every (budget, seed) split of `task` from the pool's labels;
    /// `source` names the pool in errors (a budget larger than a class).
    pub fn new(
        run: Run<M>,
        task: &Task<M>,
        (classes, recorded_names): (Vec<String>, Vec<String>),
        (pool_labels, test_labels): (Vec<u32>, Vec<u32>),
        source: &Path,
    ) -> Result<Self, EvalError> {
        let budgets = union(&task.budgets, &trained_budgets(task));
        let splits = draw_all(&pool_labels, &classes, &budgets, &task.seed_list(), source)?;
        Ok(Self {
            run,
            classes,
            recorded_names,
            pool_labels: Arc::new(pool_labels),
            test_labels,
            budgets,
            splits,
        })
    }
}

/// A task's data on a run, read and checked, with its label draws: what
/// [`run_task`] needs from one kind of data.
pub(crate) trait Evaluation: Sync {
    /// The kind of data.
    type Side: Side;
    /// The labelled data one fine-tuning on a draw sees.
    type Labelled<'a>: Labelled<Side = Self::Side>
    where
        Self: 'a;

    /// The run, the classes, the labels and the draws.
    fn drawn(&self) -> &Drawn<Self::Side>;
    /// The frozen features of every source the task compares, for the pool
    /// and the test set, in the order their rows are recorded.
    fn frozen_features(
        &self,
        task: &Task<Self::Side>,
        device: &Device,
        log: &mut dyn FnMut(&str),
    ) -> Result<Vec<(Source, Features, Features)>, EvalError>;
    /// The heads of one draw only this kind of data has (TF-IDF for text);
    /// none by default.
    fn own_heads(&self, _task: &Task<Self::Side>, _split: &LabelSplit, _record: &mut Recorder) {}
    /// The labelled data of the draw `split`, as fine-tuning reads it.
    fn labelled<'a>(&'a self, split: &'a LabelSplit) -> Self::Labelled<'a>;
}

/// The budgets fine-tuning and the supervised baseline run at, when either
/// runs; none otherwise.
pub(crate) fn trained_budgets<M: Side>(task: &Task<M>) -> Vec<LabelBudget> {
    if task.runs(Head::Finetune) || task.compares_with(Baseline::Supervised) {
        task.finetune_budgets()
    } else {
        Vec::new()
    }
}

/// Evaluates `task` on what `e` read: writes the label draws, runs every
/// head on every source and draw, and merges the results into the task's
/// folder (see [`EvalResults::save_merged`]).
pub(crate) fn run_task<E: Evaluation>(
    e: &E,
    task: &Task<E::Side>,
    device: &Device,
    log: &mut dyn FnMut(&str),
) -> Result<EvalResults, EvalError> {
    let drawn = e.drawn();
    let run = &drawn.run;
    let eval_dir = run.eval_dir(&task.name);
    note_rerun(&eval_dir, log);
    write_splits(&drawn.splits, &eval_dir)?;
    let sources = e.frozen_features(task, device, log)?;
    let (pool_labels, test_labels) = (drawn.pool_labels.as_slice(), drawn.test_labels.as_slice());
    let classes = drawn.classes.len();

    let mut record = Recorder::new(test_labels, classes, log);
    let frozen = FrozenHeads {
        heads: &task.heads,
        linear: &task.linear,
        knn: &task.knn,
        mlp: &task.mlp,
    };
    for split in drawn
        .splits
        .iter()
        .filter(|s| task.budgets.contains(&s.budget))
    {
        let head_seed = derive_seed(split.seed, HEAD_STREAM);
        for (source, pool, test) in &sources {
            frozen.run(
                *source,
                pool,
                test,
                split,
                pool_labels,
                classes,
                head_seed,
                device,
                &mut record,
            );
        }
        e.own_heads(task, split, &mut record);
    }

    let trained_budgets = trained_budgets(task);
    let train_device = device.clone().autodiff();
    FinetuneJobs {
        budgets: &trained_budgets,
        pretrained: task.runs(Head::Finetune),
        supervised: task.compares_with(Baseline::Supervised),
        task_path: &task.path,
    }
    .run(
        &drawn.splits,
        &mut record,
        |source, seed| match source {
            Source::Pretrained => run.encoder(&train_device),
            _ => Ok(run.random_encoder(seed, &train_device)),
        },
        |encoder, pretrained, split, head_seed| {
            let labelled = e.labelled(split);
            finetune(
                encoder,
                pretrained,
                &labelled,
                &task.finetune,
                head_seed,
                device,
            )
        },
    )?;

    let rows = record.rows;
    let mut results = EvalResults {
        run: run.dir.name(),
        task: task.name.clone(),
        task_file: task.path.display().to_string(),
        task_overrides: task.overrides.clone(),
        checkpoint_epoch: run.trained.state.epoch,
        classes,
        class_names: drawn.recorded_names.clone(),
        modality: E::Side::MODALITY,
        pool_size: pool_labels.len(),
        test_size: test_labels.len(),
        budgets: drawn.budgets.clone(),
        readout: task.readout,
        rows,
        summary: Vec::new(),
    };
    results.summarise();
    results.save_merged(&eval_dir, log)?;
    Ok(results)
}
