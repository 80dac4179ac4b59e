//! The text side of the facade: a text run's encoder with its tokenizer
//! ([`TextEncoder`]) and its export to safetensors. The image side sits at
//! the crate's root (`encoder.rs`, `export.rs`).
mod encoder;
pub mod export;

pub use encoder::TextEncoder;
pub use export::{export_text_safetensors, import_text_safetensors};
