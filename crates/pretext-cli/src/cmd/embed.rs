//! `pretext embed <run> <data> [--out embeddings.npy]`: every image's
//! embedding as a NumPy array, and the labels beside it where there are any.
use std::path::PathBuf;

use anyhow::Result;
use pretext::Encoder;
use pretext::data::DatasetConfig;
use pretext::npy::{write_f32_matrix, write_i64_vector};

use crate::backend::Compute;

/// Arguments of `pretext embed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/quickstart`).
    pub run: PathBuf,
    /// The images: an IDX images file (its labels file is found beside it),
    /// a CIFAR `.bin` batch, a digits `.csv[.gz]`, or a folder of PNG/JPEG
    /// images (one subfolder per class, or none).
    pub data: PathBuf,
    /// The embeddings file; labels go to `labels.npy` beside it.
    #[arg(long, default_value = "embeddings.npy")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let data = DatasetConfig::from_path(&args.data)?.load(std::path::Path::new("."))?;
    let device = args.compute.device()?;
    let encoder = Encoder::load(&args.run, &device)?;
    let embeddings = encoder.embed_dataset(&data)?;
    write_f32_matrix(&args.out, &embeddings)?;
    print!(
        "{} embeddings of dimension {} in {}",
        embeddings.len(),
        encoder.dim(),
        args.out.display()
    );
    if let Some(labels) = data.labels() {
        let path = args.out.with_file_name("labels.npy");
        let labels: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        write_i64_vector(&path, &labels)?;
        print!(", labels in {}", path.display());
    }
    println!();
    Ok(())
}
