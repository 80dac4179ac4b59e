//! pretext's integration tests: one binary, one module per area.
//! All run on the `flex` CPU backend on small slices of the bundled MNIST.

mod common;
mod evaluate;
mod export;
mod methods;
mod pretrain;
mod report;
mod wgpu;
