//! pretext: learn representations from unlabelled data.
//!
//! [`Encoder`] is what other programs use: load a pretrained encoder from a
//! run in one line, embed images, export it to safetensors for other
//! frameworks. [`TextEncoder`] loads a text run's encoder with its tokenizer
//! and embeds sentences or documents, and exports it with its tokenizer
//! ([`export_text_safetensors`]). The facade also re-exports the crates pretext is built from:
//! [`data`] (datasets, augmentations, batches), [`nn`] (encoders, heads,
//! decoders), [`methods`] (SimCLR, autoencoders), [`train`] (the pretraining
//! loop), [`eval`] (few-label evaluation against baselines), [`runs`] (what
//! a run leaves on disk, as plain data) and [`report`] (figures and the HTML
//! report of a run). The
//! backend is a run-time `burn::tensor::Device`.
//!
//! Pretrain a (tiny) encoder, load it, embed images, export and import it:
//!
//! ```
//! use burn::tensor::Device;
//! use pretext::train::{ExperimentConfig, NoObserver, RunInfo, pretrain};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mnist = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/mnist/train-images-idx3-ubyte.gz");
//! let experiment = format!(
//!     "name = \"tiny\"\n[data]\nformat = \"idx\"\nimages = \"{mnist}\"\nlimit = 256\n\
//!      [encoder]\nkind = \"small_cnn\"\nwidths = [4, 8]\n[train]\nepochs = 1\nbatch_size = 64\n"
//! );
//! let config = ExperimentConfig::from_toml(&experiment, "tiny.toml".as_ref(), &[])?;
//! let runs = tempfile::tempdir()?;
//! let info = RunInfo { backend: "flex".into(), git_revision: None };
//! let device = Device::flex();
//! let run = pretrain(&config, runs.path(), &info, std::slice::from_ref(&device), &mut NoObserver)?.run_dir;
//!
//! let encoder = pretext::Encoder::load(&run, &device)?;
//! let digit = image::GrayImage::from_pixel(28, 28, image::Luma([200])).into();
//! let embedding = &encoder.embed_images(&[digit])?[0];
//! assert_eq!(embedding.len(), encoder.dim());
//!
//! let export = runs.path().join("export");
//! pretext::export_safetensors(&encoder, &export)?; // encoder.safetensors, config.json
//! let again = pretext::import_safetensors(&export, &device)?;
//! assert_eq!(again.dim(), encoder.dim());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod encoder;
mod error;
pub mod export;
pub mod npy;
mod pretrained;
mod stale;
pub mod text;
/// The text export under its earlier path (`pretext::text::export` now).
#[doc(hidden)]
pub use text::export as text_export;

pub use encoder::Encoder;
pub use error::Error;
pub use export::{export_safetensors, import_safetensors};
pub use pretrained::Pretrained;
pub use text::{TextEncoder, export_text_safetensors, import_text_safetensors};

pub use pretext_data as data;
pub use pretext_eval as eval;
pub use pretext_methods as methods;
pub use pretext_nn as nn;
pub use pretext_report as report;
pub use pretext_runs as runs;
pub use pretext_train as train;
