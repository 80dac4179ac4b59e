//! Decoders: embedding in, image out, for autoencoders.
mod conv;

pub use conv::{ConvDecoder, ConvDecoderConfig};
