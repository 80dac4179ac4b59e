//! The pretraining loop: data → views → method → loss → optimiser step, with
//! per-epoch validation, collapse signal, checkpoint and metrics.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use pretext_data::transform::derive_seed;
use pretext_data::{BatchLoader, ChannelStats, LoaderConfig, train_val_split};
use pretext_methods::{InputSpec, Method, StepProgress};
use pretext_nn::InputShape;

use crate::checkpoint::{Checkpoint, CheckpointState};
use crate::collapse::{Collapse, effective_rank, embedding_std};
use crate::run_dir::now_unix;
use crate::{
    EpochRecord, ExperimentConfig, MetricsLog, Observer, Plan, RunDir, RunInfo, RunStatus,
    StepRecord, TrainError,
};

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Completed epochs.
    pub epochs: usize,
    /// Mean training loss of the first epoch.
    pub first_train_loss: f32,
    /// Mean training loss of the last epoch.
    pub last_train_loss: f32,
    /// Validation loss of the last epoch, if there is a validation split.
    pub last_val_loss: Option<f32>,
    /// Training images per second over the whole run.
    pub images_per_sec: f64,
}

/// The data side of a run: loaders, normalisation and step counts, all
/// derived from the experiment (so a resumed run rebuilds them exactly).
struct Setup {
    train_loader: BatchLoader,
    val_loader: Option<BatchLoader>,
    spec: InputSpec,
    steps_per_epoch: usize,
    total_steps: usize,
    train_images: usize,
    val_images: usize,
}

impl Setup {
    fn new(config: &ExperimentConfig) -> Result<Self, TrainError> {
        let t = &config.train;
        let data = Arc::new(config.data.load(&config.base_dir)?.without_labels());
        let (channels, height, width) = data.shape();
        let (train_idx, val_idx) = train_val_split(data.len(), t.val_fraction, config.seed);
        if train_idx.len() < t.batch_size {
            return Err(TrainError::Config {
                path: data.source().to_path_buf(),
                reason: format!(
                    "train.batch_size ({}) is larger than the training split ({} images)",
                    t.batch_size,
                    train_idx.len()
                ),
            });
        }
        let stats = ChannelStats::of(&data);
        let views = Arc::new(
            config
                .augment
                .multi_view((height, width), config.method.views())
                .map_err(|reason| TrainError::Config {
                    path: config.base_dir.join("augment"),
                    reason,
                })?,
        );
        let loader = |indices: Vec<usize>, shuffle: bool, drop_last: bool| {
            BatchLoader::new(
                data.clone(),
                indices,
                views.clone(),
                stats.clone(),
                LoaderConfig {
                    batch_size: t.batch_size,
                    shuffle,
                    drop_last,
                    seed: config.seed,
                    prefetch: 2,
                },
            )
        };
        let (train_images, val_images) = (train_idx.len(), val_idx.len());
        let train_loader = loader(train_idx, true, true);
        // Validation views are drawn once (epoch 0's seed) so epochs compare alike;
        // a last batch of one image would break batch statistics, so keep it only if ≥ 2.
        let val_loader = (val_images >= 2).then(|| loader(val_idx, false, false));
        let steps_per_epoch = train_loader
            .batches_per_epoch()
            .min(t.max_steps_per_epoch.unwrap_or(usize::MAX));
        Ok(Self {
            train_loader,
            val_loader,
            spec: InputSpec::normalized(InputShape::new(channels, height, width), &stats),
            steps_per_epoch,
            total_steps: steps_per_epoch * t.epochs,
            train_images,
            val_images,
        })
    }
}

/// Runs one pretraining experiment into a new directory under `out`.
///
/// `device` is the plain (inference) device of the backend the user chose;
/// training runs on its autodiff twin.
pub fn pretrain(
    config: &ExperimentConfig,
    out: &Path,
    info: &RunInfo,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let setup = Setup::new(config)?;
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let method = config
        .method
        .init(&config.encoder, &setup.spec, &train_device);
    let optimizer = config.train.optimizer.init(config.train.grad_clip);

    let run = RunDir::create(out, &config.name)?;
    let _lock = run.lock()?;
    crate::run_dir::write_atomic(&run.config_path(), config.to_toml().as_bytes())?;
    let status = fresh_status(&run, config, info);
    let start = Start {
        epoch: 1,
        step: 0,
        first_train_loss: None,
    };
    train(
        config, &setup, &run, status, method, optimizer, start, device, observer,
    )
}

/// Continues the run at `run_path` from its last good checkpoint (the one
/// before it, with a warning, if the last is corrupt), with the run's own
/// experiment. The metrics log is cut back to the checkpoint, so the lines
/// of the interrupted epoch are replaced, not repeated. With the same
/// backend, the losses are those of an uninterrupted run: every random
/// stream is seeded from (seed, epoch).
pub fn resume(
    run_path: &Path,
    info: &RunInfo,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let run = RunDir::open(run_path)?;
    let _lock = run.lock()?;
    let config = ExperimentConfig::load(&run.config_path(), &[])?;
    let good = Checkpoint::find_good(&run.checkpoint_dir())?;
    if let Some(warning) = &good.warning {
        observer.on_message(&format!("warning: {warning}"));
    }
    let state = &good.state;
    if state.method != config.method.name() {
        return Err(TrainError::Checkpoint {
            path: good.dir.clone(),
            reason: format!(
                "holds a {} checkpoint but the run's experiment is {}",
                state.method,
                config.method.name()
            ),
        });
    }
    if state.epoch >= config.train.epochs {
        return Err(TrainError::Config {
            path: run.config_path(),
            reason: format!(
                "the run already completed all {} epochs; nothing to resume",
                config.train.epochs
            ),
        });
    }
    let setup = Setup::new(&config)?;
    let train_device = device.clone().autodiff();
    let spec = state.input.clone().unwrap_or_else(|| setup.spec.clone());
    let method = config.method.init(&config.encoder, &spec, &train_device);
    let method = Checkpoint::load_method(&good.dir, method)?;
    let optimizer = config.train.optimizer.init(config.train.grad_clip);
    let optimizer = Checkpoint::load_optimizer(&good.dir, optimizer)?;

    let kept = crate::metrics::truncate_after(&run.metrics_path(), state.step, state.epoch)?;
    let first_train_loss = kept.iter().find(|e| e.epoch == 1).map(|e| e.train_loss);
    let mut status = run
        .status()
        .unwrap_or_else(|_| fresh_status(&run, &config, info));
    status.state = "running".into();
    status.info = info.clone();
    status.epochs_done = state.epoch;
    status.error = None;
    status.updated_unix = now_unix();
    let start = Start {
        epoch: state.epoch + 1,
        step: state.step,
        first_train_loss,
    };
    train(
        &config, &setup, &run, status, method, optimizer, start, device, observer,
    )
}

/// The status of a run starting now.
fn fresh_status(run: &RunDir, config: &ExperimentConfig, info: &RunInfo) -> RunStatus {
    let now = now_unix();
    RunStatus {
        name: run.name(),
        state: "running".into(),
        method: config.method.name().into(),
        seed: config.seed,
        info: info.clone(),
        epochs_done: 0,
        epochs: config.train.epochs,
        last_val_loss: None,
        started_unix: now,
        updated_unix: now,
        error: None,
    }
}

/// Where the loop starts.
struct Start {
    /// First epoch to run (1-based).
    epoch: usize,
    /// Optimiser steps already taken.
    step: usize,
    /// Mean training loss of epoch 1, when it ran before.
    first_train_loss: Option<f32>,
}

/// The epochs from `start` to the end, then the run's final state.
#[allow(clippy::too_many_arguments)]
fn train(
    config: &ExperimentConfig,
    setup: &Setup,
    run: &RunDir,
    mut status: RunStatus,
    mut method: Method,
    mut optimizer: ModuleOptimizer,
    start: Start,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let t = &config.train;
    let train_device = device.clone().autodiff();
    run.write_status(&status)?;
    let mut log = MetricsLog::append(&run.metrics_path())?;
    let config_toml = config.to_toml();
    observer.on_start(&Plan {
        run_dir: run.path(),
        first_epoch: start.epoch,
        epochs: t.epochs,
        steps_per_epoch: setup.steps_per_epoch,
        train_images: setup.train_images,
        val_images: setup.val_images,
        parameters: method.num_params(),
    });

    let result = (|| {
        let run_start = Instant::now();
        let mut step = start.step;
        let mut images_seen = 0usize;
        let mut first_train_loss = start.first_train_loss.unwrap_or(f32::NAN);
        let mut last = (f32::NAN, None);
        for epoch in start.epoch..=t.epochs {
            train_device.seed(derive_seed(config.seed, epoch as u64));
            let epoch_start = Instant::now();
            let mut window_start = Instant::now();
            let mut window_images = 0usize;
            let mut loss_sum = 0f64;
            let mut lr = 0f64;
            for batch in setup.train_loader.epoch(epoch).take(setup.steps_per_epoch) {
                lr = t.schedule.lr(
                    t.optimizer.lr(),
                    step,
                    setup.total_steps,
                    setup.steps_per_epoch,
                );
                let n = batch.len();
                let inputs = batch.into_view_tensors(&train_device);
                let out = method.forward(&inputs);
                let loss: f32 = out.loss.clone().into_scalar();
                step += 1;
                if !loss.is_finite() {
                    return Err(TrainError::Diverged {
                        step,
                        epoch,
                        value: loss,
                        kept: match epoch - 1 {
                            0 => "no checkpoint was written yet".into(),
                            e => format!(
                                "the checkpoint of epoch {e} is kept (pretext pretrain --resume {} continues from it)",
                                run.path().display()
                            ),
                        },
                    });
                }
                let grads = GradientsParams::from_grads(out.loss.backward(), &method);
                method = optimizer.step(lr, method, grads);
                method = method.after_step(
                    out.keys,
                    StepProgress {
                        step,
                        total_steps: setup.total_steps,
                    },
                );
                loss_sum += loss as f64;
                images_seen += n;
                window_images += n;
                let record = StepRecord {
                    kind: "step".into(),
                    step,
                    epoch,
                    loss,
                    lr,
                    images_per_sec: window_images as f64
                        / window_start.elapsed().as_secs_f64().max(1e-9),
                };
                observer.on_step(&record);
                if step.is_multiple_of(t.log_every) {
                    log.write(&record)?;
                    window_start = Instant::now();
                    window_images = 0;
                }
            }
            let train_seconds = epoch_start.elapsed().as_secs_f64();
            let train_loss = (loss_sum / setup.steps_per_epoch as f64) as f32;
            if epoch == 1 {
                first_train_loss = train_loss;
            }
            let (val_loss, signals) = match &setup.val_loader {
                Some(l) => {
                    let (loss, signals) = validate(&method.valid(), l, device);
                    (Some(loss), Some(signals))
                }
                None => (None, None),
            };
            if let Some(s) = &signals
                && let Some(warning) = Collapse::default().check(epoch, s.std, s.rank, s.dim)
            {
                observer.on_message(&warning);
            }
            Checkpoint::save(
                &run.checkpoint_dir(),
                &method,
                &optimizer,
                &CheckpointState {
                    epoch,
                    step,
                    seed: config.seed,
                    method: config.method.name().into(),
                    input: Some(setup.spec.clone()),
                    checksums: Default::default(),
                },
                &config_toml,
            )?;
            let record = EpochRecord {
                kind: "epoch".into(),
                epoch,
                step,
                train_loss,
                val_loss,
                embedding_std: signals.as_ref().map(|s| s.std),
                effective_rank: signals.as_ref().map(|s| s.rank),
                lr,
                images_per_sec: (setup.steps_per_epoch * t.batch_size) as f64
                    / train_seconds.max(1e-9),
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            log.write(&record)?;
            status.epochs_done = epoch;
            status.last_val_loss = val_loss;
            status.updated_unix = now_unix();
            run.write_status(&status)?;
            observer.on_epoch(&record);
            last = (train_loss, val_loss);
        }
        Ok(Summary {
            run_dir: run.path().to_path_buf(),
            epochs: t.epochs,
            first_train_loss,
            last_train_loss: last.0,
            last_val_loss: last.1,
            images_per_sec: images_seen as f64 / run_start.elapsed().as_secs_f64().max(1e-9),
        })
    })();

    status.updated_unix = now_unix();
    match &result {
        Ok(_) => status.state = "finished".into(),
        Err(e) => {
            status.state = "failed".into();
            status.error = Some(e.to_string());
        }
    }
    run.write_status(&status)?;
    result
}

/// The collapse signals of one epoch's validation embeddings.
struct Signals {
    std: f32,
    rank: f32,
    dim: usize,
}

/// Mean loss over the validation split and the collapse signals of its
/// embeddings, without gradients.
fn validate(method: &Method, loader: &BatchLoader, device: &Device) -> (f32, Signals) {
    let mut loss_sum = 0f64;
    let mut count = 0usize;
    let mut embeddings = Vec::new();
    for batch in loader.epoch(0) {
        let n = batch.len();
        let out = method.forward(&batch.into_view_tensors(device));
        loss_sum += out.loss.into_scalar::<f32>() as f64 * n as f64;
        count += n;
        embeddings.push(out.embeddings);
    }
    let h = Tensor::cat(embeddings, 0);
    let signals = Signals {
        std: embedding_std(h.clone()),
        rank: effective_rank(h.clone()),
        dim: h.dims()[1],
    };
    ((loss_sum / count.max(1) as f64) as f32, signals)
}
