//! What a pretext run leaves on disk, as plain data with no tensor type: the
//! run directory and `run.json` ([`RunDir`], [`RunStatus`]), the lines of
//! `metrics.jsonl` ([`StepRecord`], [`EpochRecord`]), evaluation results
//! ([`EvalResults`]) with their paired differences and method comparisons,
//! the feature matrices heads take ([`Features`]), inspections, and the
//! atomic writes every run file goes through.
//!
//! `pretext-train` and `pretext-eval` write these records; `pretext-report`
//! reads them through this crate alone, so it builds without burn.
//!
//! ```no_run
//! use pretext_runs::{EvalResults, RunDir, results_files};
//!
//! let run = RunDir::open("runs/quickstart".as_ref()).unwrap();
//! println!("{} is {}", run.name(), run.status().unwrap().state);
//! for file in results_files(run.path()) {
//!     println!("{}", EvalResults::load(&file).unwrap().markdown());
//! }
//! ```
#![warn(missing_docs)]

mod atomic;
mod comparison;
mod error;
mod features;
mod inspection;
mod metrics;
mod paired;
mod results;
mod run_dir;

pub use atomic::write_atomic;
pub use comparison::{Cell, ComparisonRow, MethodComparison};
pub use error::RunsError;
pub use features::Features;
pub use inspection::{Inspection, TextInspection};
pub use metrics::{EpochRecord, KnnReading, MetricsLog, StepRecord, Throughput, truncate_after};
pub use paired::{
    PairedDifference, paired_caption, paired_cells, paired_differences, paired_markdown,
};
pub use results::{
    EpochPoint, EvalResults, ResultRow, Source, SummaryRow, compare_table, mean_std, results_files,
};
pub use run_dir::{INTERRUPTED, ListedRun, RUNNING, RunDir, RunInfo, RunLock, RunStatus, now_unix};
