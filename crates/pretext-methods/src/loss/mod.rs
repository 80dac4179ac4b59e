//! Losses: pure functions of tensors, one per file.
mod barlow_twins;
mod byol;
mod dcl;
mod gaussian_kl;
mod info_nce;
mod masked_mse;
mod nnclr;
mod nt_xent;
mod predicted_cosines;
mod reconstruction;
mod scan;
mod self_label;
mod simcse;
mod simsiam;
mod skip_gram;
#[cfg(test)]
mod testing;
mod token_cross_entropy;
mod vicreg;

pub use barlow_twins::barlow_twins;
pub use byol::byol;
pub use dcl::dcl;
pub use gaussian_kl::gaussian_kl;
pub use info_nce::info_nce;
pub use masked_mse::masked_mse;
pub use nnclr::{nearest_neighbours, nnclr};
pub use nt_xent::{l2_normalize, nt_xent};
pub use reconstruction::{ReconstructionLoss, reconstruction};
pub use scan::scan;
pub use self_label::self_label;
pub use simcse::simcse;
pub use simsiam::simsiam;
pub use skip_gram::skip_gram;
pub use token_cross_entropy::token_cross_entropy;
pub use vicreg::{VicregWeights, vicreg};
