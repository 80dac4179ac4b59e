//! `relu(a + b)`, the end of a residual block, in one pass on flex, with
//! the backward reading its own output.
//!
//! burn 0.22.1's ReLU keeps its input for the backward. At the end of a
//! residual block that input is the sum `a + b`, a tensor of the block's
//! output size that nothing else keeps, while the output itself is kept
//! anyway by the next block's convolution. Here the sum is never written:
//! one pass adds and rectifies, over `a`'s buffer when it is `a`'s own, and
//! the backward masks the output's gradient by `output > 0` (the same set
//! as `a + b > 0`), so the op keeps nothing the network does not already
//! hold. On ResNet-18's SimCLR step that is one tensor a block less:
//! about 0.5 GB of its peak at batch 256 (see docs/performance.md).
//!
//! Other backends and other precisions keep burn's operations: [`add_relu`]
//! routes by the inputs' device.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{Tensor, activation};
use rayon::prelude::*;

use super::routing::on_flex;
use super::values::{floats, writable};

/// Values per parallel task.
const CHUNK: usize = 1 << 16;

/// `relu(a + b)` for two tensors of one shape.
#[backend_extension(Flex, Autodiff)]
pub trait AddRelu: Backend {
    /// `max(a + b, 0)`, element by element; `a` and `b` have one shape.
    fn add_relu(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `relu(a + b)`: computed by the kernel on flex devices (with or without
/// autodiff) for `f32` tensors of one shape, and by burn everywhere else
/// (broadcasting included).
pub fn add_relu<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<D> {
    if !(on_flex(&a) && on_flex(&b) && a.dims() == b.dims()) {
        return activation::relu(a + b);
    }
    Tensor::from_dispatch(<Dispatch as AddRelu>::add_relu(
        a.into_dispatch(),
        b.into_dispatch(),
    ))
}

impl AddRelu for Flex {
    fn add_relu(a: FlexTensor, b: FlexTensor) -> FlexTensor {
        let mut out = writable(a);
        let b = floats(&b);
        out.storage_mut::<f32>()
            .par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .for_each(|(out, b)| {
                for (o, &v) in out.iter_mut().zip(b) {
                    *o = (*o + v).max(0.0);
                }
            });
        out
    }
}

/// The gradient of both inputs: `grad` where `output > 0`, zero elsewhere,
/// written over `grad`'s buffer when it is its own.
fn flex_backward(output: &FlexTensor, grad: FlexTensor) -> FlexTensor {
    let output = floats(output);
    let mut grad = writable(grad);
    grad.storage_mut::<f32>()
        .par_chunks_mut(CHUNK)
        .zip(output.par_chunks(CHUNK))
        .for_each(|(grad, output)| {
            for (g, &y) in grad.iter_mut().zip(output) {
                if y <= 0.0 || y.is_nan() {
                    *g = 0.0;
                }
            }
        });
    grad
}

impl<C: CheckpointStrategy> AddRelu for Autodiff<Flex, C> {
    fn add_relu(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        /// The backward step: the output, shared with whatever else keeps it.
        #[derive(Debug)]
        struct AddReluBackward;

        impl Backward<Flex, 2> for AddReluBackward {
            /// The forward's output.
            type State = FlexTensor;

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_a, node_b] = ops.parents;
                let grad = grads.consume::<Flex>(&ops.node);
                let grad = flex_backward(&ops.state, grad);
                match (node_a, node_b) {
                    (Some(a), Some(b)) => {
                        grads.register::<Flex>(a.id, grad.clone());
                        grads.register::<Flex>(b.id, grad);
                    }
                    (Some(node), None) | (None, Some(node)) => {
                        grads.register::<Flex>(node.id, grad);
                    }
                    (None, None) => {}
                }
            }
        }

        match AddReluBackward
            .prepare::<C>([a.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let output = Flex::add_relu(a.into_primitive(), b.into_primitive());
                prep.finish(output.clone(), output)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(Flex::add_relu(a.into_primitive(), b.into_primitive()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::testing::values;
    use burn::tensor::{Device, Distribution};

    /// The kernel against burn's `relu(a + b)` on the same flex autodiff
    /// device: the output and both inputs' gradients, exactly, with exact
    /// zeros in the sums (where the gradient's mask is decided).
    #[test]
    fn add_relu_agrees_with_burn() {
        let device = Device::flex().autodiff();
        let shape = [3, 4, 5, 7];
        let a = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        // b is -a on a quarter of the values: a + b is exactly zero there.
        let b = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let pick =
            Tensor::<4>::random(shape, Distribution::Uniform(0.0, 1.0), &device).lower_elem(0.25);
        let b = b.mask_where(pick, a.clone().neg());
        let weights = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let run = |ours: bool| {
            let (a, b) = (a.clone().require_grad(), b.clone().require_grad());
            let output = match ours {
                true => add_relu(a.clone(), b.clone()),
                false => activation::relu(a.clone() + b.clone()),
            };
            let grads = (output.clone() * weights.clone()).sum().backward();
            let grad = |t: &Tensor<4>| values(t.grad(&grads).expect("a gradient"));
            (values(output), grad(&a), grad(&b))
        };
        let (ours, burns) = (run(true), run(false));
        assert!(burns.0.contains(&0.0) && burns.0.iter().any(|&v| v > 0.0));
        assert_eq!(ours.0, burns.0, "output");
        assert_eq!(ours.1, burns.1, "gradient of a");
        assert_eq!(ours.2, burns.2, "gradient of b");
        // Without autodiff, and with one input that needs no gradient.
        assert_eq!(
            values(add_relu(a.clone().inner(), b.clone().inner())),
            burns.0
        );
        let a_only = a.clone().require_grad();
        let grads = (add_relu(a_only.clone(), b.clone()) * weights.clone())
            .sum()
            .backward();
        assert_eq!(values(a_only.grad(&grads).expect("a gradient")), burns.1);
    }
}
