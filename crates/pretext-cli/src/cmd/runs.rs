//! `pretext runs [--out DIR]`: one line per run.
use std::path::PathBuf;

use anyhow::Result;
use pretext::train::RunDir;

/// Arguments of `pretext runs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory that holds run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    if !args.out.is_dir() {
        println!("no runs yet in {}/", args.out.display());
        return Ok(());
    }
    let runs = RunDir::list(&args.out)?;
    if runs.is_empty() {
        println!("no runs yet in {}/", args.out.display());
        return Ok(());
    }
    println!(
        "{:<28} {:<9} {:<22} {:>7} {:>9} {:<8} checkpoint",
        "run", "state", "method", "epochs", "val loss", "backend"
    );
    for (run, status) in runs {
        let ckpt = if run.checkpoint_dir().join("model.bpk").is_file() {
            "yes"
        } else {
            "no"
        };
        match status {
            Ok(s) => println!(
                "{:<28} {:<9} {:<22} {:>7} {:>9} {:<8} {}",
                s.name,
                s.state,
                s.method,
                format!("{}/{}", s.epochs_done, s.epochs),
                s.last_val_loss
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or("-".into()),
                s.info.backend,
                ckpt
            ),
            Err(e) => println!("{:<28} unreadable: {e}", run.name()),
        }
    }
    Ok(())
}
