//! Text data: documents read by one [`TextDataConfig`] registry of formats
//! into a [`TextDataset`], and a WordPiece [`TextTokenizer`] trained on them.

mod config;
mod dataset;
mod encoding;
mod folder;
mod lines;
mod table;
#[cfg(test)]
mod test_data;
mod tokenizer;

pub use config::TextDataConfig;
pub use dataset::{TextDataset, class_names_of};
pub use encoding::TextEncoding;
pub use tokenizer::{Encoded, TextTokenizer, TokenizerConfig};
