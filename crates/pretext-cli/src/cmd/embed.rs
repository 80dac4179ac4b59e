//! `pretext embed <run> <data> [--out embeddings.npy]`: every image's (or,
//! for a text run, every text's) embedding as a NumPy array, and the labels
//! beside it where there are any.
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pretext::data::text::TextDataConfig;
use pretext::data::{DatasetConfig, Modality, TextEncoding};
use pretext::npy::{write_f32_matrix, write_i64_vector};
use pretext::train::RunDir;
use pretext::{Encoder, TextEncoder};

use crate::backend::Compute;

/// Arguments of `pretext embed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/quickstart`).
    pub run: PathBuf,
    /// The images: an IDX images file (its labels file is found beside it),
    /// a CIFAR `.bin` batch, a digits `.csv[.gz]`, or a folder of PNG/JPEG
    /// images (one subfolder per class, or none). For a text run: a file of
    /// one text per line, a `.tsv`/`.csv` table (with `--text-column`), a
    /// file of `LABEL TEXT` lines (`--labelled`), or a folder with one
    /// subfolder of `.txt` files per class.
    pub data: PathBuf,
    /// Text runs, tables: the column holding the text.
    #[arg(long)]
    pub text_column: Option<String>,
    /// Text runs, tables: the column holding the label.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Text runs: each line is `LABEL TEXT` (the label before the first
    /// space or tab).
    #[arg(long)]
    pub labelled: bool,
    /// Text runs: read the text as Latin-1 (Windows-1252) instead of UTF-8.
    #[arg(long)]
    pub latin1: bool,
    /// The embeddings file.
    #[arg(long, default_value = "embeddings.npy")]
    pub out: PathBuf,
    /// The labels file, when the data has labels (default `labels.npy`
    /// beside `--out`); it may not be `--out` itself.
    #[arg(long)]
    pub labels_out: Option<PathBuf>,
    /// Refuse a run whose latest checkpoint is damaged, rather than embed
    /// with the one before it and a warning.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let labels_out = labels_path(&args)?;
    let run = RunDir::open(&args.run)?;
    let device = args.compute.open()?.device;
    let (embeddings, labels, dim) = match run.modality()? {
        Modality::Image => {
            if args.text_column.is_some()
                || args.label_column.is_some()
                || args.labelled
                || args.latin1
            {
                bail!(
                    "{}: an image run; --text-column, --label-column, --labelled and --latin1 are for text runs",
                    args.run.display()
                );
            }
            let encoder = match args.strict {
                true => Encoder::load_strict(&args.run, &device)?,
                false => Encoder::load(&args.run, &device)?,
            };
            let mut config = DatasetConfig::from_path(&args.data)?;
            // A folder is read at the run's input size and channels, resized
            // as the run's own folders were: images of mixed sizes embed.
            if let DatasetConfig::ImageFolder { channels, size, .. } = &mut config {
                let shape = encoder.input().shape;
                *channels = Some(shape.channels);
                *size = Some([shape.height as u32, shape.width as u32]);
            }
            let data = config.load(Path::new("."))?;
            if let Some(note) = data.reading_note() {
                eprintln!("{note}");
            }
            let embeddings = encoder.embed_dataset(&data)?;
            (
                embeddings,
                data.labels().map(<[u32]>::to_vec),
                encoder.dim(),
            )
        }
        Modality::Text => {
            let data = text_data(&args)?.load(Path::new("")).map_err(|e| {
                let message = e.to_string();
                match message.contains("invalid UTF-8") {
                    true => anyhow::anyhow!("{message}; here, pass --latin1"),
                    false => e.into(),
                }
            })?;
            let encoder = match args.strict {
                true => TextEncoder::load_strict(&args.run, &device)?,
                false => TextEncoder::load(&args.run, &device)?,
            };
            let embeddings = encoder.embed_texts(data.docs());
            (
                embeddings,
                data.labels().map(<[u32]>::to_vec),
                encoder.dim(),
            )
        }
    };
    write_f32_matrix(&args.out, &embeddings)?;
    print!(
        "{} embeddings of dimension {dim} in {}",
        embeddings.len(),
        args.out.display()
    );
    if let Some(labels) = labels {
        let labels: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        write_i64_vector(&labels_out, &labels)?;
        print!(", labels in {}", labels_out.display());
    }
    println!();
    Ok(())
}

/// Where the labels go: `--labels-out`, else `labels.npy` beside `--out`;
/// never the embeddings file itself, and both in folders that exist.
fn labels_path(args: &Args) -> Result<PathBuf> {
    let path = args
        .labels_out
        .clone()
        .unwrap_or_else(|| args.out.with_file_name("labels.npy"));
    let same = |a: &Path, b: &Path| {
        let full = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        full(a) == full(b)
    };
    if same(&path, &args.out) {
        bail!(
            "--out {}: the labels would overwrite the embeddings there; pass --labels-out <file> (default labels.npy beside --out)",
            args.out.display()
        );
    }
    // Checked before any work, so a bad folder never leaves the embeddings
    // written without their labels.
    for (flag, file) in [("--out", &args.out), ("--labels-out", &path)] {
        let folder = file.parent().filter(|f| !f.as_os_str().is_empty());
        if let Some(folder) = folder
            && !folder.is_dir()
        {
            bail!(
                "{flag} {}: the folder {} does not exist",
                file.display(),
                folder.display()
            );
        }
    }
    Ok(path)
}

/// The text data `args` name: a folder of class folders, a table, `LABEL
/// TEXT` lines or plain lines.
fn text_data(args: &Args) -> Result<TextDataConfig> {
    let path = args.data.clone();
    let encoding = if args.latin1 {
        TextEncoding::Latin1
    } else {
        TextEncoding::Utf8
    };
    let name = path.to_string_lossy().to_lowercase();
    let table = [".tsv", ".csv", ".tsv.gz", ".csv.gz"]
        .iter()
        .any(|e| name.ends_with(e));
    Ok(if path.is_dir() {
        TextDataConfig::TextFolder {
            root: path,
            exclude: Vec::new(),
            limit: None,
            encoding,
        }
    } else if table {
        let Some(text_column) = args.text_column.clone() else {
            bail!(
                "{}: a table needs --text-column <name> (and --label-column <name> if it is labelled)",
                path.display()
            );
        };
        TextDataConfig::Table {
            path,
            text_column: text_column.into(),
            label_column: args.label_column.clone().map(Into::into),
            header: true,
            delimiter: None,
            limit: None,
            encoding,
        }
    } else if args.labelled {
        TextDataConfig::LabelText {
            path,
            limit: None,
            encoding,
        }
    } else {
        TextDataConfig::Lines {
            path,
            limit: None,
            encoding,
        }
    })
}
