//! `pretext bench`: training and embedding images/s of pretext's standard
//! workloads on each backend in turn, in one process, with the median step time
//! and the ratio to the first backend; and the data pipeline alone (augmented
//! views/s). `bench/pytorch_bench.py` builds the same networks in PyTorch, and
//! `bench/run.sh` runs both sides in turn and prints their ratios.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use clap::ValueEnum;
use pretext::data::transform::Preset;
use pretext::data::{AugmentConfig, Batch, BatchLoader, ChannelStats, DatasetConfig, LoaderConfig};
use pretext::methods::method::AutoencoderConfig;
use pretext::methods::{InputSpec, MethodConfig};
use pretext::nn::encoder::ResNetConfig;
use pretext::nn::{EncoderConfig, InputShape};
use pretext::train::OptimizerConfig;

use crate::backend::Backend;

/// What `pretext bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// A SimCLR step: small CNN 32-64-128 on 28x28x1 MNIST, two views.
    SimclrCnn,
    /// A SimCLR step: ResNet-18 (CIFAR stem) on 32x32x3 generated images, two views.
    Resnet18,
    /// An autoencoder step: small CNN encoder and convolutional decoder on MNIST.
    Autoencoder,
    /// Embedding extraction: the small CNN's forward pass alone, no autodiff.
    Embed,
    /// The data pipeline alone: MNIST augmented into two views.
    Pipeline,
}

/// Arguments of `pretext bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Workloads to measure, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "simclr-cnn,pipeline"
    )]
    pub workload: Vec<Workload>,
    /// Backends to measure, in order; ratios are against the first.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "flex,ndarray"
    )]
    pub backends: Vec<Backend>,
    /// Images per step (each gives two views in the SimCLR workloads).
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

/// The first `n` MNIST training images, their statistics, and a loader that
/// augments them into `views` views with the MNIST preset.
fn mnist(n: usize, views: usize, batch: usize) -> Result<(ChannelStats, BatchLoader)> {
    let images = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/mnist/train-images-idx3-ubyte.gz");
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
            .multi_view((28, 28), views)
            .map_err(anyhow::Error::msg)?,
    );
    let loader = BatchLoader::new(
        data.clone(),
        (0..data.len()).collect(),
        views,
        stats.clone(),
        LoaderConfig {
            batch_size: batch,
            shuffle: true,
            drop_last: true,
            seed: 0,
            prefetch: 2,
        },
    );
    Ok((stats, loader))
}

/// Where a workload's views come from.
enum Inputs {
    /// Each step's views, assembled before timing.
    Batches(Vec<Batch>),
    /// Standard-normal views of this shape, generated on the device.
    Generated([usize; 4]),
}

/// One workload's inputs and networks, before any backend is chosen.
struct Setup {
    /// What the header line says.
    title: String,
    /// The method trained each step; `None` times the encoder's forward pass alone.
    method: Option<MethodConfig>,
    encoder: EncoderConfig,
    spec: InputSpec,
    inputs: Inputs,
}

impl Setup {
    fn new(workload: Workload, args: &Args) -> Result<Self> {
        let n = args.batch * (args.steps + args.warmup);
        let b = args.batch;
        let (method, what) = match workload {
            Workload::SimclrCnn | Workload::Resnet18 => (Some(MethodConfig::default()), "SimCLR"),
            Workload::Autoencoder => (
                Some(MethodConfig::Autoencoder(AutoencoderConfig::default())),
                "autoencoder",
            ),
            Workload::Embed => (None, "embedding extraction (forward only)"),
            Workload::Pipeline => unreachable!("the pipeline has no network"),
        };
        let views = method.as_ref().map_or(1, MethodConfig::views);
        let small_cnn = pretext::nn::encoder::SmallCnnConfig::default().widths;
        Ok(if workload == Workload::Resnet18 {
            Setup {
                title: format!(
                    "{what}, ResNet-18 (CIFAR stem), generated 32x32x3, batch {b} x {views} view(s)"
                ),
                method,
                encoder: EncoderConfig::ResNet18(ResNetConfig::default()),
                spec: InputSpec {
                    shape: InputShape::new(3, 32, 32),
                    mean: vec![0.0; 3],
                    std: vec![1.0; 3],
                },
                inputs: Inputs::Generated([b, 3, 32, 32]),
            }
        } else {
            let (stats, loader) = mnist(n, views, b)?;
            let decoder = if workload == Workload::Autoencoder {
                " + conv decoder"
            } else {
                ""
            };
            Setup {
                title: format!(
                    "{what}, small CNN {small_cnn:?}{decoder}, MNIST 28x28x1, batch {b} x {views} view(s)"
                ),
                method,
                encoder: EncoderConfig::default(),
                spec: InputSpec::normalized(InputShape::new(1, 28, 28), &stats),
                inputs: Inputs::Batches(loader.epoch(1).collect()),
            }
        })
    }

    /// The views of every step on `device`: as many as the method takes, one
    /// for the forward pass alone.
    fn inputs(&self, steps: usize, device: &Device) -> Vec<Vec<Tensor<4>>> {
        let views = self.method.as_ref().map_or(1, MethodConfig::views);
        match &self.inputs {
            Inputs::Generated(shape) => (0..steps)
                .map(|_| {
                    (0..views)
                        .map(|_| Tensor::random(*shape, Distribution::Normal(0.0, 1.0), device))
                        .collect()
                })
                .collect(),
            Inputs::Batches(batches) => batches
                .iter()
                .map(|b| (0..views).map(|v| b.view_tensor(v, device)).collect())
                .collect(),
        }
    }
}

/// Times one training step of `method` per input on `device`; returns the
/// step times after the warm-up and the parameter count (burn's `num_params`,
/// which counts batch-norm running statistics too).
fn train_steps(
    setup: &Setup,
    method: &MethodConfig,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> Result<(Vec<f64>, usize)> {
    let device = device.clone().autodiff();
    device.seed(0);
    let mut method = method.init(&setup.encoder, &setup.spec, &device);
    let mut optim = OptimizerConfig::default().init(None);
    let mut times = Vec::new();
    for (i, views) in setup
        .inputs(warmup + steps, &device)
        .into_iter()
        .enumerate()
    {
        let start = Instant::now();
        let out = method.forward(&views);
        let grads = GradientsParams::from_grads(out.loss.backward(), &method);
        method = optim.step(1e-3, method, grads);
        // Wait for the device to finish the step before reading the clock.
        device.sync().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if i >= warmup {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    Ok((times, method.num_params()))
}

/// Times the encoder's forward pass alone (a plain device: no autodiff).
fn embed_steps(
    setup: &Setup,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> Result<(Vec<f64>, usize)> {
    device.seed(0);
    let encoder = setup.encoder.init(setup.spec.shape, device);
    let mut times = Vec::new();
    for (i, mut views) in setup.inputs(warmup + steps, device).into_iter().enumerate() {
        let start = Instant::now();
        let h = encoder.forward(views.remove(0)); // [batch, dim]
        // Reading the result back waits for the device.
        let _ = h.into_data();
        if i >= warmup {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    Ok((times, encoder.num_params()))
}

fn pipeline(args: &Args) -> Result<()> {
    let n = args.batch * (args.steps + args.warmup);
    let (_, loader) = mnist(n, 2, args.batch)?;
    // Assemble every batch once.
    let t0 = Instant::now();
    let batches = loader.epoch(1).count();
    let rate = (batches * args.batch * 2) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "pipeline: MNIST preset augmentations, batch {} x 2 views, {n} images, {} threads",
        args.batch,
        rayon_threads()
    );
    println!("data pipeline: {rate:.0} augmented views/s");
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    if args.batch < 2 || args.steps == 0 {
        bail!("--batch must be at least 2 and --steps at least 1");
    }
    // Opened before any table starts, so a backend that cannot run is
    // refused in one line; each once (wgpu refuses a second registration).
    let mut backends: Vec<Backend> = Vec::new();
    for &b in &args.backends {
        if !backends.contains(&b) {
            backends.push(b);
        }
    }
    let devices = backends
        .iter()
        .map(|b| Ok((b.name(), b.device()?)))
        .collect::<Result<Vec<_>>>()?;
    for &workload in &args.workload {
        if workload == Workload::Pipeline {
            pipeline(&args)?;
            continue;
        }
        let setup = Setup::new(workload, &args)?;
        println!(
            "{}: {}, {} timed steps after {} warm-up, {} threads",
            workload
                .to_possible_value()
                .expect("every workload has a name")
                .get_name(),
            setup.title,
            args.steps,
            args.warmup,
            rayon_threads()
        );
        println!(
            "{:<8} {:>14} {:>12} {:>10} {:>12}",
            "backend", "median step s", "img/s", "ratio", "params"
        );
        let mut first = None;
        for (name, device) in &devices {
            let (times, params) = match &setup.method {
                Some(method) => train_steps(&setup, method, args.warmup, args.steps, device)?,
                None => embed_steps(&setup, args.warmup, args.steps, device)?,
            };
            let m = median(times);
            let rate = args.batch as f64 / m;
            let ratio = rate / *first.get_or_insert(rate);
            println!(
                "{:<8} {:>14.4} {:>12.1} {:>9.2}x {:>12}",
                name, m, rate, ratio, params
            );
        }
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
