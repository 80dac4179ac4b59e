//! Losses: pure functions of tensors, one per file.
mod nt_xent;
mod reconstruction;

pub use nt_xent::nt_xent;
pub use reconstruction::{ReconstructionLoss, reconstruction};
