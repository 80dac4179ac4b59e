//! Every registered method's loss falls within 20 optimiser steps on one real
//! batch of MNIST (the solo-learn check), on the flex backend. Each step is a
//! whole training step: forward, optimiser, then the method's own update
//! (momentum networks, queues).
use std::sync::Arc;

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use pretext::data::transform::Preset;
use pretext::data::{AugmentConfig, BatchLoader, ChannelStats, DatasetConfig, LoaderConfig};
use pretext::methods::method::DclConfig;
use pretext::methods::{InputSpec, MethodConfig, StepProgress};
use pretext::nn::encoder::SmallCnnConfig;
use pretext::nn::{EncoderConfig, InputShape, random_streams};
use pretext::train::OptimizerConfig;

use crate::common::{device, mnist_images};

/// `floor` is the loss's lower bound: the loss must close at least a tenth
/// of its distance to it. With `enqueue` false, queues keep their start.
fn loss_falls_towards(method: MethodConfig, floor: f32, enqueue: bool) {
    let encoder = EncoderConfig::SmallCnn(SmallCnnConfig {
        widths: vec![8, 16],
    });
    loss_falls_with(method, &encoder, floor, enqueue);
}

fn loss_falls_with(method: MethodConfig, encoder: &EncoderConfig, floor: f32, enqueue: bool) {
    let data = Arc::new(
        DatasetConfig::Idx {
            images: mnist_images(),
            labels: None,
            limit: Some(64),
        }
        .load(std::path::Path::new("."))
        .unwrap(),
    );
    let stats = ChannelStats::of(&data);
    let augment = AugmentConfig::from_preset(Preset::Mnist);
    let views = Arc::new(augment.multi_view((28, 28), method.views()).unwrap());
    let loader = BatchLoader::new(
        data.clone(),
        (0..64).collect(),
        views,
        stats.clone(),
        LoaderConfig {
            batch_size: 64,
            shuffle: false,
            drop_last: true,
            seed: 1,
            prefetch: 1,
        },
    );
    let batch = loader.epoch(1).next().unwrap();
    let device = device().autodiff();
    // Other tests of this binary draw on this backend too.
    let _streams = random_streams::hold_seeded(&device, 1);
    let spec = InputSpec::normalized(InputShape::new(1, 28, 28), &stats);
    let mut model = method.init(encoder, &spec, &device);
    let mut optim = OptimizerConfig {
        weight_decay: 0.0,
        ..Default::default()
    }
    .init(None);
    let inputs: Vec<Tensor<4>> = (0..method.views())
        .map(|v| batch.view_tensor(v, &device))
        .collect();
    let mut losses = Vec::new();
    for step in 1..=20 {
        let out = model.forward(&inputs);
        losses.push(out.loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
        model = model.after_step(
            out.keys.filter(|_| enqueue),
            StepProgress {
                step,
                total_steps: 20,
            },
        );
    }
    let (first, last) = (losses[0], losses[19]);
    assert!(
        last - floor < 0.9 * (first - floor),
        "{}: loss {first} -> {last}: {losses:?}",
        method.name()
    );
}

fn loss_falls(method: MethodConfig) {
    loss_falls_towards(method, 0.0, true);
}

#[test]
fn simclr_loss_falls() {
    loss_falls(MethodConfig::Simclr(Default::default()));
}

#[test]
fn dcl_loss_falls() {
    // DCL's loss goes below zero: at best the positive's cosine is 1 and
    // every negative's -1, so it is at least -2/t + ln(2b - 2) for b = 64.
    let t = DclConfig::default().temperature;
    loss_falls_towards(
        MethodConfig::Dcl(DclConfig::default()),
        -2.0 / t + (2.0 * 64.0 - 2.0f32).ln(),
        true,
    );
}

#[test]
fn nnclr_loss_falls() {
    // The support set fills from the second step on: the loss of the first
    // step is flat (ln 64), those after it fall.
    loss_falls(MethodConfig::Nnclr(Default::default()));
}

#[test]
fn autoencoder_loss_falls() {
    loss_falls(MethodConfig::Autoencoder(Default::default()));
}

#[test]
fn denoising_autoencoder_loss_falls() {
    loss_falls(MethodConfig::DenoisingAutoencoder(Default::default()));
}

#[test]
fn barlow_twins_loss_falls() {
    loss_falls(MethodConfig::BarlowTwins(Default::default()));
}

#[test]
fn vicreg_loss_falls() {
    loss_falls(MethodConfig::Vicreg(Default::default()));
}

#[test]
fn moco_loss_falls() {
    // The momentum update runs, the queue stays: on one repeated batch the
    // queue would fill with the batch's own keys, that is with its positives.
    loss_falls_towards(MethodConfig::Moco(Default::default()), 0.0, false);
}

#[test]
fn byol_loss_falls() {
    loss_falls(MethodConfig::Byol(Default::default()));
}

#[test]
fn simsiam_loss_falls() {
    // The negative cosine is bounded below by -1.
    loss_falls_towards(MethodConfig::Simsiam(Default::default()), -1.0, true);
}

#[test]
fn vae_loss_falls() {
    loss_falls(MethodConfig::Vae(Default::default()));
}

#[test]
fn mae_loss_falls() {
    let vit = EncoderConfig::Vit(Default::default());
    loss_falls_with(MethodConfig::Mae(Default::default()), &vit, 0.0, true);
}
