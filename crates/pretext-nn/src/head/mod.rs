//! Heads that sit on an encoder: projection heads for pretraining,
//! classifier heads for downstream evaluation.
mod classifier;
mod projection;

pub use classifier::{ClassifierHead, ClassifierHeadConfig};
pub use projection::{ProjectionHead, ProjectionHeadConfig};
