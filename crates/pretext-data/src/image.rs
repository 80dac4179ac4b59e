//! One image as `f32` planes in `[0, 1]`, the unit every augmentation works on.

/// An image stored channel-first (`[channels, height, width]`), values in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Number of channels (1 grey, 3 RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// `channels * height * width` values, channel planes one after another.
    pub data: Vec<f32>,
}

impl Image {
    /// An image of zeros.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    /// Converts channel-first `u8` pixels to `[0, 1]` floats.
    ///
    /// # Panics
    /// If `pixels.len() != channels * height * width`.
    pub fn from_u8(pixels: &[u8], channels: usize, height: usize, width: usize) -> Self {
        assert_eq!(pixels.len(), channels * height * width, "pixel count");
        Self {
            channels,
            height,
            width,
            data: pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        }
    }

    /// The value at channel `c`, row `y`, column `x`.
    #[inline]
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }

    /// A mutable reference to the value at channel `c`, row `y`, column `x`.
    #[inline]
    pub fn get_mut(&mut self, c: usize, y: usize, x: usize) -> &mut f32 {
        &mut self.data[(c * self.height + y) * self.width + x]
    }

    /// One channel plane.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.height * self.width;
        &self.data[c * n..(c + 1) * n]
    }
}
