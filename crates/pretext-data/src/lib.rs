//! Data for pretext. Images: datasets kept as compact `u8` pixels, seeded
//! splits, channel statistics, one augmentation per file, multi-view
//! transforms, and batches assembled in parallel ahead of the training step.
//! Text ([`text`]): documents in several formats, a WordPiece tokenizer,
//! token-level augmentations and padded id batches.
//!
//! ```no_run
//! use pretext_data::{DatasetConfig, ImageDataset};
//! let config: DatasetConfig = DatasetConfig::Idx {
//!     images: "datasets/mnist/train-images-idx3-ubyte.gz".into(),
//!     labels: None,
//!     limit: Some(1000),
//! };
//! let data: ImageDataset = config.load(std::path::Path::new(".")).unwrap();
//! assert_eq!(data.shape(), (1, 28, 28));
//! ```
#![warn(missing_docs)]

mod budget;
mod classes;
pub mod dataset;
mod error;
pub mod external;
mod image;
#[cfg(feature = "tensor")]
pub mod loader;
mod loader_config;
pub mod memory;
mod modality;
mod partners;
mod readout;
pub mod settings;
mod split;
mod stats;
pub mod text;
pub mod transform;

pub use budget::{LabelBudget, LabelSplit, draw_labels, draw_labels_named};
pub use classes::listed;
pub use dataset::{DatasetConfig, ImageDataset};
pub use error::DataError;
pub use image::Image;
#[cfg(feature = "tensor")]
pub use loader::{Batch, BatchLoader};
pub use loader_config::LoaderConfig;
pub use modality::{Modality, experiment_format};
pub use partners::Partners;
pub use readout::Readout;
pub use settings::from_toml_with_overrides;
pub use split::{stratified_test_split, test_split, train_val_split};
pub use stats::ChannelStats;
pub use text::{
    Encoded, TextAugmentConfig, TextBatch, TextDataConfig, TextDataset, TextEncoding, TextLoader,
    TextTokenizer, TokenIds, TokenizerConfig,
};
pub use transform::{AugmentConfig, MultiView, Pipeline, Transform, TransformConfig};

/// The random number generator every augmentation draws from: seeded per
/// sample, so results do not depend on thread scheduling.
pub type Rng = rand_chacha::ChaCha8Rng;
