//! `neighbours`: mines each pretraining image's nearest neighbours under a
//! finished run's frozen encoder, the partners a later run pairs its views
//! with (`partners = "<run>/neighbours.bin"` in an experiment; see
//! [`pretext_data::Partners`]).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::Partners;
use pretext_nn::Readout;

use crate::EvalError;
use crate::embed::embed_images;
use crate::knn::neighbours_within;
use crate::run::EvaluatedRun;

/// What [`mine_neighbours`] found and wrote.
#[derive(Debug, Clone)]
pub struct MinedNeighbours {
    /// The table written.
    pub partners: Partners,
    /// Where it was written: `<run>/neighbours.bin`.
    pub path: PathBuf,
    /// The fraction of neighbours that share their image's label, when the
    /// run's data is labelled (labels are not used to mine).
    pub label_agreement: Option<f64>,
}

/// Embeds the images the run at `run` was pretrained on (its `data`, with
/// its limit) with the run's encoder on `device`, finds each image's `k`
/// nearest others by cosine similarity, and writes them to
/// `<run>/neighbours.bin`.
pub fn mine_neighbours(
    run: &Path,
    k: usize,
    device: &Device,
) -> Result<MinedNeighbours, EvalError> {
    let opened = EvaluatedRun::open(run)?;
    let data = Arc::new(opened.config.data.load(&opened.config.base_dir)?);
    if k == 0 || k >= data.len() {
        return Err(EvalError::Run {
            path: run.to_path_buf(),
            reason: format!(
                "k must be between 1 and {} (one less than its {} images), got {k}",
                data.len().saturating_sub(1),
                data.len()
            ),
        });
    }
    let encoder = opened.encoder(device)?;
    let features = embed_images(&encoder, &data, &opened.stats(), Readout::default(), device);
    let table = neighbours_within(&features, k);
    let label_agreement = data.labels().map(|labels| {
        let same = table
            .chunks_exact(k)
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .filter(|&&j| labels[j as usize] == labels[i])
                    .count()
            })
            .sum::<usize>();
        same as f64 / table.len() as f64
    });
    let partners = Partners::new(k, table).expect("neighbours_within gives a valid table");
    let path = run.join("neighbours.bin");
    pretext_runs::write_atomic(&path, &partners.to_bytes())?;
    Ok(MinedNeighbours {
        partners,
        path,
        label_agreement,
    })
}
