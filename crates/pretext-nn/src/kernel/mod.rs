//! Kernels of pretext's own, where burn 0.22.1's are slow: burn backend
//! extensions (`#[backend_extension]`) with a forward and a hand-written
//! backward. Each is used through a plain function that takes and returns
//! `Tensor`s and falls back to burn's operation on the backends it does not
//! cover, so callers never name a backend.

pub mod add_relu;
pub mod batch_norm;
pub mod conv;
mod gemm;
pub mod max_pool;
mod routing;
#[cfg(test)]
mod testing;
mod values;
