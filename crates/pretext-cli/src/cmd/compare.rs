//! `pretext compare <run>...`: one table of evaluation results across runs,
//! with a row group for every task each run was evaluated on.
use std::path::PathBuf;

use anyhow::{Result, bail};
use pretext::eval::{EvalResults, compare_table, results_files};

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
        let files = results_files(run);
        if files.is_empty() {
            bail!(
                "{}: no evaluation results yet (run `pretext evaluate {}`)",
                run.display(),
                run.display()
            );
        }
        let name = run
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run.display().to_string());
        // Every task the run was evaluated on, each its own rows.
        for path in files {
            let results = EvalResults::load(&path)?;
            all.push((format!("{name} ({})", results.task), results));
        }
    }
    print!("{}", compare_table(&all));
    Ok(())
}
