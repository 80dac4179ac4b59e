//! Networks for pretext: encoders that turn images (and, in [`text`], token
//! sequences) into embeddings, heads that sit on them during pretraining, and
//! decoders for autoencoders.
//!
//! Every network is a burn module built from a serde config and a `Device`;
//! tensors carry only their rank, the device picks the backend at run time.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use pretext_nn::{EncoderConfig, InputShape};
//!
//! let device = Device::flex();
//! let encoder = EncoderConfig::default().init(InputShape::new(1, 28, 28), &device);
//! let x = Tensor::<4>::zeros([2, 1, 28, 28], &device);
//! assert_eq!(encoder.forward(x).dims(), [2, encoder.out_dim()]);
//! ```
#![warn(missing_docs)]

pub mod decoder;
pub mod encoder;
pub mod footprint;
pub mod head;
mod input;
pub mod kernel;
pub mod random_streams;
pub mod text;

pub use decoder::{ConvDecoder, ConvDecoderConfig};
pub use encoder::{Encoder, EncoderConfig, Readout};
pub use footprint::Footprint;
pub use head::{ClassifierHead, ClassifierHeadConfig, ProjectionHead, ProjectionHeadConfig};
pub use input::InputShape;
pub use text::{TextEncoder, TextEncoderConfig, Tokens};
