//! Downstream evaluation of pretext encoders: does a pretrained encoder make
//! few labels go further than honest baselines?
//!
//! For each label budget and seed, a class-balanced draw of training and
//! validation labels feeds the heads — a linear probe, weighted kNN, an MLP
//! head on frozen embeddings, and full fine-tuning — and the same heads run on
//! the baselines: raw pixels, a randomly initialised encoder, and the same
//! architecture trained from scratch. Test accuracy is reported as mean ± std
//! over seeds. For text, [`fit_tfidf_logistic`] is the baseline a pretrained
//! text encoder must beat: TF-IDF of word unigrams and bigrams and a logistic
//! regression fitted like the linear probe.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use pretext_eval::{TaskConfig, evaluate};
//!
//! let task = TaskConfig::load("experiments/tasks/mnist.toml".as_ref(), &[]).unwrap();
//! let results = evaluate("runs/quickstart".as_ref(), &task, &Device::flex(), &mut |line| println!("{line}")).unwrap();
//! println!("{}", results.markdown());
//! ```
#![warn(missing_docs)]

pub mod embed;
mod error;
mod estimate;
mod evaluate;
mod evaluation;
pub mod features;
pub mod finetune;
mod finetune_loop;
mod heads;
mod inspect;
pub mod kmeans;
pub mod knn;
mod lbfgs;
pub mod linear;
pub mod mlp;
mod neighbours;
mod outcome;
mod run;
mod side;
mod task;
pub mod text;
mod trained_checkpoint;

pub use error::EvalError;
pub use estimate::{CostEstimate, PartCost};
pub use evaluate::{evaluate, plan_evaluation};
pub use inspect::{InspectConfig, inspect};
pub use neighbours::{MinedNeighbours, mine_neighbours};
pub use outcome::HeadOutcome;
pub use run::{EvaluatedRun, Run, TextRun};
pub use side::{FinetuneDefaults, Images, Side, Texts};
pub use task::{Baseline, Head, Task, TaskConfig, TaskImages, TextTaskConfig};
pub use text::{
    Lsa, LsaConfig, LsaFit, SparseLinearModel, SparseRows, Tfidf, TfidfConfig, TfidfFit,
    evaluate_text, fit_tfidf_logistic, inspect_text,
};
pub use trained_checkpoint::TrainedCheckpoint;

/// The records an evaluation writes and the feature matrices its heads
/// take, defined in `pretext-runs` (plain data, no burn) and re-exported
/// here, where callers of [`evaluate`] look for them.
pub use pretext_runs::{
    Cell, ComparisonRow, EpochPoint, EvalResults, Inspection, MethodComparison, PairedDifference,
    ResultRow, Source, SummaryRow, TextInspection, compare_table, mean_std, paired_caption,
    paired_cells, paired_differences, paired_markdown, results_files,
};
