//! `pretext pretrain <experiment.toml> [--backend ..] [--set key=value].. [--out DIR]`
//! and `pretext pretrain --resume runs/<name>`.
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pretext::train::{
    Experiment, ExperimentConfig, RunInfo, Summary, pretrain, pretrain_text, resume,
};

use crate::backend::Compute;
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
    let summary = match (&args.resume, &args.experiment) {
        (Some(run), _) => {
            if !args.run.overrides.is_empty() {
                bail!(
                    "{}: --set cannot change a resumed run (it continues with its own config.toml)",
                    run.display()
                );
            }
            let device = args.run.compute.device()?;
            let mut progress = Progress::new();
            let summary = resume(run, &run_info(args.run.compute), &device, &mut progress)?;
            drop(progress);
            print_summary(&summary, args.run.compute);
            summary
        }
        (None, Some(experiment)) => match Experiment::load(experiment, &args.run.overrides)? {
            Experiment::Image(config) => train(&config, args.run.compute, &args.run.out)?,
            Experiment::Text(config) => {
                let compute = args.run.compute;
                let device = compute.device()?;
                let mut progress = Progress::new();
                let summary = pretrain_text(
                    &config,
                    &args.run.out,
                    &run_info(compute),
                    &device,
                    &mut progress,
                )?;
                drop(progress);
                print_summary(&summary, compute);
                summary
            }
        },
        (None, None) => unreachable!("clap requires an experiment or --resume"),
    };
    super::report::write(&summary.run_dir, args.run.compute)?;
    Ok(())
}

/// Runs `config` on `backend` with a progress bar and prints where the outputs are.
pub fn train(config: &ExperimentConfig, compute: Compute, out: &Path) -> Result<Summary> {
    let device = compute.device()?;
    let mut progress = Progress::new();
    let summary = pretrain(config, out, &run_info(compute), &device, &mut progress)?;
    drop(progress);
    print_summary(&summary, compute);
    Ok(summary)
}

/// What a run records about where it ran.
pub fn run_info(compute: Compute) -> RunInfo {
    RunInfo {
        backend: compute.name().into(),
        git_revision: git_revision(),
    }
}

/// The run's losses and speed, and where its outputs are.
fn print_summary(summary: &Summary, compute: Compute) {
    let dir = summary.run_dir.display();
    println!(
        "finished {} epochs: train loss {:.4} -> {:.4}{}, {:.0} {} on {}",
        summary.epochs,
        summary.first_train_loss,
        summary.last_train_loss,
        summary
            .last_val_loss
            .map(|v| format!(", validation loss {v:.4}"))
            .unwrap_or_default(),
        summary.images_per_sec,
        summary.modality.rate_unit(),
        compute.name()
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
