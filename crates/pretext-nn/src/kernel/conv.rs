//! 2-D convolution (one group) on flex as im2col and matrix products, image
//! by image, forward and backward.
//!
//! burn 0.22.1's flex convolution forward first copies the whole batch to
//! channels-last on one thread, and its backward is burn's generic one: the
//! input's gradient is a transposed convolution, and the weight's gradient
//! a convolution of the transposed input with the transposed output
//! gradient as its kernel (28x28 for the small CNN's first layer), each
//! after full transposed copies. Here every image is handled on its own, in
//! parallel:
//! - forward: `cols = im2col(x_b)` (`[c_in·kh·kw, oh·ow]`, read straight
//!   from the channels-first input), then `y_b = W · cols`, written in place;
//! - backward, one pass over the images: `dW += dy_b · colsᵀ` (cols rebuilt
//!   from the input, as cheap as reading a saved copy and without its
//!   memory) and `dx_b = col2im(Wᵀ · dy_b)`, skipped when the input needs
//!   no gradient (a network's first layer).
//!
//! im2col copies each channel once into a zero-bordered plane and then
//! reads every patch value from it without bounds logic. Where an image has
//! fewer than `MIN_COLUMNS` (256) output positions (ResNet-18's 8x8 and 4x4
//! stages), several images' columns sit side by side in one matrix product,
//! so the matrix kernels get full-width tiles and the weight gradient sums
//! over more than 16 positions per call. A 1x1 convolution with stride 1
//! and no padding, one image to a product, needs no im2col: the image is
//! its own column matrix. Other backends, grouped convolutions and other
//! precisions keep burn's operation: [`conv2d`] routes by the input's
//! device.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::conv::Conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use super::gemm::{Matrix, matmul};
use super::routing::{fixed_padding, on_flex};
use super::values::{floats, tensor};

/// 2-D convolution of one group, without bias, as im2col and matrix products.
#[backend_extension(Flex, Autodiff)]
pub trait Im2colConv: Backend {
    /// Convolves `x` (`[batch, c_in, h, w]`) with `weight`
    /// (`[c_out, c_in, kh, kw]`) under `options` (whose `groups` must be 1).
    fn im2col_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

/// [`Conv2d::forward`]: computed by the kernel on flex devices (with or
/// without autodiff) for one group in `f32`, and by burn everywhere else.
/// The same module, so parameters and checkpoints are unchanged.
///
/// # Shapes
/// - `input`: `[batch, c_in, h, w]`; output: `[batch, c_out, oh, ow]`
pub fn conv2d(conv: &Conv2d, input: Tensor<4>) -> Tensor<4> {
    let dims = input.dims();
    let [c_out, c_in, _, _] = conv.weight.dims();
    let covered = on_flex(&input) && conv.groups == 1;
    let Some(padding) = fixed_padding(&conv.padding).filter(|_| covered) else {
        return conv.forward(input);
    };
    assert_eq!(
        dims[1], c_in,
        "a convolution over {c_in} channels got an input of shape {dims:?}"
    );
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, 1);
    let output = Tensor::from_dispatch(<Dispatch as Im2colConv>::im2col_conv2d(
        input.into_dispatch(),
        conv.weight.val().into_dispatch(),
        options,
    ));
    match &conv.bias {
        Some(bias) => output + bias.val().reshape([1, c_out, 1, 1]),
        None => output,
    }
}

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    stride: [usize; 2],
    /// Padding before the first row and column.
    pad: [usize; 2],
    dilation: [usize; 2],
    oh: usize,
    ow: usize,
}

impl Geometry {
    fn new(x: &Shape, weight: &Shape, options: &ConvOptions<2>) -> Self {
        let [batch, c_in, h, w] = x.dims();
        let [c_out, w_in, kh, kw] = weight.dims();
        assert_eq!(options.groups, 1, "the im2col convolution has one group");
        assert_eq!(c_in, w_in, "input channels {c_in}, weight's {w_in}");
        let out = |size: usize, (begin, end): (usize, usize), k: usize, axis: usize| {
            let span = options.dilation[axis] * (k - 1) + 1;
            let padded = size + begin + end;
            assert!(padded >= span, "a kernel of {span} over {padded} values");
            (padded - span) / options.stride[axis] + 1
        };
        Self {
            batch,
            c_in,
            h,
            w,
            c_out,
            kh,
            kw,
            stride: options.stride,
            pad: options.padding_begin(),
            dilation: options.dilation,
            oh: out(h, options.padding[0], kh, 0),
            ow: out(w, options.padding[1], kw, 1),
        }
    }

    /// Values in one patch: the column matrix's rows.
    fn patch(&self) -> usize {
        self.c_in * self.kh * self.kw
    }

    /// Output positions: the column matrix's columns.
    fn positions(&self) -> usize {
        self.oh * self.ow
    }

    fn image(&self) -> usize {
        self.c_in * self.h * self.w
    }

    /// A 1x1 convolution with stride 1 and no padding: the image is its own
    /// column matrix.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.oh == self.h && self.ow == self.w && self.pad == [0, 0]
    }

    /// The padded plane's rows and columns that the patches read:
    /// `(oh - 1)·stride + (kh - 1)·dilation + 1`, and likewise across.
    fn padded(&self) -> (usize, usize) {
        let reach = |out: usize, k: usize, axis: usize| {
            (out - 1) * self.stride[axis] + (k - 1) * self.dilation[axis] + 1
        };
        (reach(self.oh, self.kh, 0), reach(self.ow, self.kw, 1))
    }

    /// Images whose column matrices sit side by side in one matrix product:
    /// one when an image has at least [`MIN_COLUMNS`] output positions, else
    /// enough images to reach it (ResNet-18's last stage has 16 positions an
    /// image, too few for the matrix kernels' full-width tiles), keeping at
    /// least two groups a thread.
    fn group(&self) -> usize {
        let positions = self.positions().max(1);
        if positions >= MIN_COLUMNS {
            return 1;
        }
        let per_thread = self.batch.div_ceil(2 * rayon::current_num_threads());
        MIN_COLUMNS.div_ceil(positions).min(per_thread).max(1)
    }

    /// Whether a group's column matrix is the input itself: a pointwise
    /// convolution, one image to a product.
    fn direct(&self) -> bool {
        self.pointwise() && self.group() == 1
    }

    /// Scratch sizes per task: a group's column matrix (none when
    /// [`Geometry::direct`]) and its outputs side by side (none for groups
    /// of one, which write in place).
    fn scratch(&self) -> (usize, usize) {
        let group = self.group();
        let columns = if self.direct() {
            0
        } else {
            self.patch() * self.positions() * group
        };
        let joined = if group > 1 {
            self.c_out * self.positions() * group
        } else {
            0
        };
        (columns, joined)
    }
}

/// Output positions per matrix product below which images are grouped
/// ([`Geometry::group`]).
const MIN_COLUMNS: usize = 256;

/// Where one image's columns lie in a column matrix of several images: row
/// `r` of the image's `[c_in·kh·kw, oh·ow]` matrix starts at
/// `r * stride + first`.
#[derive(Clone, Copy)]
struct Place {
    stride: usize,
    first: usize,
}

impl Place {
    /// The `j`th of `n` images side by side.
    fn nth(g: &Geometry, j: usize, n: usize) -> Self {
        let positions = g.positions();
        Self {
            stride: n * positions,
            first: j * positions,
        }
    }
}

/// Copies `plane` (`[h, w]`) into `padded` (`[ph, pw]` of
/// [`Geometry::padded`]) at its padding offset, zero around it.
fn pad_plane(g: &Geometry, plane: &[f32], padded: &mut [f32]) {
    let ((ph, pw), [top, left]) = (g.padded(), g.pad);
    let (lo, hi) = (left.min(pw), (left + g.w).min(pw));
    padded.fill(0.0);
    for (iy, row) in plane
        .chunks_exact(g.w)
        .enumerate()
        .take(ph.saturating_sub(top))
    {
        let at = (top + iy) * pw;
        padded[at + lo..at + hi].copy_from_slice(&row[..hi - lo]);
    }
}

/// Calls `visit(tap, at)` for each patch value `(ky, kx)` of one channel
/// (`tap = ky·kw + kx`, the channel's row of the column matrix): output
/// `(oy, ox)` of that row reads the padded plane at
/// `at + oy·stride_y·pw + ox·stride_x`.
fn for_each_tap(g: &Geometry, mut visit: impl FnMut(usize, usize)) {
    let (_, pw) = g.padded();
    let [dy, dx] = g.dilation;
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            visit(ky * g.kw + kx, ky * dy * pw + kx * dx);
        }
    }
}

/// Writes the patches of `image` (`[c_in, h, w]`) at `place` in `cols`,
/// zero where a patch reaches into the padding: each channel is copied into
/// a zero-bordered plane once, and every value of the columns is then one
/// read from it.
fn im2col(g: &Geometry, image: &[f32], cols: &mut [f32], place: Place) {
    let ((ph, pw), [sy, sx], taps) = (g.padded(), g.stride, g.kh * g.kw);
    let (positions, pitch, ow) = (g.positions(), sy * pw, g.ow);
    let mut padded = vec![0.0f32; ph * pw];
    for (ci, plane) in image.chunks_exact(g.h * g.w).enumerate() {
        pad_plane(g, plane, &mut padded);
        for_each_tap(g, |tap, at| {
            let start = (ci * taps + tap) * place.stride + place.first;
            let rows = cols[start..start + positions].chunks_exact_mut(ow);
            for (out, from) in rows.zip((at..).step_by(pitch)) {
                match sx {
                    1 => out.copy_from_slice(&padded[from..from + ow]),
                    _ => {
                        let input = padded[from..].iter().step_by(sx);
                        out.iter_mut().zip(input).for_each(|(o, &v)| *o = v);
                    }
                }
            }
        });
    }
}

/// The adjoint of [`im2col`]: `image` (`[c_in, h, w]`) becomes the sum, over
/// every patch that reads each input value, of `cols` at that patch value
/// (summed in a zero-bordered plane, whose inside is then copied out).
fn col2im(g: &Geometry, cols: &[f32], place: Place, image: &mut [f32]) {
    let ((ph, pw), [sy, sx], taps) = (g.padded(), g.stride, g.kh * g.kw);
    let (positions, pitch, ow) = (g.positions(), sy * pw, g.ow);
    let [top, left] = g.pad;
    let (lo, hi) = (left.min(pw), (left + g.w).min(pw));
    let mut padded = vec![0.0f32; ph * pw];
    image.fill(0.0);
    for (ci, plane) in image.chunks_exact_mut(g.h * g.w).enumerate() {
        padded.fill(0.0);
        for_each_tap(g, |tap, at| {
            let start = (ci * taps + tap) * place.stride + place.first;
            let rows = cols[start..start + positions].chunks_exact(ow);
            for (values, from) in rows.zip((at..).step_by(pitch)) {
                match sx {
                    1 => {
                        let out = &mut padded[from..from + ow];
                        out.iter_mut().zip(values).for_each(|(o, v)| *o += v);
                    }
                    _ => {
                        let out = padded[from..].iter_mut().step_by(sx);
                        out.zip(values).for_each(|(o, v)| *o += v);
                    }
                }
            }
        });
        for (iy, row) in plane
            .chunks_exact_mut(g.w)
            .enumerate()
            .take(ph.saturating_sub(top))
        {
            let at = (top + iy) * pw;
            row[..hi - lo].copy_from_slice(&padded[at + lo..at + hi]);
        }
    }
}

/// The column matrix (`[c_in·kh·kw, n·oh·ow]`) of `images` (`n` of them,
/// one after another), side by side: the images themselves when `direct`
/// (a 1x1 convolution of one image), else im2col'd into `buffer`.
fn column_matrix<'a>(
    g: &Geometry,
    images: &'a [f32],
    buffer: &'a mut [f32],
    direct: bool,
) -> Matrix<'a> {
    let n = images.len() / g.image();
    let (patch, width) = (g.patch(), n * g.positions());
    if direct {
        return Matrix::row_major(images, patch, width);
    }
    let cols = &mut buffer[..patch * width];
    for (j, image) in images.chunks_exact(g.image()).enumerate() {
        im2col(g, image, cols, Place::nth(g, j, n));
    }
    Matrix::row_major(cols, patch, width)
}

/// `n` images' `[channels, positions]` planes (`images`, one after another)
/// side by side as one `[channels, n·positions]` matrix in `joined`.
fn join(images: &[f32], channels: usize, positions: usize, joined: &mut [f32]) {
    let n = images.len() / (channels * positions);
    for (j, image) in images.chunks_exact(channels * positions).enumerate() {
        for (c, plane) in image.chunks_exact(positions).enumerate() {
            let at = (c * n + j) * positions;
            joined[at..at + positions].copy_from_slice(plane);
        }
    }
}

/// The inverse of [`join`]: `joined` (`[channels, n·positions]`) back into
/// `n` images' planes, one after another.
fn split(joined: &[f32], channels: usize, positions: usize, images: &mut [f32]) {
    let n = images.len() / (channels * positions);
    for (j, image) in images.chunks_exact_mut(channels * positions).enumerate() {
        for (c, plane) in image.chunks_exact_mut(positions).enumerate() {
            let at = (c * n + j) * positions;
            plane.copy_from_slice(&joined[at..at + positions]);
        }
    }
}

impl Im2colConv for Flex {
    fn im2col_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        let g = Geometry::new(&x.shape(), &weight.shape(), &options);
        let (x, weight) = (floats(&x), floats(&weight));
        let (patch, positions, group) = (g.patch(), g.positions(), g.group());
        let (image_len, out_len) = (g.image(), g.c_out * positions);
        let weight = Matrix::row_major(&weight, g.c_out, patch);
        let (direct, (columns, joined)) = (g.direct(), g.scratch());
        let mut output = vec![0.0f32; g.batch * out_len];
        output
            .par_chunks_mut(group * out_len)
            .zip(x.par_chunks(group * image_len))
            .for_each_init(
                || (vec![0.0f32; columns], vec![0.0f32; joined]),
                |(cols, product), (out, images)| {
                    let n = images.len() / image_len;
                    let width = n * positions;
                    let cols = column_matrix(&g, images, cols, direct);
                    if n == 1 {
                        matmul(out, weight, cols, false);
                    } else {
                        let product = &mut product[..g.c_out * width];
                        matmul(product, weight, cols, false);
                        split(product, g.c_out, positions, out);
                    }
                },
            );
        tensor(output, Shape::new([g.batch, g.c_out, g.oh, g.ow]))
    }
}

/// The gradients of [`Im2colConv::im2col_conv2d`] on flex with respect to
/// the input (when `input_grad`) and the weight (when `weight_grad`), given
/// the output's gradient.
fn flex_backward(
    x: FlexTensor,
    weight: FlexTensor,
    options: &ConvOptions<2>,
    output_grad: FlexTensor,
    input_grad: bool,
    weight_grad: bool,
) -> (Option<FlexTensor>, Option<FlexTensor>) {
    let (x_shape, w_shape) = (x.shape(), weight.shape());
    let g = Geometry::new(&x_shape, &w_shape, options);
    let (x, weight, dy) = (floats(&x), floats(&weight), floats(&output_grad));
    let (patch, positions, image_len, group) = (g.patch(), g.positions(), g.image(), g.group());
    let out_len = g.c_out * positions;
    let weight = Matrix::row_major(&weight, g.c_out, patch);
    let (direct, (columns, joined)) = (g.direct(), g.scratch());
    // Images in a few chunks per thread, each a whole number of groups; each
    // chunk sums its own weight gradient, and the chunks' sums are added at
    // the end.
    let chunk = g
        .batch
        .div_ceil(2 * rayon::current_num_threads())
        .next_multiple_of(group);
    let chunks = g.batch.div_ceil(chunk);
    let mut dx = vec![0.0f32; if input_grad { g.batch * image_len } else { 0 }];
    let dx_parts: Vec<Option<&mut [f32]>> = match input_grad {
        true => dx.chunks_mut(chunk * image_len).map(Some).collect(),
        false => (0..chunks).map(|_| None).collect(),
    };
    let dw_parts: Vec<Vec<f32>> = dx_parts
        .into_par_iter()
        .enumerate()
        .map(|(c, mut dx_part)| {
            let mut dw = vec![0.0f32; if weight_grad { g.c_out * patch } else { 0 }];
            let (mut cols, mut dcols) = (vec![0.0f32; columns], vec![0.0f32; columns]);
            let mut grads = vec![0.0f32; joined];
            let images = c * chunk..((c + 1) * chunk).min(g.batch);
            for first in images.clone().step_by(group) {
                let n = group.min(images.end - first);
                let width = n * positions;
                let (inputs, outputs) = (first * image_len, first * out_len);
                let inputs = &x[inputs..inputs + n * image_len];
                let grad = &dy[outputs..outputs + n * out_len];
                let grad = match n {
                    1 => grad,
                    _ => {
                        join(grad, g.c_out, positions, &mut grads[..n * out_len]);
                        &grads[..n * out_len]
                    }
                };
                let grad = Matrix::row_major(grad, g.c_out, width);
                if weight_grad {
                    let cols = column_matrix(&g, inputs, &mut cols, direct);
                    matmul(&mut dw, grad, cols.t(), true);
                }
                if let Some(dx_part) = dx_part.as_deref_mut() {
                    let at = (first - images.start) * image_len;
                    let dx_images = &mut dx_part[at..at + n * image_len];
                    match direct {
                        true => matmul(dx_images, weight.t(), grad, false),
                        false => {
                            let dcols = &mut dcols[..patch * width];
                            matmul(dcols, weight.t(), grad, false);
                            for (j, dx_image) in dx_images.chunks_exact_mut(image_len).enumerate() {
                                col2im(&g, dcols, Place::nth(&g, j, n), dx_image);
                            }
                        }
                    }
                }
            }
            dw
        })
        .collect();
    let dw = weight_grad.then(|| {
        let mut parts = dw_parts.into_iter();
        let mut dw = parts.next().unwrap_or_default();
        for part in parts {
            dw.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
        }
        tensor(dw, w_shape)
    });
    (input_grad.then(|| tensor(dx, x_shape)), dw)
}

impl<C: CheckpointStrategy> Im2colConv for Autodiff<Flex, C> {
    fn im2col_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        /// The backward step: the input and the weight are checkpointed.
        #[derive(Debug)]
        struct Im2colConvBackward;

        impl Backward<Flex, 2> for Im2colConvBackward {
            /// Input and weight (checkpointed), the options.
            type State = (NodeId, NodeId, ConvOptions<2>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<Flex>(&ops.node);
                let (x_state, weight_state, options) = ops.state;
                let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
                let weight = checkpointer.retrieve_node_output::<FlexTensor>(weight_state);
                let (x_grad, weight_grad) = flex_backward(
                    x,
                    weight,
                    &options,
                    grad,
                    node_x.is_some(),
                    node_weight.is_some(),
                );
                for (node, grad) in [(node_x, x_grad), (node_weight, weight_grad)] {
                    if let (Some(node), Some(grad)) = (node, grad) {
                        grads.register::<Flex>(node.id, grad);
                    }
                }
            }
        }

        match Im2colConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let output = Flex::im2col_conv2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, options), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::im2col_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::testing::values;
    use burn::module::Module;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Device, Distribution};

    fn close<const D: usize>(a: Tensor<D>, b: Tensor<D>, what: &str) {
        assert_eq!(a.dims(), b.dims(), "{what}: shapes");
        let (a, b) = (values(a), values(b));
        let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * scale,
                "{what}[{i}]: {x} vs burn's {y}"
            );
        }
    }

    /// The kernel against burn's convolution on the same flex autodiff
    /// device: output, and the gradients of a weighted sum of the output
    /// with respect to the input, the weight and the bias.
    fn agrees_with_burn(config: Conv2dConfig, input: [usize; 4], input_grad: bool) {
        let device = Device::flex().autodiff();
        let conv = config.init(&device);
        let x = Tensor::<4>::random(input, Distribution::Normal(0.5, 1.0), &device);
        let reference = conv.forward(x.clone());
        let weights =
            Tensor::<4>::random(reference.dims(), Distribution::Normal(0.0, 1.0), &device);
        let run = |ours: bool| {
            let x = if input_grad {
                x.clone().require_grad()
            } else {
                x.clone()
            };
            let output = match ours {
                true => conv2d(&conv, x.clone()),
                false => conv.forward(x.clone()),
            };
            let grads = (output.clone() * weights.clone()).sum().backward();
            let weight_grad = conv.weight.val().grad(&grads).expect("a weight gradient");
            let bias_grad = conv
                .bias
                .as_ref()
                .map(|b| b.val().grad(&grads).expect("a bias gradient"));
            (output, x.grad(&grads), weight_grad, bias_grad)
        };
        let (ours, burns) = (run(true), run(false));
        let what = format!("{input:?} through {config:?}");
        close(ours.0, burns.0, &format!("output of {what}"));
        close(ours.2, burns.2, &format!("weight gradient of {what}"));
        match (ours.1, burns.1) {
            (Some(a), Some(b)) => close(a, b, &format!("input gradient of {what}")),
            (None, None) => assert!(!input_grad, "no input gradient for {what}"),
            _ => panic!("input gradient present on one side only for {what}"),
        }
        if let (Some(a), Some(b)) = (ours.3, burns.3) {
            close(a, b, &format!("bias gradient of {what}"));
        }
        // Without autodiff, the forward alone.
        let plain = conv.valid();
        let x = x.inner();
        close(
            conv2d(&plain, x.clone()),
            plain.forward(x),
            &format!("inference output of {what}"),
        );
    }

    #[test]
    fn convolutions_agree_with_burn_forward_and_backward() {
        let pad = |p| PaddingConfig2d::Explicit(p, p, p, p);
        // The small CNN's 3x3 "same" convolution, with and without the
        // input's gradient (a first layer's input has none).
        let same = Conv2dConfig::new([3, 5], [3, 3])
            .with_padding(pad(1))
            .with_bias(false);
        agrees_with_burn(same.clone(), [4, 3, 9, 7], true);
        agrees_with_burn(same, [2, 3, 6, 6], false);
        // ResNet's stride-2 3x3 and its 1x1 shortcuts (stride 2 and 1).
        let strided = Conv2dConfig::new([4, 6], [3, 3])
            .with_stride([2, 2])
            .with_padding(pad(1));
        agrees_with_burn(strided, [3, 4, 9, 8], true);
        agrees_with_burn(
            Conv2dConfig::new([4, 6], [1, 1]).with_stride([2, 2]),
            [3, 4, 7, 8],
            true,
        );
        agrees_with_burn(Conv2dConfig::new([4, 6], [1, 1]), [3, 4, 5, 4], true);
        // Dilation, a rectangular kernel, no padding, and asymmetric padding.
        let dilated = Conv2dConfig::new([2, 3], [3, 2]).with_dilation([2, 1]);
        agrees_with_burn(dilated, [2, 2, 10, 6], true);
        let uneven =
            Conv2dConfig::new([2, 3], [2, 4]).with_padding(PaddingConfig2d::Explicit(0, 1, 2, 1));
        agrees_with_burn(uneven, [2, 2, 5, 7], true);
        // Small maps: several images to a matrix product, the last group
        // short (7 images), for 3x3, 1x1 and stride-2 layers.
        let small = Conv2dConfig::new([3, 4], [3, 3]).with_padding(pad(1));
        agrees_with_burn(small, [7, 3, 4, 4], true);
        agrees_with_burn(Conv2dConfig::new([3, 4], [1, 1]), [7, 3, 3, 3], true);
        let small_strided = Conv2dConfig::new([3, 4], [3, 3])
            .with_stride([2, 2])
            .with_padding(pad(1));
        agrees_with_burn(small_strided, [9, 3, 5, 5], false);
    }
}
