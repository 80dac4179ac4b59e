//! pretext: learn representations from unlabelled data.
//!
//! This facade re-exports the crates users build on: [`data`] (datasets,
//! augmentations, batches), [`nn`] (encoders, heads, decoders), [`methods`]
//! (SimCLR, autoencoders), [`train`] (the pretraining loop and run
//! directories), [`eval`] (few-label evaluation against baselines) and
//! [`report`] (figures and the HTML report of a run). The
//! backend is a run-time `burn::tensor::Device`.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use pretext::train::{ExperimentConfig, NoObserver, RunInfo, pretrain};
//!
//! let config = ExperimentConfig::load("experiments/simclr-mnist.toml".as_ref(), &[]).unwrap();
//! let info = RunInfo { backend: "flex".into(), git_revision: None };
//! let summary = pretrain(&config, "runs".as_ref(), &info, &Device::flex(), &mut NoObserver).unwrap();
//! println!("encoder and metrics in {}", summary.run_dir.display());
//! ```
#![warn(missing_docs)]

mod encoder;
mod error;
pub mod export;
pub mod npy;

pub use encoder::Encoder;
pub use error::Error;
pub use export::{export_safetensors, import_safetensors};

pub use pretext_data as data;
pub use pretext_eval as eval;
pub use pretext_methods as methods;
pub use pretext_nn as nn;
pub use pretext_report as report;
pub use pretext_train as train;
