//! Losses: pure functions of tensors, one per file.
mod nt_xent;
mod reconstruction;

pub use nt_xent::{l2_normalize, nt_xent};
pub use reconstruction::{ReconstructionLoss, reconstruction};
