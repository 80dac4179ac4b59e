//! `pretext report <run> [--backend ..]`: the run's figures (PNG and SVG in
//! `<run>/figures/`) and `<run>/report.html`. Also written at the end of
//! `pretrain`, `evaluate` and `quickstart`.
use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Device;
use pretext::data::Modality;
use pretext::eval::{
    EvaluatedRun, InspectConfig, Inspection, TaskConfig, TextInspection, TextRun, TextTaskConfig,
    inspect, inspect_text,
};
use pretext::report::{Report, ReportInputs, write_report};

use crate::backend::Compute;

/// Arguments of `pretext report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/quickstart`).
    pub run: PathBuf,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    write(&args.run, &args.compute.open()?.device)?;
    Ok(())
}

/// Writes the report of the run at `run`, saying where it is and what it
/// could not show.
pub fn write(run: &Path, device: &Device) -> Result<Report> {
    let mut inputs = ReportInputs::read(run)?;
    let inspected = match inputs.modality {
        Modality::Image => {
            inspect_encoder(run, &inputs, device).map(|i| inputs.inspection = Some(i))
        }
        Modality::Text => {
            inspect_text_encoder(run, &inputs, device).map(|i| inputs.text_inspection = Some(i))
        }
    };
    if let Err(e) = inspected {
        inputs
            .notes
            .push(format!("cannot inspect the encoder: {e:#}"));
    }
    let report = write_report(&inputs)?;
    for note in &report.notes {
        eprintln!("  note: {note}");
    }
    println!(
        "report: {} ({} figures, PNG and SVG, in {}/figures/)",
        report.html.display(),
        report.figures.len(),
        run.display()
    );
    Ok(report)
}

/// The task file an inspection samples from, with the `--set` overrides to
/// read it with: the first task the run was evaluated on, as it was scored,
/// else the task its experiment names (`own`), else none (the run's own
/// data). The same for image and text runs.
fn inspected_task(inputs: &ReportInputs, own: Option<&PathBuf>) -> Option<(PathBuf, Vec<String>)> {
    match inputs.evals.first() {
        Some(results) => Some((
            PathBuf::from(&results.task_file),
            results.task_overrides.clone(),
        )),
        None => own.map(|path| (path.clone(), Vec::new())),
    }
}

/// Samples the test set of [`inspected_task`] (else the run's own
/// pretraining data) through the encoder.
fn inspect_encoder(run: &Path, inputs: &ReportInputs, device: &Device) -> Result<Inspection> {
    let evaluated = EvaluatedRun::open(run)?;
    let task = inspected_task(inputs, evaluated.config.task.as_ref())
        .map(|(path, overrides)| TaskConfig::load(&path, &overrides))
        .transpose()?;
    Ok(inspect(
        &evaluated,
        task.as_ref(),
        &InspectConfig::default(),
        device,
    )?)
}

/// Samples the test set of [`inspected_task`] (else the run's own corpus)
/// through the text encoder.
fn inspect_text_encoder(
    run: &Path,
    inputs: &ReportInputs,
    device: &Device,
) -> Result<TextInspection> {
    let evaluated = TextRun::open(run)?;
    let task = inspected_task(inputs, evaluated.config.task.as_ref())
        .map(|(path, overrides)| TextTaskConfig::load(&path, &overrides))
        .transpose()?;
    let samples = InspectConfig::default().samples;
    Ok(inspect_text(&evaluated, task.as_ref(), samples, device)?)
}
