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

mod comparison;
pub mod embed;
mod error;
mod estimate;
mod evaluate;
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
mod paired;
mod results;
mod task;
pub mod text_embed;
mod text_evaluate;
pub mod text_finetune;
mod text_inspect;
mod text_task;
mod tfidf;
mod trained_checkpoint;

pub use comparison::{Cell, ComparisonRow, MethodComparison};
pub use error::EvalError;
pub use estimate::{CostEstimate, PartCost};
pub use evaluate::{EvaluatedRun, evaluate, plan_evaluation};
pub use inspect::{InspectConfig, Inspection, inspect};
pub use neighbours::{MinedNeighbours, mine_neighbours};
pub use outcome::{EpochPoint, HeadOutcome};
pub use paired::{
    PairedDifference, paired_caption, paired_cells, paired_differences, paired_markdown,
};
pub use results::{
    EvalResults, ResultRow, Source, SummaryRow, compare_table, mean_std, results_files,
};
pub use task::{Baseline, Head, TaskConfig, TaskImages};
pub use text_evaluate::{TextRun, evaluate_text};
pub use text_inspect::{TextInspection, inspect_text};
pub use text_task::TextTaskConfig;
pub use tfidf::{SparseLinearModel, SparseRows, Tfidf, TfidfConfig, TfidfFit, fit_tfidf_logistic};
pub use trained_checkpoint::TrainedCheckpoint;
