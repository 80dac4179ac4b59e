//! `pretext compare <run>...`: one table of evaluation results across runs.
use std::path::PathBuf;

use anyhow::{Result, bail};
use pretext::eval::{EvalResults, compare_table};

/// Arguments of `pretext compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Evaluated run directories.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let mut all = Vec::new();
    for run in &args.runs {
        let path = run.join("eval/results.json");
        if !path.is_file() {
            bail!(
                "{}: no evaluation results yet (run `pretext evaluate {}`)",
                run.display(),
                run.display()
            );
        }
        let results = EvalResults::load(&path)?;
        let name = run
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run.display().to_string());
        all.push((format!("{name} ({})", results.task), results));
    }
    print!("{}", compare_table(&all));
    Ok(())
}
