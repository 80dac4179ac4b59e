//! `pretext evaluate <run> [--task task.toml] [--backend ..] [--set key=value].. [--dry-run]`
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use pretext::eval::{
    EvalResults, TaskConfig, TextTaskConfig, evaluate, evaluate_text, plan_evaluation,
};
use pretext::train::Experiment;

use crate::backend::Compute;

/// Arguments of `pretext evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/quickstart`).
    pub run: PathBuf,
    /// The evaluation task; the run's own `task` when absent.
    #[arg(long)]
    pub task: Option<PathBuf>,
    #[command(flatten)]
    pub compute: Compute,
    /// Override a task setting, e.g. `--set seeds=1` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Read and check the run, the task and every label draw, print what
    /// the evaluation would run and an estimate of its cost, and stop
    /// without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> Result<()> {
    let task_path = match args.task {
        Some(t) => t,
        None => run_task(&args.run)?,
    };
    if is_text_run(&args.run)? {
        let task = TextTaskConfig::load(&task_path, &args.overrides)?;
        if args.dry_run {
            bail!(
                "{}: --dry-run estimates image tasks; a text task is not estimated yet",
                args.run.display()
            );
        }
        let device = args.compute.open()?.device;
        let results = evaluate_text(&args.run, &task, &device, &mut |line| eprintln!("  {line}"))?;
        println!("\n{}", results.markdown());
        println!(
            "results in {}/eval/{}/: results.json, results.md, splits/ (the label draws)",
            args.run.display(),
            task.name
        );
        return Ok(());
    }
    let task = TaskConfig::load(&task_path, &args.overrides)?;
    if args.dry_run {
        let device = args.compute.open()?.device;
        let estimate =
            plan_evaluation(&args.run, &task, &device, &mut |line| eprintln!("  {line}"))?;
        for line in estimate.lines() {
            println!("{line}");
        }
        println!("dry run: nothing was written");
        return Ok(());
    }
    let device = args.compute.open()?.device;
    evaluate_and_print(&args.run, &task, &device)?;
    super::report::write(&args.run, &device)?;
    Ok(())
}

/// The run's experiment, read from its `config.toml`.
fn run_experiment(run: &Path) -> Result<Experiment> {
    let config_path = run.join("config.toml");
    if !config_path.is_file() {
        bail!("{}: not a run directory (no config.toml)", run.display());
    }
    Ok(Experiment::load(&config_path, &[])?)
}

/// Whether the run at `run` pretrained a text encoder.
fn is_text_run(run: &Path) -> Result<bool> {
    Ok(matches!(run_experiment(run)?, Experiment::Text(_)))
}

/// The task the run's experiment names.
fn run_task(run: &Path) -> Result<PathBuf> {
    let config = run_experiment(run)?;
    config.task().map(Path::to_path_buf).with_context(|| {
        format!(
            "{}: the run's experiment names no evaluation task; pass --task FILE (e.g. experiments/tasks/mnist.toml)",
            run.display()
        )
    })
}

/// Evaluates, streaming one line per head to stderr, then prints the table.
pub fn evaluate_and_print(run: &Path, task: &TaskConfig, device: &Device) -> Result<EvalResults> {
    let results = evaluate(run, task, device, &mut |line| eprintln!("  {line}"))?;
    println!("\n{}", results.markdown());
    println!(
        "results in {}/eval/{}/: results.json, results.md, splits/ (the label draws)",
        run.display(),
        task.name
    );
    Ok(results)
}
