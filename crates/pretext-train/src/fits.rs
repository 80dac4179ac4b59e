//! Refusing, before anything is allocated, a run whose model and batch
//! cannot fit in the memory budget ([`pretext_data::memory`]): a width of
//! 100,000 or a queue of 10^10 rows used to abort the process with a
//! backtrace (and leave its run marked running).
use pretext_data::memory;
use pretext_nn::InputShape;

use crate::error::TrainError;
use crate::experiment::ExperimentConfig;

/// Bytes of one float.
const F32: f64 = 4.0;
/// Copies of every trained parameter: the weights, their gradients and
/// Adam's two moments.
const COPIES: f64 = 4.0;
/// Activations are kept for the backward pass and get a gradient there.
const ACTIVATION_COPIES: f64 = 2.0;
/// Share of the budget a run may plan for: the data, the loaders' prefetched
/// batches and the allocator's slack need the rest.
const SHARE: f64 = 0.8;

/// Checks that `config`'s model, its optimiser state and one step's
/// activations on images of `input` fit in the budget; the refusal names the
/// largest part.
pub fn check_fits(config: &ExperimentConfig, input: InputShape) -> Result<(), TrainError> {
    let encoder = config.encoder.footprint(input);
    let method = config
        .method
        .footprint(encoder, config.encoder.out_dim(input), input);
    let images = config.train.batch_size as f64 * config.method.views() as f64;
    let step = F32 * ACTIVATION_COPIES * images;
    let parts = [
        ("[encoder]", F32 * COPIES * encoder.params),
        (
            "[method] (heads, momentum copies, queues, decoders)",
            F32 * COPIES * method.params,
        ),
        (
            "[encoder] at train.batch_size (the activations of one step)",
            step * encoder.activations,
        ),
        (
            "[method] at train.batch_size (the activations of one step)",
            step * method.activations,
        ),
    ];
    let need: f64 = parts.iter().map(|(_, b)| b).sum();
    memory::check(need, SHARE).map_err(|why| {
        let (key, largest) = parts
            .iter()
            .copied()
            .fold(("", f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
        TrainError::TooLarge(format!(
            "{key}: training {why} ({} for this part; parameters {:.3e}, activations per image {:.3e})",
            memory::human(largest),
            encoder.params + method.params,
            encoder.activations + method.activations,
        ))
    })
}
