//! `pretext export <run> [--format safetensors] [--out DIR]`: the encoder
//! alone, for other programs (PyTorch names and layouts); a text run's with
//! its tokenizer.
use std::path::PathBuf;

use anyhow::Result;
use pretext::data::Modality;
use pretext::train::RunDir;
use pretext::{Encoder, TextEncoder, export_safetensors, export_text_safetensors};

use crate::backend::Compute;

/// Export formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `encoder.safetensors` (PyTorch names and layouts) and `config.json`;
    /// for a text run also its `tokenizer.json`.
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
    /// Refuse a run whose latest checkpoint is damaged, rather than export
    /// the one before it with a warning.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let modality = RunDir::open(&args.run)?.modality()?;
    let device = args.compute.open()?.device;
    let out = args.out.unwrap_or_else(|| args.run.join("export"));
    let Format::Safetensors = args.format;
    match modality {
        Modality::Image => {
            let encoder = match args.strict {
                true => Encoder::load_strict(&args.run, &device)?,
                false => Encoder::load(&args.run, &device)?,
            };
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
        }
        Modality::Text => {
            let encoder = match args.strict {
                true => TextEncoder::load_strict(&args.run, &device)?,
                false => TextEncoder::load(&args.run, &device)?,
            };
            let config = export_text_safetensors(&encoder, &out)?;
            println!(
                "exported {} tensors ({}-dimensional embeddings, {} token ids, texts cut to {} tokens) to {}/: encoder.safetensors, tokenizer.json, config.json",
                config.tensors.len(),
                config.embedding_dim,
                config.vocab_size,
                config.max_len,
                out.display()
            );
        }
    }
    Ok(())
}
