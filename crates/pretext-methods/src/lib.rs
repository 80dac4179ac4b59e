//! Self-supervised methods for pretext. Each method is three small units: a
//! loss (`loss/`, pure tensor functions), the augmentations it asks for (views,
//! from `pretext-data`), and a method (`method/`) that wires an encoder, its
//! heads and the loss into one training step. [`MethodConfig`] is the one
//! registry of methods. Text methods (SimCSE, TSDAE) take token sequences
//! and have their own registry, [`TextMethodConfig`], in [`text`].
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use pretext_methods::{InputSpec, MethodConfig};
//! use pretext_nn::{EncoderConfig, InputShape};
//!
//! let device = Device::flex();
//! let method = MethodConfig::default().init(
//!     &EncoderConfig::default(),
//!     &InputSpec::new(InputShape::new(1, 28, 28)),
//!     &device,
//! );
//! let views: Vec<Tensor<4>> = (0..2).map(|_| Tensor::random([4, 1, 28, 28],
//!     burn::tensor::Distribution::Default, &device)).collect();
//! let out = method.forward(&views);
//! assert!(out.loss.into_scalar::<f32>().is_finite());
//! ```
#![warn(missing_docs)]

pub mod loss;
pub mod method;
pub mod text;

pub use method::{
    InputSpec, Method, MethodConfig, Replica, StepOutput, StepProgress, StepReplicas,
};
pub use text::{TextMethod, TextMethodConfig};
