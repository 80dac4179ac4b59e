//! `pretext bench`: SimCLR training images/s (small CNN, MNIST, two views) on
//! each CPU backend in turn, in one process, with the median step time and the
//! ratio to the first backend; and the data pipeline alone (augmented views/s).
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use pretext::data::transform::Preset;
use pretext::data::{AugmentConfig, BatchLoader, ChannelStats, DatasetConfig, LoaderConfig};
use pretext::methods::{InputSpec, MethodConfig};
use pretext::nn::{EncoderConfig, InputShape};
use pretext::train::OptimizerConfig;

use crate::backend::Backend;

/// Arguments of `pretext bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Backends to measure, in order; ratios are against the first.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "flex,ndarray"
    )]
    pub backends: Vec<Backend>,
    /// Images per step (each gives two views).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Timed steps per backend.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Untimed warm-up steps per backend.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(args: Args) -> Result<()> {
    if args.batch < 2 || args.steps == 0 {
        bail!("--batch must be at least 2 and --steps at least 1");
    }
    let images = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/mnist/train-images-idx3-ubyte.gz");
    let n = args.batch * (args.steps + args.warmup);
    let data = Arc::new(
        DatasetConfig::Idx {
            images,
            labels: None,
            limit: Some(n),
        }
        .load(Path::new("."))?,
    );
    let stats = ChannelStats::of(&data);
    let augment = AugmentConfig::from_preset(Preset::Mnist);
    let views = Arc::new(
        augment
            .multi_view((28, 28), 2)
            .map_err(anyhow::Error::msg)?,
    );
    let loader = BatchLoader::new(
        data.clone(),
        (0..data.len()).collect(),
        views,
        stats.clone(),
        LoaderConfig {
            batch_size: args.batch,
            shuffle: true,
            drop_last: true,
            seed: 0,
            prefetch: 2,
        },
    );
    // The data pipeline alone: assemble every batch once.
    let t0 = Instant::now();
    let batches: Vec<_> = loader.epoch(1).collect();
    let pipeline = (batches.len() * args.batch * 2) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "SimCLR, small CNN {:?}, MNIST 28x28x1, batch {} x 2 views, {} timed steps after {} warm-up, {} threads",
        pretext::nn::encoder::SmallCnnConfig::default().widths,
        args.batch,
        args.steps,
        args.warmup,
        rayon_threads()
    );
    println!("data pipeline: {pipeline:.0} augmented views/s");
    println!(
        "{:<8} {:>14} {:>12} {:>10}",
        "backend", "median step s", "img/s", "ratio"
    );
    let mut first = None;
    for backend in &args.backends {
        let device = backend.device()?.autodiff();
        device.seed(0);
        let spec = InputSpec::normalized(InputShape::new(1, 28, 28), &stats);
        let mut method = MethodConfig::default().init(&EncoderConfig::default(), &spec, &device);
        let mut optim = OptimizerConfig::default().init(None);
        let mut times = Vec::new();
        for (i, batch) in batches.iter().enumerate() {
            let start = Instant::now();
            let views: Vec<Tensor<4>> = (0..2).map(|v| batch.view_tensor(v, &device)).collect();
            let out = method.forward(&views);
            let grads = GradientsParams::from_grads(out.loss.backward(), &method);
            method = optim.step(1e-3, method, grads);
            // Wait for the device to finish the step before reading the clock.
            device.sync().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if i >= args.warmup {
                times.push(start.elapsed().as_secs_f64());
            }
        }
        let m = median(times);
        let rate = args.batch as f64 / m;
        let ratio = rate / *first.get_or_insert(rate);
        println!(
            "{:<8} {:>14.3} {:>12.0} {:>9.2}x",
            backend.name(),
            m,
            rate,
            ratio
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
