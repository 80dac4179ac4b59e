//! Heads that sit on an encoder during pretraining.
mod projection;

pub use projection::{ProjectionHead, ProjectionHeadConfig};
