//! `pretext export <run> [--format safetensors] [--out DIR]`: the encoder
//! alone, for other programs (PyTorch names and layouts).
use std::path::PathBuf;

use anyhow::Result;
use pretext::{Encoder, export_safetensors};

use crate::backend::Compute;

/// Export formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `encoder.safetensors` (PyTorch names and layouts) and `config.json`.
    Safetensors,
}

/// Arguments of `pretext export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/quickstart`).
    pub run: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: Format,
    /// The directory to write into (default `<run>/export`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let device = args.compute.device()?;
    let encoder = Encoder::load(&args.run, &device)?;
    let out = args.out.unwrap_or_else(|| args.run.join("export"));
    let Format::Safetensors = args.format;
    let config = export_safetensors(&encoder, &out)?;
    println!(
        "exported {} tensors ({}-dimensional embeddings, input {}x{}x{}) to {}/: encoder.safetensors, config.json",
        config.tensors.len(),
        config.embedding_dim,
        config.input.shape.channels,
        config.input.shape.height,
        config.input.shape.width,
        out.display()
    );
    Ok(())
}
