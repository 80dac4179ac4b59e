//! Text data: documents read by one [`TextDataConfig`] registry of formats
//! into a [`TextDataset`].

mod config;
mod dataset;
mod encoding;
mod folder;
mod lines;
mod table;
#[cfg(test)]
mod test_data;

pub use config::TextDataConfig;
pub use dataset::{TextDataset, class_names_of};
pub use encoding::TextEncoding;
