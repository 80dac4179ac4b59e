//! Batch normalisation with batch statistics, and the ReLU that usually
//! follows it, fused for flex: two passes over the input forward, two over
//! the input and its gradient backward.
//!
//! burn 0.22.1 differentiates `batch_norm_train` as one operation, but flex
//! computes it from burn's generic tensor operations: a transposed copy and a
//! mean for each statistic, then subtract, divide, multiply and add, each a
//! full pass that writes a new tensor, and about as many again backward. On the
//! small CNN's SimCLR step that was 12% of the time (`perf`, see
//! docs/performance.md). Here each pass reads the `[batch, channels, ...]` input
//! once, image by image, and accumulates per channel in `f64`. With the ReLU
//! fused in, the output is rectified as it is written, and the backward
//! recomputes which outputs were positive from the input, so neither the
//! ReLU's pass nor its saved output is needed.
//!
//! Other backends (ndarray, wgpu, libtorch) keep burn's own operation:
//! [`batch_norm`] and [`batch_norm_relu`] route by the input's device.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::module::RunningState;
use burn::nn::BatchNorm;
use burn::tensor::module::BatchNormTrainOutput;
use burn::tensor::{Shape, Tensor, activation};
use rayon::prelude::*;

use super::routing::on_flex;
use super::values::{floats, tensor, writable};

/// Batch normalisation with batch statistics, optionally followed by a
/// ReLU, as one fused operation.
#[backend_extension(Flex, Autodiff)]
pub trait FusedBatchNorm: Backend {
    /// Normalises `x` (`[batch, channels, ...]`) with its own per-channel
    /// mean and biased variance, scales by `gamma` and shifts by `beta`
    /// (`[channels]`), then rectifies if `relu`. Returns the output, the mean
    /// and the variance.
    fn fused_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// [`burn::tensor::module::batch_norm_train`], its output rectified when
/// `relu`: computed by the fused kernel on flex devices (with or without
/// autodiff) and by burn everywhere else.
///
/// # Shapes
/// - `input`: `[batch, channels, ...]`; `gamma`, `beta`: `[channels]`
/// - output: as `input`; mean and variance: `[channels]`
fn train<const D: usize>(
    input: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
    relu: bool,
) -> BatchNormTrainOutput<D> {
    let fused = on_flex(&input) && D >= 2;
    if !fused {
        let mut result = burn::tensor::module::batch_norm_train(input, gamma, beta, epsilon);
        if relu {
            result.output = activation::relu(result.output);
        }
        return result;
    }
    let channels = input.dims()[1];
    assert!(
        gamma.dims() == [channels] && beta.dims() == [channels],
        "batch norm over {:?} features got an input of shape {:?}",
        gamma.dims(),
        input.dims()
    );
    let (output, mean, variance) = <Dispatch as FusedBatchNorm>::fused_batch_norm_train(
        input.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
        relu,
    );
    BatchNormTrainOutput {
        output: Tensor::from_dispatch(output),
        // Detached, as burn returns them: only the output carries gradients.
        mean: Tensor::<1>::from_dispatch(mean).detach(),
        variance: Tensor::<1>::from_dispatch(variance).detach(),
    }
}

/// [`BatchNorm::forward`], with the fused kernel on its training path:
/// the same parameters, running statistics and momentum, so modules and
/// checkpoints are unchanged. Off the training path (no autodiff, or the
/// layer frozen) it is burn's forward.
///
/// # Shapes
/// - `input`, output: `[batch, channels, ...]`
pub fn batch_norm<const D: usize>(norm: &BatchNorm, input: Tensor<D>) -> Tensor<D> {
    forward(norm, input, false)
}

/// `relu(batch_norm(norm, input))`, fused on the training path.
///
/// # Shapes
/// - `input`, output: `[batch, channels, ...]`
pub fn batch_norm_relu<const D: usize>(norm: &BatchNorm, input: Tensor<D>) -> Tensor<D> {
    forward(norm, input, true)
}

fn forward<const D: usize>(norm: &BatchNorm, input: Tensor<D>, relu: bool) -> Tensor<D> {
    if !(input.device().is_autodiff() && norm.training.is_enabled()) {
        let output = norm.forward(input);
        return if relu {
            activation::relu(output)
        } else {
            output
        };
    }
    let device = input.device();
    let result = train(input, norm.gamma.val(), norm.beta.val(), norm.epsilon, relu);
    let update = |state: &RunningState<Tensor<1>>, batch: Tensor<1>| {
        let running = state.value_sync().to_device(&device);
        let momentum = norm.momentum;
        state.update((running.mul_scalar(1.0 - momentum) + batch.mul_scalar(momentum)).detach());
    };
    update(&norm.running_mean, result.mean);
    update(&norm.running_var, result.variance);
    result.output
}

impl FusedBatchNorm for Flex {
    fn fused_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let shape = x.shape();
        let (x, gamma, beta) = (floats(&x), floats(&gamma), floats(&beta));
        let (channels, plane) = channels_and_plane(&shape);
        let (mean, variance) = statistics(&x, channels, plane);
        let (mean, variance): (Vec<f32>, Vec<f32>) = (
            mean.iter().map(|&m| m as f32).collect(),
            variance.iter().map(|&v| v as f32).collect(),
        );
        let affine = affine(&gamma, &beta, &mean, &variance, epsilon);
        let mut output = vec![0.0f32; x.len()];
        output
            .par_chunks_mut(channels * plane)
            .zip(x.par_chunks(channels * plane))
            .for_each(|(out, image)| {
                let planes = out.chunks_mut(plane).zip(image.chunks(plane));
                for ((out, image), &(s, t)) in planes.zip(&affine) {
                    match relu {
                        true => out
                            .iter_mut()
                            .zip(image)
                            .for_each(|(o, &v)| *o = rectified(v * s + t)),
                        false => out.iter_mut().zip(image).for_each(|(o, &v)| *o = v * s + t),
                    }
                }
            });
        (
            tensor(output, shape),
            tensor(mean, Shape::new([channels])),
            tensor(variance, Shape::new([channels])),
        )
    }
}

/// The gradients of [`FusedBatchNorm::fused_batch_norm_train`] on flex with
/// respect to `x`, `gamma` and `beta`, given the output's gradient and the
/// statistics the forward returned.
#[allow(clippy::too_many_arguments)]
fn flex_backward(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
    relu: bool,
    output_grad: FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let shape = x.shape();
    let x = floats(&x);
    let (gamma, beta) = (floats(&gamma), floats(&beta));
    let (mean, variance) = (floats(&mean), floats(&variance));
    let (channels, plane) = channels_and_plane(&shape);
    let count = (x.len() / channels) as f64;
    // With the ReLU, dy is first zeroed where the output was not
    // positive: the forward's own affine map, recomputed from the same
    // f32 statistics, says where.
    let affine = affine(&gamma, &beta, &mean, &variance, epsilon);
    // Per channel: Σ dy and Σ dy (x - mean).
    let sums = gradient_sums(&x, &floats(&output_grad), &mean, &affine, plane, relu);
    let inv_std: Vec<f64> = variance
        .iter()
        .map(|&v| 1.0 / (v as f64 + epsilon).sqrt())
        .collect();
    // dx = a dy + b x + k, with a = gamma / std, b = -a Σdy(x-mean) / (n var'),
    // k = -a Σdy / n - b mean (var' = var + epsilon)
    let coefficients: Vec<(f32, f32, f32)> = (0..channels)
        .map(|c| {
            let a = gamma[c] as f64 * inv_std[c];
            let b = -a * inv_std[c] * inv_std[c] * sums[c].1 / count;
            let k = -a * sums[c].0 / count - b * mean[c] as f64;
            (a as f32, b as f32, k as f32)
        })
        .collect();
    // dx overwrites dy where dy is a buffer of its own (as a gradient
    // usually is), so the backward allocates nothing of the input's size.
    let mut dx = writable(output_grad);
    let values = dx.storage_mut::<f32>();
    values
        .par_chunks_mut(channels * plane)
        .zip(x.par_chunks(channels * plane))
        .for_each(|(grad, image)| {
            let planes = grad.chunks_mut(plane).zip(image.chunks(plane));
            for (((grad, image), &(a, b, k)), &(s, t)) in planes.zip(&coefficients).zip(&affine) {
                // Two loops rather than a test of `relu` inside one, which
                // kept the compiler from vectorising it.
                let values = grad.iter_mut().zip(image);
                match relu {
                    true => values.for_each(|(g, &v)| *g = a * gated(v * s + t, *g) + b * v + k),
                    false => values.for_each(|(g, &v)| *g = a * *g + b * v + k),
                }
            }
        });
    let gamma_grad = (0..channels)
        .map(|c| (sums[c].1 * inv_std[c]) as f32)
        .collect();
    let beta_grad = sums.iter().map(|s| s.0 as f32).collect();
    (
        dx,
        tensor(gamma_grad, Shape::new([channels])),
        tensor(beta_grad, Shape::new([channels])),
    )
}

/// Per channel, the forward's `y = x * scale + shift`: scale = gamma / std,
/// shift = beta - mean * scale. Forward and backward both take it from here,
/// from the same `f32` statistics, so they agree on every output's sign.
fn affine(
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    variance: &[f32],
    epsilon: f64,
) -> Vec<(f32, f32)> {
    (0..gamma.len())
        .map(|c| {
            let scale = gamma[c] as f64 / (variance[c] as f64 + epsilon).sqrt();
            (
                scale as f32,
                (beta[c] as f64 - mean[c] as f64 * scale) as f32,
            )
        })
        .collect()
}

/// ReLU as burn computes it: NaN passes through.
#[inline(always)]
fn rectified(y: f32) -> f32 {
    if y.is_nan() || y > 0.0 { y } else { 0.0 }
}

/// ReLU's backward as burn computes it: the gradient passes where the
/// output `y` was positive (or NaN).
#[inline(always)]
fn gated(y: f32, g: f32) -> f32 {
    if y.is_nan() || y > 0.0 { g } else { 0.0 }
}

/// `[batch, channels, ...]` → (channels, the number of values per channel per image).
fn channels_and_plane(shape: &Shape) -> (usize, usize) {
    let dims = shape.as_slice();
    (dims[1], dims[2..].iter().product())
}

/// Per-channel mean and biased variance in one pass over `x`. Each plane
/// (one channel of one image) is summed in `f32` lanes, shifted by its first
/// value so that large means lose no precision; planes are then merged in
/// `f64` with Chan et al.'s pairwise update.
fn statistics(x: &[f32], channels: usize, plane: usize) -> (Vec<f64>, Vec<f64>) {
    let per_image = x
        .par_chunks(channels * plane)
        .fold(
            || vec![Moments::default(); channels],
            |mut acc, image| {
                for (moments, values) in acc.iter_mut().zip(image.chunks(plane)) {
                    let shift = values[0];
                    let (s1, s2) = lane_sums(values, values, |v, _| {
                        let d = v - shift;
                        (d, d * d)
                    });
                    let n = plane as f64;
                    let (s1, s2) = (s1 as f64, s2 as f64);
                    moments.merge(Moments {
                        count: n,
                        mean: shift as f64 + s1 / n,
                        m2: (s2 - s1 * s1 / n).max(0.0),
                    });
                }
                acc
            },
        )
        .reduce(
            || vec![Moments::default(); channels],
            |mut left, right| {
                for (l, r) in left.iter_mut().zip(right) {
                    l.merge(r);
                }
                left
            },
        );
    per_image.iter().map(|m| (m.mean, m.m2 / m.count)).unzip()
}

/// Count, mean and sum of squared deviations of a set of values.
#[derive(Clone, Copy, Default)]
struct Moments {
    count: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Chan, Golub and LeVeque's update: the moments of both sets together.
    fn merge(&mut self, other: Moments) {
        let count = self.count + other.count;
        if count == 0.0 {
            return;
        }
        let delta = other.mean - self.mean;
        self.mean += delta * other.count / count;
        self.m2 += other.m2 + delta * delta * self.count * other.count / count;
        self.count = count;
    }
}

/// Per channel, Σ dy and Σ dy (x - mean), with dy zeroed where the ReLU's
/// output (`x·scale + shift` from `affine`) was not positive when `relu`,
/// each plane in `f32` lanes, the planes added in `f64`.
fn gradient_sums(
    x: &[f32],
    dy: &[f32],
    mean: &[f32],
    affine: &[(f32, f32)],
    plane: usize,
    relu: bool,
) -> Vec<(f64, f64)> {
    let channels = mean.len();
    x.par_chunks(channels * plane)
        .zip(dy.par_chunks(channels * plane))
        .fold(
            || vec![(0.0, 0.0); channels],
            |mut acc, (image, grad)| {
                let planes = image.chunks(plane).zip(grad.chunks(plane));
                let channel = mean.iter().zip(affine);
                for ((sum, (values, grads)), (&m, &(a, b))) in
                    acc.iter_mut().zip(planes).zip(channel)
                {
                    let (s, t) = match relu {
                        true => lane_sums(values, grads, |v, g| {
                            let g = gated(v * a + b, g);
                            (g, g * (v - m))
                        }),
                        false => lane_sums(values, grads, |v, g| (g, g * (v - m))),
                    };
                    sum.0 += s as f64;
                    sum.1 += t as f64;
                }
                acc
            },
        )
        .reduce(
            || vec![(0.0, 0.0); channels],
            |mut left, right| {
                for (l, r) in left.iter_mut().zip(right) {
                    l.0 += r.0;
                    l.1 += r.1;
                }
                left
            },
        )
}

/// Σ of `term(a[i], b[i])` over `i`, two sums at once, in eight independent
/// `f32` lanes (which the compiler keeps in vector registers).
#[inline(always)]
fn lane_sums(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> (f32, f32)) -> (f32, f32) {
    const LANES: usize = 8;
    let (mut first, mut second) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (u, v) in chunks_a.zip(chunks_b) {
        for i in 0..LANES {
            let (s, t) = term(u[i], v[i]);
            first[i] += s;
            second[i] += t;
        }
    }
    let (mut s, mut t) = (first.iter().sum::<f32>(), second.iter().sum::<f32>());
    for (&u, &v) in rest_a.iter().zip(rest_b) {
        let (a, b) = term(u, v);
        s += a;
        t += b;
    }
    (s, t)
}

impl<C: CheckpointStrategy> FusedBatchNorm for Autodiff<Flex, C> {
    fn fused_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        /// The backward step: the input, gamma and beta are checkpointed, the
        /// statistics kept as the forward computed them.
        #[derive(Debug)]
        struct FusedBatchNormBackward;

        impl Backward<Flex, 3> for FusedBatchNormBackward {
            /// Input, gamma and beta (checkpointed), mean, variance, epsilon, relu.
            type State = (NodeId, NodeId, NodeId, FlexTensor, FlexTensor, f64, bool);

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_gamma, node_beta] = ops.parents;
                let grad = grads.consume::<Flex>(&ops.node);
                let (x_state, gamma_state, beta_state, mean, variance, epsilon, relu) = ops.state;
                let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
                let gamma = checkpointer.retrieve_node_output::<FlexTensor>(gamma_state);
                let beta = checkpointer.retrieve_node_output::<FlexTensor>(beta_state);
                let (x_grad, gamma_grad, beta_grad) =
                    flex_backward(x, gamma, beta, mean, variance, epsilon, relu, grad);
                for (node, grad) in [
                    (node_x, x_grad),
                    (node_gamma, gamma_grad),
                    (node_beta, beta_grad),
                ] {
                    if let Some(node) = node {
                        grads.register::<Flex>(node.id, grad);
                    }
                }
            }
        }

        let detached = |t: FlexTensor| <Self as AutodiffBackend>::from_inner(t);
        // The forward on flex itself; the primitives are taken only after
        // the checkpoints borrow their tensors.
        let forward = |x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>| {
            Flex::fused_batch_norm_train(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
                relu,
            )
        };
        match FusedBatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let beta_state = prep.checkpoint(&beta);
                let (output, mean, variance) = forward(x, gamma, beta);
                let state = (
                    x_state,
                    gamma_state,
                    beta_state,
                    mean.clone(),
                    variance.clone(),
                    epsilon,
                    relu,
                );
                (
                    prep.finish(state, output),
                    detached(mean),
                    detached(variance),
                )
            }
            OpsKind::UnTracked(prep) => {
                let (output, mean, variance) = forward(x, gamma, beta);
                (prep.finish(output), detached(mean), detached(variance))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::testing::values;
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Device, Distribution};

    fn close(a: Tensor<1>, b: Tensor<1>, what: &str) {
        let (a, b) = (values(a), values(b));
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{what}[{i}]: {x} vs burn's {y}"
            );
        }
    }

    /// The fused operation against burn's on the same flex device: output,
    /// statistics, and the gradients of a weighted sum of the output with
    /// respect to the input, gamma and beta.
    fn agrees_with_burn<const D: usize>(shape: [usize; D], weighted: bool, relu: bool) {
        let device = Device::flex().autodiff();
        let x = Tensor::<D>::random(shape, Distribution::Normal(3.0, 2.0), &device);
        let channels = shape[1];
        let gamma = Tensor::<1>::random([channels], Distribution::Uniform(0.5, 1.5), &device);
        let beta = Tensor::<1>::random([channels], Distribution::Normal(0.0, 1.0), &device);
        let weights = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let run = |fused: bool| {
            let (x, gamma, beta) = (
                x.clone().require_grad(),
                gamma.clone().require_grad(),
                beta.clone().require_grad(),
            );
            let result = if fused {
                train(x.clone(), gamma.clone(), beta.clone(), 1e-5, relu)
            } else {
                let mut result = burn::tensor::module::batch_norm_train(
                    x.clone(),
                    gamma.clone(),
                    beta.clone(),
                    1e-5,
                );
                if relu {
                    result.output = activation::relu(result.output);
                }
                result
            };
            let output = result.output.clone().flatten::<1>(0, D - 1);
            // Weighted, the output's gradient is a buffer of its own, which the
            // kernel overwrites; unweighted, a broadcast of ones, which it copies.
            let loss = match weighted {
                true => (result.output * weights.clone()).sum(),
                false => result.output.sum(),
            };
            let grads = loss.backward();
            let grad = |t: &Tensor<1>| t.grad(&grads).expect("a gradient");
            let x_grad = x.grad(&grads).expect("a gradient").flatten::<1>(0, D - 1);
            (
                output,
                result.mean,
                result.variance,
                x_grad,
                grad(&gamma),
                grad(&beta),
            )
        };
        let (fused, burn) = (run(true), run(false));
        close(fused.0, burn.0, "output");
        close(fused.1, burn.1, "mean");
        close(fused.2, burn.2, "variance");
        close(fused.3, burn.3, "input gradient");
        close(fused.4, burn.4, "gamma gradient");
        close(fused.5, burn.5, "beta gradient");
    }

    #[test]
    fn the_fused_batch_norm_matches_burns_forward_and_gradients() {
        agrees_with_burn([4, 3, 5, 6], true, false); // after a convolution
        agrees_with_burn([7, 5], true, false); // in an MLP
        agrees_with_burn([2, 4, 3], true, false);
        agrees_with_burn([4, 3, 5, 6], false, false);
    }

    /// With the ReLU fused in: against burn's batch norm, then burn's ReLU.
    /// Beta's spread puts about half the outputs below zero.
    #[test]
    fn the_fused_batch_norm_and_relu_match_burns_forward_and_gradients() {
        agrees_with_burn([4, 3, 5, 6], true, true);
        agrees_with_burn([7, 5], true, true);
        agrees_with_burn([4, 3, 5, 6], false, true);
    }

    #[test]
    fn the_layer_updates_its_running_statistics_as_burns_does() {
        let device = Device::flex().autodiff();
        let ours = BatchNormConfig::new(3).with_momentum(0.3).init(&device);
        let burns = BatchNormConfig::new(3).with_momentum(0.3).init(&device);
        for step in 0..3 {
            let x = Tensor::<4>::random(
                [5, 3, 4, 4],
                Distribution::Normal(step as f64, 2.0),
                &device,
            );
            let (a, b) = (batch_norm(&ours, x.clone()), burns.forward(x.clone()));
            close(a.flatten::<1>(0, 3), b.flatten::<1>(0, 3), "output");
            // The fused ReLU updates the statistics too, from the same batch:
            // both layers see each batch twice.
            let (a, b) = (
                batch_norm_relu(&ours, x.clone()),
                activation::relu(burns.forward(x)),
            );
            close(
                a.flatten::<1>(0, 3),
                b.flatten::<1>(0, 3),
                "rectified output",
            );
        }
        close(
            ours.running_mean.value(),
            burns.running_mean.value(),
            "running mean",
        );
        close(
            ours.running_var.value(),
            burns.running_var.value(),
            "running variance",
        );
        // Off the training path the layer is burn's: running statistics, no update.
        let inference = ours.valid();
        let x = Tensor::<4>::random(
            [2, 3, 4, 4],
            Distribution::Normal(0.0, 1.0),
            &Device::flex(),
        );
        close(
            batch_norm(&inference, x.clone()).flatten::<1>(0, 3),
            burns.valid().forward(x.clone()).flatten::<1>(0, 3),
            "inference output",
        );
        close(
            batch_norm_relu(&inference, x.clone()).flatten::<1>(0, 3),
            activation::relu(burns.valid().forward(x)).flatten::<1>(0, 3),
            "rectified inference output",
        );
    }
}
