//! The shape of one input image, which every network is built for.
use serde::{Deserialize, Serialize};

/// `channels x height x width` of one input image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    /// Number of channels (1 grey, 3 RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl InputShape {
    /// A shape of `channels x height x width`.
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Number of values in one image.
    pub fn numel(&self) -> usize {
        self.channels * self.height * self.width
    }
}
