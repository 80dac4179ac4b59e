//! `pretext sweep <sweep.toml>`: pretrain every method of a sweep under
//! every seed, evaluate each run alike, then write one comparison table and
//! plot. Members already finished and evaluated are kept, interrupted ones
//! resumed, so running it again continues where it stopped.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pretext::eval::{EvalResults, MethodComparison, TaskConfig};
use pretext::report::render_method_comparison;
use pretext::train::{RunDir, SweepConfig, SweepMember, resume};

use crate::backend::{Compute, Devices, Opened};
use crate::progress::Progress;

/// Arguments of `pretext sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sweep file (e.g. `experiments/compare-mnist.toml`).
    pub sweep: PathBuf,
    #[command(flatten)]
    pub compute: Compute,
    /// The directory that holds run directories; the sweep's runs go in
    /// `<out>/<sweep name>/`.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let sweep = SweepConfig::load(&args.sweep)?;
    let members = sweep.members(&args.sweep)?;
    let dir = args.out.join(&sweep.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    // One device for every member's pretraining and evaluation.
    let opened = args.compute.open()?;
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let run = dir.join(&member.config.name);
        eprintln!(
            "[{}/{}] {} (seed {})",
            i + 1,
            members.len(),
            member.label,
            member.seed
        );
        match run_member(member, &run, &sweep.evaluate, &opened, &dir) {
            Ok(r) => results.push((member.label.clone(), r)),
            Err(e) => {
                eprintln!("  {}: {e:#}", run.display());
                failed.push(member.config.name.clone());
            }
        }
    }
    let comparison = MethodComparison::from_runs(&results);
    let seeds = sweep.seeds.len();
    // The task decides what the figures are: a validation task (a share of
    // the training set held out) chooses, a test task reports.
    let mut tasks: Vec<&str> = results.iter().map(|(_, r)| r.task.as_str()).collect();
    tasks.sort();
    tasks.dedup();
    let table = format!(
        "Accuracy (%) of the pretrained encoder on the scored set of task {}, mean ± std over {seeds} pretraining seed{}; sweep {} ({}).\n\n{}",
        tasks.join(", "),
        if seeds == 1 { "" } else { "s" },
        sweep.name,
        args.sweep.display(),
        comparison.markdown()
    );
    pretext::train::write_atomic(&dir.join("comparison.md"), table.as_bytes())?;
    let json = serde_json::to_string_pretty(&comparison)?;
    pretext::train::write_atomic(&dir.join("comparison.json"), json.as_bytes())?;
    let figure = render_method_comparison(
        &comparison,
        &format!(
            "{}: pretrained encoders, mean ± std over {seeds} seeds",
            sweep.name
        ),
        &dir,
    )?;
    println!("\n{table}");
    println!(
        "comparison in {}/: comparison.md, comparison.json, {} and .svg",
        dir.display(),
        figure
            .png
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    if !failed.is_empty() {
        bail!(
            "{} of {} runs failed ({}); the table leaves them out; run the sweep again to retry",
            failed.len(),
            members.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// Pretrains (or resumes, or keeps) one member, then evaluates it unless
/// it already was.
fn run_member(
    member: &SweepMember,
    run: &Path,
    evaluate: &[String],
    opened: &Opened,
    dir: &Path,
) -> Result<EvalResults> {
    let status = RunDir::open(run).ok().and_then(|r| r.status().ok());
    match status.as_ref().map(|s| s.state.as_str()) {
        Some("finished") => eprintln!("  pretrained already"),
        Some(_) => {
            eprintln!("  resuming");
            let devices = Devices::of(opened);
            let mut progress = Progress::new();
            resume(
                run,
                &super::pretrain::run_info(&devices),
                &devices.list,
                &mut progress,
            )?;
        }
        None => {
            super::pretrain::train(&member.config, opened, dir)?;
        }
    }
    let task_path = member
        .config
        .task
        .as_ref()
        .with_context(|| format!("{}: the base experiment names no task", run.display()))?;
    let task = TaskConfig::load(task_path, evaluate)?;
    let results = run.join("eval").join(&task.name).join("results.json");
    if results.is_file() {
        eprintln!("  evaluated already");
        return Ok(EvalResults::load(&results)?);
    }
    super::evaluate::evaluate_and_print(run, &task, &opened.device)
}
