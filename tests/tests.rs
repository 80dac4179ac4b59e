//! pretext's integration tests: one binary, one module per area.
//! All run on the `flex` CPU backend on small slices of the bundled MNIST
//! and of the committed review sentences (`datasets/reviews`).

mod architecture;
mod cifar;
mod common;
mod docs;
mod evaluate;
mod export;
mod folders;
mod methods;
mod monitor;
mod news;
mod partners;
mod pretrain;
mod report;
mod shipped;
mod text;
mod wgpu;
