//! 2-D max pooling on flex, plane by plane, with the winner of each window
//! kept as one byte.
//!
//! burn 0.22.1's flex max pooling computes and keeps an `i64` index per
//! output, and its backward scatters through them one value at a time; on
//! the small CNN's SimCLR step the two were a fifth of the time (`perf`, see
//! docs/performance.md). Here the forward writes the output and, when
//! a gradient will be needed, the winner's place in its window (`ky·kw + kx`,
//! one byte); the backward adds each output's gradient to that input. Ties
//! and NaN go as in burn: the first maximum in the window wins, and a NaN
//! wins over any number.
//!
//! Other backends, dilation, ceiling mode and `Same` padding keep burn's
//! operation: [`max_pool2d`] routes by the input's device.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::pool::MaxPool2d;
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use super::routing::{fixed_padding, on_flex};
use super::values::{floats, tensor};

/// 2-D max pooling without dilation.
#[backend_extension(Flex, Autodiff)]
pub trait WindowMaxPool: Backend {
    /// The maximum of each `kernel` window of `x` (`[batch, channels, h, w]`),
    /// windows `stride` apart, with `padding` (`[(top, bottom), (left, right)]`)
    /// that never wins.
    fn window_max_pool2d(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [(usize, usize); 2],
    ) -> FloatTensor<Self>;
}

/// [`MaxPool2d::forward`]: computed by the kernel on flex devices (with or
/// without autodiff) in `f32`, and by burn everywhere else.
///
/// # Shapes
/// - `input`: `[batch, channels, h, w]`; output: `[batch, channels, oh, ow]`
pub fn max_pool2d(pool: &MaxPool2d, input: Tensor<4>) -> Tensor<4> {
    let covered = on_flex(&input)
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && pool.kernel_size[0] * pool.kernel_size[1] <= 256;
    match fixed_padding(&pool.padding).filter(|_| covered) {
        Some(padding) => Tensor::from_dispatch(<Dispatch as WindowMaxPool>::window_max_pool2d(
            input.into_dispatch(),
            pool.kernel_size,
            pool.stride,
            padding,
        )),
        None => pool.forward(input),
    }
}

/// The sizes of one pooling.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    planes: usize,
    h: usize,
    w: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    /// Padding before the first row and column.
    pad: [usize; 2],
    oh: usize,
    ow: usize,
}

impl Geometry {
    fn new(
        x: &Shape,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [(usize, usize); 2],
    ) -> Self {
        let [batch, channels, h, w] = x.dims();
        let out = |size: usize, (begin, end): (usize, usize), axis: usize| {
            let padded = size + begin + end;
            assert!(
                padded >= kernel[axis],
                "a window of {} over {padded} values",
                kernel[axis]
            );
            (padded - kernel[axis]) / stride[axis] + 1
        };
        Self {
            planes: batch * channels,
            h,
            w,
            kernel,
            stride,
            pad: [padding[0].0, padding[1].0],
            oh: out(h, padding[0], 0),
            ow: out(w, padding[1], 1),
        }
    }

    /// Along `axis`, output `o`'s window: the kernel offsets `lo..hi` that
    /// fall inside the input, and the input index of offset 0 (which may lie
    /// before the input: `origin + lo` is the first index inside).
    fn window(&self, axis: usize, o: usize) -> (usize, usize, isize) {
        let size = [self.h, self.w][axis];
        let origin = self.origin(axis, o);
        let lo = (-origin).max(0) as usize;
        let hi = (size as isize - origin).clamp(0, self.kernel[axis] as isize) as usize;
        (lo.min(hi), hi, origin)
    }

    /// Along `axis`, the input index of output `o`'s window offset 0.
    fn origin(&self, axis: usize, o: usize) -> isize {
        (o * self.stride[axis]) as isize - self.pad[axis] as isize
    }
}

/// Pools one plane: each output's maximum and, if `winners` is not empty,
/// its place in the window.
fn pool_plane(g: &Geometry, plane: &[f32], out: &mut [f32], winners: &mut [u8]) {
    if g.kernel == [2, 2] && g.stride == [2, 2] && g.pad == [0, 0] {
        return pool_plane_2x2(g, plane, out, winners);
    }
    for oy in 0..g.oh {
        let (y_lo, y_hi, y0) = g.window(0, oy);
        for ox in 0..g.ow {
            let (x_lo, x_hi, x0) = g.window(1, ox);
            let (mut best, mut at, mut found) = (f32::NEG_INFINITY, 0usize, false);
            for ky in y_lo..y_hi {
                let row = &plane[(y0 + ky as isize) as usize * g.w..];
                for kx in x_lo..x_hi {
                    let v = row[(x0 + kx as isize) as usize];
                    if !found || v > best || v.is_nan() {
                        (best, at, found) = (v, ky * g.kernel[1] + kx, true);
                    }
                }
            }
            let o = oy * g.ow + ox;
            out[o] = best;
            if !winners.is_empty() {
                winners[o] = at as u8;
            }
        }
    }
}

/// [`pool_plane`] for 2x2 windows 2 apart without padding (the small
/// CNN's): the four candidates read directly from two input rows.
fn pool_plane_2x2(g: &Geometry, plane: &[f32], out: &mut [f32], winners: &mut [u8]) {
    for oy in 0..g.oh {
        let top = &plane[2 * oy * g.w..][..2 * g.ow];
        let bottom = &plane[(2 * oy + 1) * g.w..][..2 * g.ow];
        let out = &mut out[oy * g.ow..][..g.ow];
        let candidates = top.chunks_exact(2).zip(bottom.chunks_exact(2));
        for (ox, (o, (t, b))) in out.iter_mut().zip(candidates).enumerate() {
            let (mut best, mut at) = (t[0], 0u8);
            for (v, place) in [(t[1], 1u8), (b[0], 2), (b[1], 3)] {
                if v > best || v.is_nan() {
                    (best, at) = (v, place);
                }
            }
            *o = best;
            if let Some(w) = winners.get_mut(oy * g.ow + ox) {
                *w = at;
            }
        }
    }
}

/// The forward on flex values: the output (`[batch, channels, oh, ow]`)
/// and, when `keep_winners`, the winners (one byte per output).
fn flex_forward(x: &FlexTensor, g: &Geometry, keep_winners: bool) -> (FlexTensor, Vec<u8>) {
    let shape = x.shape();
    let x = floats(x);
    let (plane, pooled) = (g.h * g.w, g.oh * g.ow);
    let mut output = vec![0.0f32; g.planes * pooled];
    let mut winners = vec![0u8; if keep_winners { output.len() } else { 0 }];
    let winner_planes: Vec<&mut [u8]> = match keep_winners {
        true => winners.chunks_mut(pooled).collect(),
        false => (0..g.planes).map(|_| -> &mut [u8] { &mut [] }).collect(),
    };
    output
        .par_chunks_mut(pooled)
        .zip(x.par_chunks(plane))
        .zip(winner_planes)
        .for_each(|((out, plane), winners)| pool_plane(g, plane, out, winners));
    let shape = Shape::new([shape[0], shape[1], g.oh, g.ow]);
    (tensor(output, shape), winners)
}

impl WindowMaxPool for Flex {
    fn window_max_pool2d(
        x: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [(usize, usize); 2],
    ) -> FlexTensor {
        let shape = x.shape();
        let g = Geometry::new(&shape, kernel, stride, padding);
        flex_forward(&x, &g, false).0
    }
}

/// The input's gradient: each output's gradient added to its window's winner.
fn flex_backward(
    g: &Geometry,
    winners: &[u8],
    output_grad: FlexTensor,
    shape: Shape,
) -> FlexTensor {
    let dy = floats(&output_grad);
    let (plane, pooled) = (g.h * g.w, g.oh * g.ow);
    let mut dx = vec![0.0f32; g.planes * plane];
    dx.par_chunks_mut(plane)
        .zip(dy.par_chunks(pooled))
        .zip(winners.par_chunks(pooled))
        .for_each(|((dx, dy), winners)| {
            for oy in 0..g.oh {
                let y0 = g.origin(0, oy);
                for ox in 0..g.ow {
                    let x0 = g.origin(1, ox);
                    let o = oy * g.ow + ox;
                    let at = winners[o] as usize;
                    let (ky, kx) = (at / g.kernel[1], at % g.kernel[1]);
                    let i = (y0 + ky as isize) as usize * g.w + (x0 + kx as isize) as usize;
                    dx[i] += dy[o];
                }
            }
        });
    tensor(dx, shape)
}

impl<C: CheckpointStrategy> WindowMaxPool for Autodiff<Flex, C> {
    fn window_max_pool2d(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [(usize, usize); 2],
    ) -> FloatTensor<Self> {
        /// The backward step: the winners, one byte per output.
        #[derive(Debug)]
        struct WindowMaxPoolBackward;

        impl Backward<Flex, 1> for WindowMaxPoolBackward {
            /// The geometry, the winners, the input's shape.
            type State = (Geometry, Vec<u8>, Shape);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_x] = ops.parents;
                let grad = grads.consume::<Flex>(&ops.node);
                let (g, winners, shape) = ops.state;
                if let Some(node) = node_x {
                    grads.register::<Flex>(node.id, flex_backward(&g, &winners, grad, shape));
                }
            }
        }

        let shape = x.shape();
        let g = Geometry::new(&shape, kernel, stride, padding);
        match WindowMaxPoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (output, winners) = flex_forward(&x.into_primitive(), &g, true);
                prep.finish((g, winners, shape), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex_forward(&x.into_primitive(), &g, false).0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::testing::values;
    use burn::module::Module;
    use burn::nn::PaddingConfig2d;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution, activation};

    fn same<const D: usize>(a: Tensor<D>, b: Tensor<D>, what: &str) {
        assert_eq!(a.dims(), b.dims(), "{what}: shapes");
        assert_eq!(values(a), values(b), "{what}");
    }

    /// The kernel against burn's pooling on the same flex autodiff device:
    /// output and input gradient of a weighted sum, on an input with ties
    /// (a ReLU's zeros).
    fn agrees_with_burn(config: MaxPool2dConfig, input: [usize; 4]) {
        let device = Device::flex().autodiff();
        let pool = config.init();
        let x = activation::relu(Tensor::<4>::random(
            input,
            Distribution::Normal(0.0, 1.0),
            &device,
        ));
        let reference = pool.forward(x.clone());
        let weights =
            Tensor::<4>::random(reference.dims(), Distribution::Normal(0.0, 1.0), &device);
        let run = |ours: bool| {
            let x = x.clone().require_grad();
            let output = match ours {
                true => max_pool2d(&pool, x.clone()),
                false => pool.forward(x.clone()),
            };
            let grads = (output.clone() * weights.clone()).sum().backward();
            (output, x.grad(&grads).expect("an input gradient"))
        };
        let (ours, burns) = (run(true), run(false));
        let what = format!("{input:?} through {config:?}");
        same(ours.0, burns.0, &format!("output of {what}"));
        same(ours.1, burns.1, &format!("input gradient of {what}"));
        let plain = pool.valid();
        let x = x.inner();
        same(
            max_pool2d(&plain, x.clone()),
            plain.forward(x),
            &format!("inference of {what}"),
        );
    }

    #[test]
    fn pooling_agrees_with_burn_forward_and_backward() {
        // The small CNN's 2x2, on even and odd sizes (the last row dropped).
        agrees_with_burn(MaxPool2dConfig::new([2, 2]), [3, 4, 8, 6]);
        agrees_with_burn(MaxPool2dConfig::new([2, 2]), [2, 3, 7, 5]);
        // ResNet's stem: 3x3, stride 2, padding 1 (overlapping windows).
        let stem = MaxPool2dConfig::new([3, 3])
            .with_strides([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
        agrees_with_burn(stem, [2, 3, 9, 8]);
        // Rectangular, asymmetric padding.
        let uneven = MaxPool2dConfig::new([2, 3])
            .with_strides([1, 2])
            .with_padding(PaddingConfig2d::Explicit(0, 2, 1, 1));
        agrees_with_burn(uneven, [2, 2, 5, 7]);
    }
}
