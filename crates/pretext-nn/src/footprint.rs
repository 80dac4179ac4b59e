//! What a network will hold before it is built: its parameters, and the
//! activations one image leaves for the backward pass. Counted in floats,
//! as `f64`, so that an absurd setting (`widths = [1e12]`) gives an absurd
//! estimate instead of an overflow; callers compare it with the memory
//! budget (`pretext_data::memory`) and refuse what does not fit.
use std::ops::Add;

/// Floats a network holds: parameters, and activations per input.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Footprint {
    /// Parameters and buffers (batch-norm statistics included).
    pub params: f64,
    /// Activations one input keeps for the backward pass.
    pub activations: f64,
}

impl Footprint {
    /// A footprint of `params` and `activations` floats.
    pub fn new(params: f64, activations: f64) -> Self {
        Self {
            params,
            activations,
        }
    }

    /// A `k x k` convolution without bias from `c_in` to `c_out` channels
    /// and its batch norm (two weights and two statistics a channel), with
    /// an output map of `pixels`: the convolution, the norm and the ReLU
    /// each keep one.
    pub fn conv_bn(k: usize, c_in: usize, c_out: usize, pixels: f64) -> Self {
        let (k, c_in, c_out) = (k as f64, c_in as f64, c_out as f64);
        Self::new(k * k * c_in * c_out + 4.0 * c_out, 3.0 * c_out * pixels)
    }

    /// A linear layer with bias, keeping its output.
    pub fn linear(d_in: usize, d_out: usize) -> Self {
        let (d_in, d_out) = (d_in as f64, d_out as f64);
        Self::new(d_in * d_out + d_out, d_out)
    }
}

impl Add for Footprint {
    type Output = Footprint;
    fn add(self, other: Footprint) -> Footprint {
        Footprint::new(
            self.params + other.params,
            self.activations + other.activations,
        )
    }
}

impl std::iter::Sum for Footprint {
    fn sum<I: Iterator<Item = Footprint>>(iter: I) -> Footprint {
        iter.fold(Footprint::default(), Add::add)
    }
}
