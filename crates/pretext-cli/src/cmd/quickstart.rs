//! `pretext quickstart`: SimCLR on the bundled MNIST, a few minutes on two cores.
use std::path::{Path, PathBuf};

use anyhow::Result;
use pretext::train::ExperimentConfig;

use crate::backend::Backend;

/// The embedded default experiment (the same text as `experiments/quickstart.toml`).
const QUICKSTART: &str = include_str!("../../../../experiments/quickstart.toml");

/// Arguments of `pretext quickstart`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to compute.
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
    /// Override a setting, e.g. `--set train.epochs=1` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// The directory that holds run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    // Relative data paths resolve against the experiments folder of the source
    // tree this binary was built from, where the bundled MNIST lives.
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let config = ExperimentConfig::from_toml(
        QUICKSTART,
        &experiments.join("quickstart.toml"),
        &args.overrides,
    )?;
    println!(
        "quickstart: SimCLR, small CNN, unlabelled MNIST ({}), backend {}",
        match &config.data {
            pretext::data::DatasetConfig::Idx { limit: Some(n), .. } => format!("{n} images"),
            _ => "all images".into(),
        },
        args.backend.name()
    );
    super::pretrain::train(&config, args.backend, &args.out)?;
    Ok(())
}
