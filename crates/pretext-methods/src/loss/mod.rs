//! Losses: pure functions of tensors, one per file.
mod barlow_twins;
mod nt_xent;
mod reconstruction;
#[cfg(test)]
mod testing;
mod vicreg;

pub use barlow_twins::barlow_twins;
pub use nt_xent::{l2_normalize, nt_xent};
pub use reconstruction::{ReconstructionLoss, reconstruction};
pub use vicreg::{VicregWeights, vicreg};
