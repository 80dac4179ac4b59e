//! The pretraining loop: data → views → method → loss → optimiser step, with
//! per-epoch validation, collapse signal, checkpoint and metrics.
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use pretext_data::Modality;
use pretext_data::text::TextTokenizer;
use pretext_data::transform::derive_seed;
use pretext_methods::StepProgress;
use pretext_nn::random_streams;

use crate::checkpoint::{Checkpoint, CheckpointState, GoodCheckpoint, Needs};
use crate::collapse::{Collapse, effective_rank, embedding_std};
use crate::pretraining::Pretraining;
use crate::replicas::Replicas;
use crate::setup::ImageSetup;
use crate::text::setup::{TOKENIZER_FILE, TextSetup};
use crate::time_budget::{Budget, BudgetCall, with_epochs};
use crate::warm_start::method_from_run;
use crate::{
    EpochRecord, Experiment, ExperimentConfig, MetricsLog, Observer, Plan, RunDir, RunInfo,
    RunStatus, StepRecord, TextExperimentConfig, TrainConfig, TrainError,
};
use pretext_runs::{RUNNING, Throughput, now_unix};

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
    /// What the samples are.
    pub modality: Modality,
    /// Training samples (images or texts, see `modality`) per second over
    /// the whole run.
    pub samples_per_sec: f64,
}

/// What the loop reads from an experiment, whatever its modality.
pub(crate) struct RunSettings<'a> {
    /// The run's name (its directory's, unless taken).
    pub name: &'a str,
    /// The run's seed.
    pub seed: u64,
    /// The method's name (checked against checkpoints).
    pub method: &'static str,
    /// Optimisation settings.
    pub train: &'a TrainConfig,
    /// The resolved experiment as TOML (written into checkpoints).
    pub toml: String,
}

/// `settings()` of each experiment config: what the loop reads is the same
/// for images and text.
macro_rules! run_settings {
    ($($config:ty),+) => {$(
        impl $config {
            fn settings(&self) -> RunSettings<'_> {
                RunSettings {
                    name: &self.name,
                    seed: self.seed,
                    method: self.method.name(),
                    train: &self.train,
                    toml: self.to_toml(),
                }
            }
        }
    )+};
}

run_settings!(ExperimentConfig, TextExperimentConfig);

/// Runs one pretraining experiment into a new directory under `out`.
///
/// `devices` are the plain (inference) devices the user chose, training runs
/// on their autodiff twins. With several, each step's batch is split over
/// them (data-parallel, see `replicas.rs`); the first holds the method, its
/// optimiser and validation.
///
/// The run holds its backends' random streams throughout
/// ([`random_streams`]): runs on one backend in one process take turns, so
/// each gives what its seed promises.
pub fn pretrain(
    config: &ExperimentConfig,
    out: &Path,
    info: &RunInfo,
    devices: &[Device],
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let device = first_device(devices)?;
    let setup = ImageSetup::new(config, observer)?;
    // Every draw of the run follows from its seed, whatever else the process runs.
    let _streams = random_streams::hold(devices);
    let train_device = device.clone().autodiff();
    let method = match &config.init {
        Some(dir) => method_from_run(dir, config, &setup.spec, &train_device)?,
        None => {
            train_device.seed(config.seed);
            config
                .method
                .init(&config.encoder, &setup.spec, &train_device)
        }
    };
    let settings = config.settings();
    start_fresh(&settings, &setup, out, method, info, devices, observer)
}

/// The first of a run's devices, which holds the method.
fn first_device(devices: &[Device]) -> Result<&Device, TrainError> {
    devices.first().ok_or(TrainError::Devices {
        reason: "no device to train on".into(),
    })
}

/// Text methods run on one device: refuses several.
fn one_device(devices: &[Device]) -> Result<&Device, TrainError> {
    match devices {
        [one] => Ok(one),
        [] => first_device(devices),
        _ => Err(TrainError::Devices {
            reason: "data-parallel pretraining over several devices supports image experiments; a text experiment runs on one device".into(),
        }),
    }
}

/// Runs one text pretraining experiment into a new directory under `out`:
/// trains the tokenizer on the corpus, saves it as `<run>/tokenizer.json`,
/// then pretrains as [`pretrain`] does.
pub fn pretrain_text(
    config: &TextExperimentConfig,
    out: &Path,
    info: &RunInfo,
    devices: &[Device],
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let device = one_device(devices)?;
    let setup = TextSetup::new(config, None, observer)?;
    let _streams = random_streams::hold(devices);
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let method = setup.init_method(config, &train_device);
    let settings = config.settings();
    start_fresh(&settings, &setup, out, method, info, devices, observer)
}

/// Creates the run directory `out/<name>` (or `<name>-2`, … when taken) and holds its lock, writes what the setup keeps beside the
/// weights (a text run's tokenizer) and the resolved experiment, and trains
/// the run from epoch 1.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_fresh<P: Pretraining>(
    settings: &RunSettings,
    setup: &P,
    out: &Path,
    method: P::Model,
    info: &RunInfo,
    devices: &[Device],
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let run = RunDir::create(out, settings.name)?;
    let _lock = run.lock()?;
    setup.save_into(run.path())?;
    pretext_runs::write_atomic(&run.config_path(), settings.toml.as_bytes())?;
    let optimizer = settings.train.optimizer.init(settings.train.grad_clip);
    let status = fresh_status(&run, settings, info);
    let start = Start {
        epoch: 1,
        step: 0,
        first_train_loss: None,
        seconds_before: 0.0,
    };
    train(
        settings, setup, &run, status, method, optimizer, start, devices, observer,
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
    devices: &[Device],
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let device = first_device(devices)?;
    let run = RunDir::open(run_path)?;
    let _lock = run.lock()?;
    let _streams = random_streams::hold(devices);
    let train_device = device.clone().autodiff();
    match Experiment::load(&run.config_path(), &[])? {
        Experiment::Image(config) => continue_run(
            &config.settings(),
            &run,
            info,
            devices,
            observer,
            |good, observer| {
                let setup = ImageSetup::new(&config, observer)?;
                let spec = good
                    .state
                    .input
                    .clone()
                    .unwrap_or_else(|| setup.spec.clone());
                let method = config.method.init(&config.encoder, &spec, &train_device);
                Ok((setup, method))
            },
        ),
        Experiment::Text(config) => {
            one_device(devices)?;
            continue_run(
                &config.settings(),
                &run,
                info,
                devices,
                observer,
                |_, observer| {
                    let tokenizer = TextTokenizer::load(&run.path().join(TOKENIZER_FILE))?;
                    let setup = TextSetup::new(&config, Some(tokenizer), observer)?;
                    let method = setup.init_method(&config, &train_device);
                    Ok((setup, method))
                },
            )
        }
    }
}

/// The checkpoint a resumed run continues from, checked against the run's
/// experiment: the same method, and epochs left to run.
fn resumable_checkpoint(
    run: &RunDir,
    settings: &RunSettings,
    observer: &mut dyn Observer,
) -> Result<GoodCheckpoint, TrainError> {
    let latest = run.checkpoint_dir();
    if !Checkpoint::ever_written(&latest) {
        return Err(TrainError::Config {
            path: run.path().to_path_buf(),
            reason: format!(
                "nothing to resume: the run stopped before its first checkpoint (written after epoch 1); start again with pretext pretrain {}",
                run.config_path().display()
            ),
        });
    }
    let good = Checkpoint::find_good(&latest, Needs::Everything)?;
    if let Some(warning) = &good.warning {
        observer.on_message(&format!("warning: {warning}"));
    }
    let state = &good.state;
    if state.method != settings.method {
        return Err(TrainError::Checkpoint {
            path: good.dir.clone(),
            reason: format!(
                "holds a {} checkpoint but the run's experiment is {}",
                state.method, settings.method
            ),
        });
    }
    if state.epoch >= settings.train.epochs {
        return Err(TrainError::Config {
            path: run.config_path(),
            reason: format!(
                "the run already completed all {} epochs; nothing to resume",
                settings.train.epochs
            ),
        });
    }
    Ok(good)
}

/// Finds the checkpoint the run continues from ([`resumable_checkpoint`]),
/// builds the setup and a fresh method with `prepare` (which may read the
/// checkpoint), loads the checkpoint's weights into the method and its
/// optimiser state, cuts the metrics log back to it and trains the
/// remaining epochs.
fn continue_run<P: Pretraining>(
    settings: &RunSettings,
    run: &RunDir,
    info: &RunInfo,
    devices: &[Device],
    observer: &mut dyn Observer,
    prepare: impl FnOnce(&GoodCheckpoint, &mut dyn Observer) -> Result<(P, P::Model), TrainError>,
) -> Result<Summary, TrainError> {
    let good = resumable_checkpoint(run, settings, observer)?;
    let (setup, method) = prepare(&good, observer)?;
    let state = &good.state;
    let method = Checkpoint::load_method(&good.dir, method)?;
    let optimizer = settings.train.optimizer.init(settings.train.grad_clip);
    let optimizer = Checkpoint::load_optimizer(&good.dir, optimizer)?;
    let kept = pretext_runs::truncate_after(
        &run.metrics_path(),
        state.step,
        state.epoch,
        state.record.as_ref(),
    )?;
    let first_train_loss = kept.iter().find(|e| e.epoch == 1).map(|e| e.train_loss);
    let mut status = run
        .status()
        .unwrap_or_else(|_| fresh_status(run, settings, info));
    status.state = RUNNING.into();
    status.info = info.clone();
    status.epochs_done = state.epoch;
    status.error = None;
    status.updated_unix = now_unix();
    let start = Start {
        epoch: state.epoch + 1,
        step: state.step,
        first_train_loss,
        seconds_before: kept.iter().map(|e| e.seconds).sum(),
    };
    train(
        settings, &setup, run, status, method, optimizer, start, devices, observer,
    )
}

/// The status of a run starting now.
fn fresh_status(run: &RunDir, settings: &RunSettings, info: &RunInfo) -> RunStatus {
    let now = now_unix();
    RunStatus {
        name: run.name(),
        state: RUNNING.into(),
        method: settings.method.into(),
        seed: settings.seed,
        info: info.clone(),
        epochs_done: 0,
        epochs: settings.train.epochs,
        last_val_loss: None,
        started_unix: now,
        updated_unix: now,
        error: None,
        budget: None,
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
    /// Wall-clock seconds of the epochs already run (for the budget).
    seconds_before: f64,
}

/// The epochs from `start` to the end, then the run's final state.
#[allow(clippy::too_many_arguments)]
fn train<P: Pretraining>(
    settings: &RunSettings,
    setup: &P,
    run: &RunDir,
    mut status: RunStatus,
    mut method: P::Model,
    mut optimizer: ModuleOptimizer,
    start: Start,
    devices: &[Device],
    observer: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let t = settings.train;
    let mut counts = setup.counts();
    // A budget may set the run's length after its first epoch, in the
    // resolved experiment the checkpoints carry.
    let mut epochs = t.epochs;
    let mut budget = Budget::new(t.budget_minutes, t.epochs, start.seconds_before);
    let mut toml = settings.toml.clone();
    let device = first_device(devices)?;
    let train_device = device.clone().autodiff();
    let others = devices[1..].iter().map(|d| d.clone().autodiff()).collect();
    let mut replicas = Replicas::new(others);
    run.write_status(&status)?;
    let mut log = MetricsLog::append(&run.metrics_path())?;
    observer.on_start(&Plan {
        run_dir: run.path(),
        first_epoch: start.epoch,
        epochs: t.epochs,
        steps_per_epoch: counts.steps_per_epoch,
        modality: P::MODALITY,
        train_samples: counts.train_samples,
        val_samples: counts.val_samples,
        parameters: method.num_params(),
    });

    if let Some(note) = setup.monitor_note() {
        observer.on_message(&note);
    }

    let result = (|| {
        let run_start = Instant::now();
        let mut step = start.step;
        let mut images_seen = 0usize;
        let mut first_train_loss = start.first_train_loss.unwrap_or(f32::NAN);
        let mut last = (f32::NAN, None);
        let mut epoch = start.epoch;
        while epoch <= epochs {
            let epoch_seed = derive_seed(settings.seed, epoch as u64);
            train_device.seed(epoch_seed);
            for (i, d) in replicas.devices().iter().enumerate() {
                d.seed(derive_seed(epoch_seed, i as u64 + 1));
            }
            let epoch_start = Instant::now();
            let mut window_start = Instant::now();
            let mut window_images = 0usize;
            let mut loss_sum = 0f64;
            let mut lr = 0f64;
            for batch in setup.train_batches(epoch).take(counts.steps_per_epoch) {
                lr = t.schedule.lr(
                    t.optimizer.lr(),
                    step,
                    counts.total_steps,
                    counts.steps_per_epoch,
                );
                let n = P::batch_len(&batch);
                let out = if replicas.devices().is_empty() {
                    P::forward(&method, batch, &train_device)
                } else {
                    P::forward_replicated(replicas.step(&method, &train_device), batch)
                };
                let loss: f32 =
                    out.loss
                        .clone()
                        .try_into_scalar()
                        .map_err(|e| TrainError::DeviceLost {
                            reason: last_line(&e.to_string()),
                            kept: kept_checkpoint(run, epoch),
                        })?;
                step += 1;
                if !loss.is_finite() {
                    return Err(TrainError::Diverged {
                        step,
                        epoch,
                        value: loss,
                        kept: kept_checkpoint(run, epoch),
                    });
                }
                let grads = GradientsParams::from_grads(out.loss.backward(), &method);
                method = optimizer.step(lr, method, grads);
                method = P::after_step(
                    method,
                    out.keys,
                    StepProgress {
                        step,
                        total_steps: counts.total_steps,
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
                    throughput: Throughput::new(
                        P::MODALITY,
                        window_images as f64 / window_start.elapsed().as_secs_f64().max(1e-9),
                    ),
                };
                observer.on_step(&record);
                if step.is_multiple_of(t.log_every) {
                    log.write(&record)?;
                    window_start = Instant::now();
                    window_images = 0;
                }
            }
            let train_seconds = epoch_start.elapsed().as_secs_f64();
            let train_loss = (loss_sum / counts.steps_per_epoch as f64) as f32;
            if epoch == 1 {
                first_train_loss = train_loss;
            }
            let frozen = method.valid();
            let (val_loss, signals) = match setup.val_batches() {
                Some(batches) => {
                    let (loss, signals) = validate::<P>(&frozen, batches, device);
                    (Some(loss), Some(signals))
                }
                None => (None, None),
            };
            let monitor_start = Instant::now();
            let monitor = setup.score_monitor(&frozen, epoch, epochs, device);
            let monitor_seconds = monitor
                .as_ref()
                .map(|_| monitor_start.elapsed().as_secs_f64());
            drop(frozen);
            if let Some(s) = &signals
                && let Some(warning) = Collapse::default().check(epoch, s.std, s.rank, s.dim)
            {
                observer.on_message(&warning);
            }
            let record = EpochRecord {
                kind: "epoch".into(),
                epoch,
                step,
                train_loss,
                val_loss,
                embedding_std: signals.as_ref().map(|s| s.std),
                effective_rank: signals.as_ref().map(|s| s.rank),
                lr,
                throughput: Throughput::new(
                    P::MODALITY,
                    (counts.steps_per_epoch * t.batch_size) as f64 / train_seconds.max(1e-9),
                ),
                seconds: epoch_start.elapsed().as_secs_f64(),
                monitor: monitor.unwrap_or_default(),
                monitor_seconds,
            };
            if let Some(BudgetCall::Length {
                epochs: decided,
                note,
            }) = budget
                .as_ref()
                .and_then(|b| b.length(epoch, record.seconds))
            {
                epochs = decided;
                counts.total_steps = counts.steps_per_epoch * decided;
                toml = with_epochs(&toml, decided).map_err(|reason| TrainError::Config {
                    path: run.config_path(),
                    reason,
                })?;
                pretext_runs::write_atomic(&run.config_path(), toml.as_bytes())?;
                status.epochs = decided;
                status.budget = Some(note.clone());
                observer.on_message(&note);
                observer.on_length(decided);
            }
            // The checkpoint carries the epoch's line, so a kill between the
            // two cannot lose it: a resume writes it back.
            Checkpoint::save(
                &run.checkpoint_dir(),
                &method,
                &optimizer,
                &CheckpointState {
                    epoch,
                    step,
                    seed: settings.seed,
                    method: settings.method.into(),
                    input: setup.input(),
                    checksums: Default::default(),
                    record: Some(record.clone()),
                },
                &toml,
            )?;
            kill_point(epoch);
            log.write(&record)?;
            if let Some(BudgetCall::Stop { note }) = budget
                .as_mut()
                .and_then(|b| b.spend(epoch, epochs, record.seconds, run.path()))
            {
                status.budget = Some(note.clone());
                observer.on_message(&note);
                observer.on_length(epoch);
                epochs = epoch;
            }
            status.epochs_done = epoch;
            status.last_val_loss = val_loss;
            status.updated_unix = now_unix();
            run.write_status(&status)?;
            observer.on_epoch(&record);
            last = (train_loss, val_loss);
            epoch += 1;
        }
        Ok(Summary {
            run_dir: run.path().to_path_buf(),
            epochs,
            first_train_loss,
            last_train_loss: last.0,
            last_val_loss: last.1,
            modality: P::MODALITY,
            samples_per_sec: images_seen as f64 / run_start.elapsed().as_secs_f64().max(1e-9),
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

/// Fault injection for the crash tests: `PRETEXT_KILL_AFTER_CHECKPOINT=<epoch>`
/// ends the process at once, as a kill would, after that epoch's checkpoint
/// is in place and before its metrics line is written.
fn kill_point(epoch: usize) {
    let at = std::env::var("PRETEXT_KILL_AFTER_CHECKPOINT").ok();
    if at.and_then(|v| v.parse::<usize>().ok()) == Some(epoch) {
        std::process::abort();
    }
}

/// The last line of a multi-line message (burn's errors end with the cause).
fn last_line(message: &str) -> String {
    message
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What a run stopped during `epoch` keeps.
fn kept_checkpoint(run: &RunDir, epoch: usize) -> String {
    match epoch - 1 {
        0 => "no checkpoint was written yet".into(),
        e => format!(
            "the checkpoint of epoch {e} is kept (pretext pretrain --resume {} continues from it)",
            run.path().display()
        ),
    }
}

/// The collapse signals of one epoch's validation embeddings.
struct Signals {
    std: f32,
    rank: f32,
    dim: usize,
}

/// Mean loss over the validation split and the collapse signals of its
/// embeddings, without gradients.
fn validate<P: Pretraining>(
    method: &P::Model,
    batches: Box<dyn Iterator<Item = P::Batch> + '_>,
    device: &Device,
) -> (f32, Signals) {
    let mut loss_sum = 0f64;
    let mut count = 0usize;
    let mut embeddings = Vec::new();
    for batch in batches {
        let n = P::batch_len(&batch);
        let out = P::forward(method, batch, device);
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
