//! The pretraining loop of pretext: experiment configs, optimisers and
//! learning-rate schedules, per-epoch validation, checkpoints and the metrics
//! log of a run directory.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use pretext_train::{ExperimentConfig, RunInfo, pretrain, NoObserver};
//!
//! let config = ExperimentConfig::load("experiments/quickstart.toml".as_ref(), &[]).unwrap();
//! let info = RunInfo { backend: "flex".into(), git_revision: None };
//! let summary = pretrain(&config, "runs".as_ref(), &info, &[Device::flex()], &mut NoObserver).unwrap();
//! println!("{}", summary.run_dir.display());
//! ```
#![warn(missing_docs)]

mod checkpoint;
mod collapse;
mod early_stopping;
mod eigen;
mod error;
mod experiment;
mod fits;
mod monitor;
mod observer;
mod optimizer;
mod pretraining;
mod replicas;
mod schedule;
mod setup;
mod sweep;
mod text;
mod time_budget;
mod trainer;
mod warm_start;

pub use checkpoint::{Checkpoint, CheckpointState, GoodCheckpoint, Needs};
pub use collapse::{Collapse, effective_rank, embedding_std};
pub use early_stopping::{EarlyStopping, Verdict};
pub use eigen::symmetric_eigen;
pub use error::TrainError;
pub use experiment::{Experiment, ExperimentConfig, TEXT_FORMATS, TrainConfig, check_name};
pub use fits::check_fits;
pub use monitor::{DEFAULT_MONITOR_SIZE, MonitorConfig, leave_one_out_knn};
pub use observer::{NoObserver, Observer, Plan};
pub use optimizer::{OptimizerConfig, OptimizerKind};
pub use pretext_data::from_toml_with_overrides;
/// The run records this crate writes, defined in `pretext-runs` (plain data,
/// no burn) and re-exported where callers of the loop look for them.
pub use pretext_runs::{
    EpochRecord, INTERRUPTED, KnnReading, MetricsLog, RUNNING, RunDir, RunInfo, RunLock, RunStatus,
    StepRecord, Throughput, truncate_after, write_atomic,
};
pub use schedule::ScheduleConfig;
pub use sweep::{SweepConfig, SweepMember};
pub use text::{TOKENIZER_FILE, TextExperimentConfig};
pub use trainer::{Summary, pretrain, pretrain_text, resume};
