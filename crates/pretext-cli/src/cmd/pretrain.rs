//! `pretext pretrain <experiment.toml> [--backend ..] [--set key=value].. [--out DIR]`
//! and `pretext pretrain --resume runs/<name>`.
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pretext::train::{
    Experiment, ExperimentConfig, RunInfo, Summary, TrainError, pretrain, pretrain_text, resume,
};

use crate::backend::{Compute, Devices, Opened, TOKEN_VAR, token};
use crate::progress::Progress;

/// Arguments of `pretext pretrain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment file (TOML).
    #[arg(required_unless_present = "resume")]
    pub experiment: Option<PathBuf>,
    /// Continue an interrupted run (e.g. `runs/simclr-mnist`) from its last
    /// good checkpoint, with its own experiment.
    #[arg(long, value_name = "RUN", conflicts_with = "experiment")]
    pub resume: Option<PathBuf>,
    /// Train data-parallel on several devices, comma-separated: `flex`,
    /// `ndarray`, `wgpu`, `wgpu:N`, or `pretext serve` workers at
    /// `ws://host:port` (with the token of PRETEXT_TOKEN). Each step's batch
    /// is split over them; the first holds the model and optimiser.
    #[arg(long, value_name = "LIST", value_delimiter = ',', conflicts_with_all = ["backend", "device"])]
    pub devices: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// How to run an experiment: shared by `pretrain` and `quickstart`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub compute: Compute,
    /// Override a setting, e.g. `--set train.epochs=3` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// The directory that holds run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let devices = Devices::parse(&args.devices, args.run.compute)?;
    let summary = match (&args.resume, &args.experiment) {
        (Some(run), _) => {
            if !args.run.overrides.is_empty() {
                bail!(
                    "{}: --set cannot change a resumed run (it continues with its own config.toml)",
                    run.display()
                );
            }
            let mut progress = Progress::new();
            let summary = resume(run, &run_info(&devices), &devices.list, &mut progress)
                .map_err(|e| name_lost(e, &devices))?;
            drop(progress);
            print_summary(&summary, &devices);
            summary
        }
        (None, Some(experiment)) => match Experiment::load(experiment, &args.run.overrides)? {
            Experiment::Image(config) => train_on(&config, &devices, &args.run.out)?,
            Experiment::Text(config) => {
                let mut progress = Progress::new();
                let summary = pretrain_text(
                    &config,
                    &args.run.out,
                    &run_info(&devices),
                    &devices.list,
                    &mut progress,
                )
                .map_err(|e| name_lost(e, &devices))?;
                drop(progress);
                print_summary(&summary, &devices);
                summary
            }
        },
        (None, None) => unreachable!("clap requires an experiment or --resume"),
    };
    // The report computes on --backend's device, the run's own when the
    // run opened it.
    super::report::write(&summary.run_dir, &devices.or_open(args.run.compute)?)?;
    Ok(())
}

/// Runs `config` on `backend` with a progress bar and prints where the outputs are.
pub fn train(config: &ExperimentConfig, opened: &Opened, out: &Path) -> Result<Summary> {
    train_on(config, &Devices::of(opened), out)
}

/// [`train`] on `devices`.
fn train_on(config: &ExperimentConfig, devices: &Devices, out: &Path) -> Result<Summary> {
    let mut progress = Progress::new();
    let summary = pretrain(
        config,
        out,
        &run_info(devices),
        &devices.list,
        &mut progress,
    )
    .map_err(|e| name_lost(e, devices))?;
    drop(progress);
    print_summary(&summary, devices);
    Ok(summary)
}

/// A run that lost a device says which worker is gone, when one no longer
/// accepts connections.
fn name_lost(err: TrainError, devices: &Devices) -> anyhow::Error {
    let gone = match &err {
        TrainError::DeviceLost { .. } => devices.unreachable(),
        _ => Vec::new(),
    };
    let lost = matches!(err, TrainError::DeviceLost { .. });
    match gone.as_slice() {
        [] if lost && devices.workers() > 1 && token().is_some() => anyhow::Error::new(err)
            .context(format!(
                "the workers answer but stopped serving: with {TOKEN_VAR} set, each `pretext serve` lets other workers fetch tensors only if its --peers names them (see the workers' warnings)"
            )),
        [] => err.into(),
        gone => anyhow::Error::new(err).context(format!("{} no longer answers", gone.join(", "))),
    }
}

/// What a run records about where it ran.
pub fn run_info(devices: &Devices) -> RunInfo {
    RunInfo {
        backend: devices.name.clone(),
        git_revision: git_revision(),
    }
}

/// The run's losses and speed, and where its outputs are.
fn print_summary(summary: &Summary, devices: &Devices) {
    let dir = summary.run_dir.display();
    println!(
        "finished {} epoch{}: train loss {:.4} -> {:.4}{}, {:.0} {} on {}",
        summary.epochs,
        if summary.epochs == 1 { "" } else { "s" },
        summary.first_train_loss,
        summary.last_train_loss,
        summary
            .last_val_loss
            .map(|v| format!(", validation loss {v:.4}"))
            .unwrap_or_default(),
        summary.samples_per_sec,
        summary.modality.rate_unit(),
        devices.name
    );
    println!("outputs in {dir}/: config.toml, metrics.jsonl, run.json, checkpoint/");
}

/// The current git revision, if the working directory is in a repository.
fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
