//! `pretext pretrain <experiment.toml> [--backend ..] [--set key=value].. [--out DIR]`
use std::path::{Path, PathBuf};

use anyhow::Result;
use pretext::train::{ExperimentConfig, RunInfo, Summary, pretrain};

use crate::backend::Backend;
use crate::progress::Progress;

/// Arguments of `pretext pretrain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment file (TOML).
    pub experiment: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
}

/// How to run an experiment: shared by `pretrain` and `quickstart`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Where to compute.
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
    /// Override a setting, e.g. `--set train.epochs=3` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// The directory that holds run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let config = ExperimentConfig::load(&args.experiment, &args.run.overrides)?;
    let summary = train(&config, args.run.backend, &args.run.out)?;
    super::report::write(&summary.run_dir, args.run.backend)?;
    Ok(())
}

/// Runs `config` on `backend` with a progress bar and prints where the outputs are.
pub fn train(config: &ExperimentConfig, backend: Backend, out: &Path) -> Result<Summary> {
    let device = backend.device()?;
    let info = RunInfo {
        backend: backend.name().into(),
        git_revision: git_revision(),
    };
    let mut progress = Progress::new();
    let summary = pretrain(config, out, &info, &device, &mut progress)?;
    drop(progress);
    let dir = summary.run_dir.display();
    println!(
        "finished {} epochs: train loss {:.4} -> {:.4}{}, {:.0} img/s on {}",
        summary.epochs,
        summary.first_train_loss,
        summary.last_train_loss,
        summary
            .last_val_loss
            .map(|v| format!(", validation loss {v:.4}"))
            .unwrap_or_default(),
        summary.images_per_sec,
        backend.name()
    );
    println!("outputs in {dir}/: config.toml, metrics.jsonl, run.json, checkpoint/");
    Ok(summary)
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
