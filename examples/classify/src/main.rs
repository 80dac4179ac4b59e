//! Import a pretrained encoder from a run and classify new images with a
//! saved head: what a program using pretext as a library does.
//!
//! ```sh
//! cargo run -p pretext-example-classify -- runs/quickstart
//! cargo run -p pretext-example-classify            # pretrains a small run first (~1 minute)
//! ```
//!
//! 1. Load the encoder (`pretext::Encoder::load`): weights and preprocessing.
//! 2. Fit a linear head on 10 labelled MNIST images per class, save it as JSON.
//! 3. Later, load the head and classify new images given as PNG files.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use pretext::Encoder;
use pretext::data::{DatasetConfig, LabelBudget, draw_labels};
use pretext::eval::features::{Features, accuracy};
use pretext::eval::linear::{LinearModel, LinearProbeConfig, fit_linear};

/// The bundled MNIST, from this crate's folder.
fn mnist(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/mnist")
        .join(file)
}

fn main() -> Result<()> {
    let device = Device::flex();
    let scratch = tempfile::tempdir()?;
    let run = match std::env::args().nth(1) {
        Some(run) => PathBuf::from(run),
        None => small_run(scratch.path(), &device)?,
    };

    // 1. The encoder, with the preprocessing it was trained with.
    let encoder = Encoder::load(&run, &device)?;
    println!(
        "encoder from {}: {}-dimensional embeddings",
        run.display(),
        encoder.dim()
    );

    // 2. A head from 10 labels per class, saved for later.
    let pool = DatasetConfig::Idx {
        images: mnist("train-images-idx3-ubyte.gz"),
        labels: Some(mnist("train-labels-idx1-ubyte.gz")),
        limit: Some(5000),
    }
    .load(Path::new("."))?;
    let labels = pool.labels().context("MNIST has labels")?;
    let split = draw_labels(labels, 10, LabelBudget::PerClass(10), 0)?;
    let features = |indices: &[usize]| -> Result<Features> {
        let rows = encoder.embed_dataset(&pool.subset(indices))?;
        Ok(Features::new(rows.len(), encoder.dim(), rows.concat()))
    };
    let pick = |indices: &[usize]| indices.iter().map(|&i| labels[i]).collect::<Vec<u32>>();
    let fit = fit_linear(
        &features(&split.train)?,
        &pick(&split.train),
        &features(&split.val)?,
        &pick(&split.val),
        10,
        &LinearProbeConfig::default(),
    );
    let head_path = scratch.path().join("head.json");
    std::fs::write(&head_path, serde_json::to_string(&fit.model)?)?;
    println!(
        "head fitted on {} labels (validation accuracy {:.1}%), saved to {}",
        split.train.len(),
        100.0 * fit.choice.val_accuracy,
        head_path.display()
    );

    // 3. New images as files: the first 200 of MNIST's test set, as PNGs.
    let test = DatasetConfig::Idx {
        images: mnist("t10k-images-idx3-ubyte.gz"),
        labels: Some(mnist("t10k-labels-idx1-ubyte.gz")),
        limit: Some(200),
    }
    .load(Path::new("."))?;
    let mut files = Vec::new();
    for i in 0..test.len() {
        let path = scratch.path().join(format!("new-{i}.png"));
        image::GrayImage::from_raw(28, 28, test.image(i).to_vec())
            .context("a 28x28 image")?
            .save(&path)?;
        files.push(path);
    }
    let head: LinearModel = serde_json::from_str(&std::fs::read_to_string(&head_path)?)?;
    let rows = encoder.embed_paths(&files)?;
    let predicted = head.predict(&Features::new(rows.len(), encoder.dim(), rows.concat()));
    let truth = test.labels().context("the test set has labels")?;
    println!(
        "classified {} new images: {:?} ... ({:.1}% correct)",
        files.len(),
        &predicted[..10],
        100.0 * accuracy(&predicted, truth)
    );
    Ok(())
}

/// Pretrains a small SimCLR encoder (2,000 MNIST images, 2 epochs) into `out`.
fn small_run(out: &Path, device: &Device) -> Result<PathBuf> {
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let config = pretext::train::ExperimentConfig::load(
        &experiments.join("quickstart.toml"),
        &["data.limit=2000".into(), "train.epochs=2".into()],
    )?;
    let info = pretext::train::RunInfo {
        backend: "flex".into(),
        git_revision: None,
    };
    println!("no run given: pretraining a small one (SimCLR, 2,000 images, 2 epochs)");
    let summary = pretext::train::pretrain(
        &config,
        out,
        &info,
        std::slice::from_ref(device),
        &mut pretext::train::NoObserver,
    )?;
    Ok(summary.run_dir)
}
