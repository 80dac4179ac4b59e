//! The text side of pretraining: a text experiment file
//! ([`TextExperimentConfig`]) and the data and forward pass of a text run
//! (`setup.rs`, implementing [`Pretraining`](crate::pretraining::Pretraining)).
//! The image side sits at the crate's root (`experiment.rs`, `setup.rs`).
mod experiment;
pub(crate) mod setup;

pub use experiment::TextExperimentConfig;
pub use setup::TOKENIZER_FILE;
