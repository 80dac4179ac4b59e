//! Writing a run's report: every figure that applies to the run, as PNG and
//! SVG under `<run>/figures/`, and `<run>/report.html` with all of them
//! inlined. Figures are drawn into `figures.partial/` and swapped in at the
//! end, and the page is written atomically, so an interrupted report never
//! leaves a half-written one behind.
use std::path::{Path, PathBuf};

use pretext_data::Modality;
use pretext_runs::{Features, Inspection, ResultRow, Source, TextInspection, write_atomic};

use crate::figure::{
    Cell, Collapse, Confusion, EmbeddingMap, Figure, HeadCurves, ImageGrid, LabelEfficiency,
    Monitor, Rendered, Training, render,
};
use crate::html::{PageFigure, TextNeighbours, page};
use crate::neighbours::{nearest, queries};
use crate::projection::{TsneConfig, pca_2d, tsne_2d};
use crate::{ReportError, ReportInputs};

/// Neighbours shown per query.
const NEIGHBOURS: usize = 8;
/// Most queries in the neighbour grid.
const QUERIES: usize = 10;

const LABEL_EFFICIENCY_CAPTION: &str = "Test accuracy against labels per class (log scale), one panel per head, mean with ± one standard deviation over seeds. Blue: the pretrained encoder; orange: raw pixels; green: TF-IDF; purple: k-means features; red: a randomly initialised encoder (fine-tuned, that is supervised training from scratch), all on the same labels. The gap at few labels is what pretraining buys.";

const HEAD_CURVES_CAPTION: &str = "Validation accuracy per epoch (per L-BFGS iteration for the linear probe) on the first seed of each label budget. The ring marks the epoch whose weights were kept: after it validation stopped improving, where overfitting begins.";

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `<run>/report.html`.
    pub html: PathBuf,
    /// The figures, in page order.
    pub figures: Vec<Rendered>,
    /// What is missing from the report, one line each.
    pub notes: Vec<String>,
}

/// Collects figures while staging them.
struct Figures {
    dir: PathBuf,
    rendered: Vec<Rendered>,
    page: Vec<PageFigure>,
}

impl Figures {
    fn add(&mut self, figure: &impl Figure, title: &str, caption: &str) -> Result<(), ReportError> {
        self.add_as(figure, "", title, caption)
    }

    /// Adds `figure` with `suffix` after its file stem, so one kind of
    /// figure can appear once per task.
    fn add_as(
        &mut self,
        figure: &impl Figure,
        suffix: &str,
        title: &str,
        caption: &str,
    ) -> Result<(), ReportError> {
        let rendered = render(figure, &format!("{}{suffix}", figure.name()), &self.dir)?;
        let png = std::fs::read(&rendered.png).map_err(|e| ReportError::io(&rendered.png, e))?;
        self.page.push(PageFigure {
            name: rendered.name.clone(),
            title: title.into(),
            caption: caption.into(),
            png,
        });
        self.rendered.push(rendered);
        Ok(())
    }
}

/// Draws every figure that applies to the run and writes `report.html`.
pub fn write_report(inputs: &ReportInputs) -> Result<Report, ReportError> {
    let final_dir = inputs.dir.join("figures");
    let staging = inputs.dir.join("figures.partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ReportError::io(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| ReportError::io(&staging, e))?;
    let mut notes = inputs.notes.clone();
    let mut figures = Figures {
        dir: staging.clone(),
        rendered: Vec::new(),
        page: Vec::new(),
    };

    match Training::from_log(&inputs.log) {
        Some(f) => figures.add(
            &f,
            "Pretraining loss and learning rate",
            &format!("Grey: the loss of each logged step; blue: its moving average; dots: the mean over each epoch on the training data and the loss on the held-out validation {}. A validation loss that rises while the training loss falls is overfitting. Below: the learning-rate schedule.", inputs.modality.samples()),
        )?,
        None => notes.push("no loss curves: the metrics log has no usable step or epoch lines".into()),
    }
    if let Some(f) = Collapse::from_log(&inputs.log) {
        figures.add(
            &f,
            "Collapse signals",
            "Left: standard deviation of the L2-normalised validation embeddings per dimension, times √dim. Near 1 the embeddings spread over the sphere; a fall towards 0 means they collapse to one point and carry no information. Right: their effective rank (RankMe), the number of directions they use; a fall towards 1 means they collapse onto a line. Training warns when either falls under its floor (0.1 and 2).",
        )?;
    }
    if let Some(f) = Monitor::from_log(&inputs.log) {
        figures.add(
            &f,
            "Accuracy during pretraining",
            "The monitor's kNN accuracy on its labelled slice of the validation split (never trained on), scored with the frozen encoder after each monitored epoch: each slice image is classified by its k most similar other slice images (cosine similarity, votes weighted exp(similarity / monitor.temperature), 0.07 by default). Left against epochs; right against wall-clock minutes of training, validation and monitor included: time to accuracy.",
        )?;
    }
    let several = inputs.evals.len() > 1;
    for results in &inputs.evals {
        // With several tasks (text runs), each task's figures get its name.
        let (stem, of) = if several {
            (format!("-{}", results.task), format!(" ({})", results.task))
        } else {
            (String::new(), String::new())
        };
        if let Some(f) = LabelEfficiency::from_results(results) {
            figures.add_as(
                &f,
                &stem,
                &format!("Label efficiency{of}"),
                LABEL_EFFICIENCY_CAPTION,
            )?;
        }
        if let Some(f) = HeadCurves::from_results(results) {
            figures.add_as(
                &f,
                &stem,
                &format!("Trained heads: validation accuracy{of}"),
                HEAD_CURVES_CAPTION,
            )?;
        }
        match best_row(&results.rows) {
            Some(row) => {
                let names = if results.class_names.is_empty() {
                    inputs
                        .inspection
                        .as_ref()
                        .map(|i| i.class_names.clone())
                        .unwrap_or_default()
                } else {
                    results.class_names.clone()
                };
                let title = format!(
                    "Confusion{of}: {}, {}, seed {} ({:.1}% test)",
                    row.label(),
                    row.budget,
                    row.seed,
                    100.0 * row.test_accuracy
                );
                figures.add_as(
                    &Confusion::new(title, row.confusion.clone(), &names),
                    &stem,
                    &format!("Confusion matrix of the best head{of}"),
                    &format!("Rows: true class; columns: predicted class; counts of test {}, shaded by their share of the row (mistakes five times stronger). Off-diagonal cells are the classes the features still mix up.", results.modality.samples()),
                )?;
            }
            None => notes.push(
                "no confusion matrix: the evaluation results predate it (re-run pretext evaluate)"
                    .into(),
            ),
        }
    }
    let mut neighbours = Vec::new();
    match (&inputs.inspection, &inputs.text_inspection) {
        (Some(inspection), _) => add_inspection(&mut figures, inspection)?,
        (None, Some(texts)) => {
            add_embedding_maps(
                &mut figures,
                &texts.embeddings,
                texts.labels.clone(),
                &texts.class_names,
                "texts",
                &texts.source,
            )?;
            neighbours = text_neighbours(texts);
        }
        (None, None) if inputs.modality == Modality::Text => notes.push(
            "no embedding map or neighbours: the encoder could not be inspected".into(),
        ),
        (None, None) => notes.push("no embedding map, neighbours or augmentation preview: the encoder could not be inspected".into()),
    }

    let html_path = inputs.dir.join("report.html");
    let html = page(inputs, &figures.page, &neighbours, &notes);
    // Swap the finished figures in, then write the page that describes them.
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(|e| ReportError::io(&final_dir, e))?;
    }
    std::fs::rename(&staging, &final_dir).map_err(|e| ReportError::io(&final_dir, e))?;
    write_atomic(&html_path, html.as_bytes())?;
    let figures = figures
        .rendered
        .into_iter()
        .map(|r| Rendered {
            png: final_dir.join(r.png.file_name().expect("figure files have names")),
            svg: final_dir.join(r.svg.file_name().expect("figure files have names")),
            name: r.name,
        })
        .collect();
    Ok(Report {
        html: html_path,
        figures,
        notes,
    })
}

/// The pretrained row with the best test accuracy that kept its confusion
/// matrix (first on ties).
fn best_row(rows: &[ResultRow]) -> Option<&ResultRow> {
    rows.iter()
        .filter(|r| r.source == Source::Pretrained && !r.confusion.is_empty())
        .fold(None, |best: Option<&ResultRow>, r| match best {
            Some(b) if b.test_accuracy >= r.test_accuracy => Some(b),
            _ => Some(r),
        })
}

/// The figures drawn from sampled images and their embeddings.
/// The PCA and t-SNE maps of a sample's embeddings, coloured by label;
/// `samples` names what was embedded (`images`, `texts`).
fn add_embedding_maps(
    figures: &mut Figures,
    e: &Features,
    labels: Option<Vec<u32>>,
    class_names: &[String],
    samples: &str,
    source: &Path,
) -> Result<(), ReportError> {
    figures.add(
        &EmbeddingMap::new(
            "embedding_pca",
            &format!("Embeddings, PCA ({} {samples})", e.rows),
            pca_2d(&e.data, e.dim),
            labels.clone(),
            class_names,
        ),
        "Embedding map (PCA)",
        &format!("The first two principal components of the embeddings of {} {samples} of {}, coloured by label. PCA keeps global distances: classes far apart here are far apart in embedding space.", e.rows, source.display()),
    )?;
    figures.add(
        &EmbeddingMap::new(
            "embedding_tsne",
            &format!("Embeddings, t-SNE ({} {samples})", e.rows),
            tsne_2d(&e.data, e.dim, &TsneConfig::default()),
            labels,
            class_names,
        ),
        "Embedding map (t-SNE)",
        "t-SNE (perplexity 30) of the same embeddings: it keeps neighbourhoods, not distances. Classes forming their own islands are what kNN and a linear probe can separate with few labels.",
    )
}

/// Each query text of the sample with its nearest neighbours.
fn text_neighbours(ins: &TextInspection) -> Vec<TextNeighbours> {
    let e = &ins.embeddings;
    let labels = ins.labels.as_deref();
    let qs = queries(labels, e.rows, QUERIES);
    let found = nearest(&e.data, e.dim, &qs, NEIGHBOURS);
    let label_of = |i: usize| labels.map(|l| l[i]);
    qs.iter()
        .zip(found)
        .map(|(&q, near)| TextNeighbours {
            query: ins.texts[q].clone(),
            label: label_of(q).map(|l| class_name(&ins.class_names, l)),
            near: near
                .into_iter()
                .map(|j| {
                    let same = match (label_of(q), label_of(j)) {
                        (Some(a), Some(b)) => Some(a == b),
                        _ => None,
                    };
                    (ins.texts[j].clone(), same)
                })
                .collect(),
        })
        .collect()
}

fn add_inspection(figures: &mut Figures, ins: &Inspection) -> Result<(), ReportError> {
    let e = &ins.embeddings;
    let labels = ins.labels.clone();
    add_embedding_maps(
        figures,
        e,
        labels.clone(),
        &ins.class_names,
        "images",
        &ins.source,
    )?;

    let qs = queries(labels.as_deref(), e.rows, QUERIES);
    let found = nearest(&e.data, e.dim, &qs, NEIGHBOURS);
    let rows: Vec<(String, Vec<Cell>)> = qs
        .iter()
        .zip(found)
        .map(|(&q, near)| {
            let label_of = |i: usize| labels.as_ref().map(|l| l[i]);
            let caption = match label_of(q) {
                Some(l) => format!("query: {}", class_name(&ins.class_names, l)),
                None => format!("query {q}"),
            };
            let mut cells = vec![Cell {
                image: ins.images[q].clone(),
                frame: Some(plotters::style::RGBColor(40, 40, 40)),
            }];
            cells.extend(near.into_iter().map(|j| Cell {
                image: ins.images[j].clone(),
                frame: match (label_of(q), label_of(j)) {
                    (Some(a), Some(b)) if a == b => Some(plotters::style::RGBColor(44, 160, 44)),
                    (Some(_), Some(_)) => Some(plotters::style::RGBColor(214, 39, 40)),
                    _ => None,
                },
            }));
            (caption, cells)
        })
        .collect();
    figures.add(
        &ImageGrid::new("neighbours", "Nearest neighbours in embedding space", rows),
        "Nearest neighbours",
        &format!("Each row: a query (dark frame) and its {NEIGHBOURS} most cosine-similar images among the sample, green when they share its label, red when not."),
    )?;

    if !ins.augmented.is_empty() {
        let rows = ins
            .augmented
            .iter()
            .map(|(original, views)| {
                let mut cells = vec![Cell {
                    image: original.clone(),
                    frame: Some(plotters::style::RGBColor(40, 40, 40)),
                }];
                cells.extend(views.iter().cloned().map(Cell::plain));
                ("image, views".to_string(), cells)
            })
            .collect();
        figures.add(
            &ImageGrid::new("augmentations", "Augmentation preview", rows),
            "Augmentation preview",
            "Each row: an image (dark frame) and random views drawn by the run's augmentations. Contrastive methods learn what the views of one image share; what the augmentations change is what the encoder learns to ignore.",
        )?;
    }
    if !ins.reconstructions.is_empty() {
        let (inputs, outputs): (Vec<Cell>, Vec<Cell>) = ins
            .reconstructions
            .iter()
            .map(|(i, o)| (Cell::plain(i.clone()), Cell::plain(o.clone())))
            .unzip();
        figures.add(
            &ImageGrid::new(
                "reconstructions",
                "Reconstructions",
                vec![("input".into(), inputs), ("reconstruction".into(), outputs)],
            ),
            "Reconstructions",
            "Test images over the autoencoder's reconstructions of them (clean inputs, no corruption).",
        )?;
    }
    Ok(())
}

fn class_name(names: &[String], class: u32) -> String {
    names
        .get(class as usize)
        .cloned()
        .unwrap_or_else(|| class.to_string())
}
