//! `pretext quickstart`: SimCLR on the bundled MNIST, then a few-label
//! evaluation against baselines; a few minutes on two cores.
use std::path::Path;

use anyhow::Result;
use pretext::eval::TaskConfig;
use pretext::train::ExperimentConfig;

use super::pretrain::RunArgs;

/// The embedded default experiment (the same text as `experiments/quickstart.toml`).
const QUICKSTART: &str = include_str!("../../../../experiments/quickstart.toml");

/// Arguments of `pretext quickstart`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(args: Args) -> Result<()> {
    // Relative data paths resolve against the experiments folder of the source
    // tree this binary was built from, where the bundled MNIST lives.
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let experiments = std::fs::canonicalize(&experiments).unwrap_or(experiments);
    let config = ExperimentConfig::from_toml(
        QUICKSTART,
        &experiments.join("quickstart.toml"),
        &args.run.overrides,
    )?;
    println!(
        "quickstart: SimCLR, small CNN, unlabelled MNIST ({}), backend {}",
        match &config.data {
            pretext::data::DatasetConfig::Idx { limit: Some(n), .. } => format!("{n} images"),
            _ => "all images".into(),
        },
        args.run.compute.name()
    );
    // One device for pretraining, evaluation and the report.
    let opened = args.run.compute.open()?;
    let summary = super::pretrain::train(&config, &opened, &args.run.out)?;
    // Then the promise, tested: the frozen encoder with few labels, against
    // raw pixels and a random encoder on the same labels.
    if let Some(task_path) = &config.task {
        println!("\nevaluating with few labels ({})", task_path.display());
        let task = TaskConfig::load(task_path, &[])?;
        super::evaluate::evaluate_and_print(&summary.run_dir, &task, &opened.device)?;
    }
    println!();
    super::report::write(&summary.run_dir, &opened.device)?;
    Ok(())
}
