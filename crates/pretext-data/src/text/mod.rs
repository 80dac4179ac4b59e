//! Text data: documents read by one [`TextDataConfig`] registry of formats, a
//! WordPiece [`TextTokenizer`] trained on them, token-level augmentations
//! ([`TextAugmentConfig`]) and a [`TextLoader`] of padded id batches. No
//! tensor types: batches are plain buffers.
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//! use pretext_data::LoaderConfig;
//! use pretext_data::text::{
//!     TextAugmentConfig, TextDataConfig, TextEncoding, TextLoader, TextTokenizer, TokenizerConfig,
//! };
//!
//! let config = TextDataConfig::LabelText {
//!     path: "../shared/datasets/text/sentences/stsa.binary.train".into(),
//!     limit: None,
//!     encoding: TextEncoding::Utf8,
//! };
//! let data = config.load(Path::new(".")).unwrap();
//! let tokenizer = TextTokenizer::train(data.docs(), &TokenizerConfig::default()).unwrap();
//! let encoded = tokenizer.encode_all(data.docs());
//! let augment = TextAugmentConfig { deletion: 0.1, span_mask: 0.15, swap: 0.0 };
//! let loader = TextLoader::new(
//!     Arc::new(encoded.ids),
//!     data.labels().map(|l| Arc::new(l.to_vec())),
//!     (0..data.len()).collect(),
//!     LoaderConfig::default(),
//! )
//! .with_views(2, augment);
//! for batch in loader.epoch(0) {
//!     let [b, l] = batch.views[0].shape; // ids and mask are [B, L]
//!     assert_eq!(batch.views[0].ids.len(), b * l);
//! }
//! ```

mod augment;
mod column;
mod config;
mod dataset;
mod encoding;
mod folder;
mod lines;
mod loader;
mod table;
#[cfg(test)]
mod test_data;
mod tokenizer;

pub use augment::TextAugmentConfig;
pub use column::{Column, TextColumns};
pub use config::{CorpusPart, TextDataConfig};
pub use dataset::{TextDataset, class_names_of};
pub use encoding::TextEncoding;
pub use loader::{TextBatch, TextLoader, TokenIds};
pub use tokenizer::{Encoded, TextTokenizer, TokenizerConfig};
