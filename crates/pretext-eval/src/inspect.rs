//! What a run's report shows of its encoder, as plain data: a sample of
//! images with their embeddings (for the embedding map and the
//! nearest-neighbour grid), a preview of the run's augmentations and, for
//! autoencoders, reconstructions. Tensors stay here; `pretext-report` draws
//! from the result.
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::{Image, ImageDataset};
use pretext_nn::Readout;

use crate::embed::{embed_images, plain_loader};
use crate::{EvalError, EvaluatedRun, TaskConfig};
use pretext_runs::Inspection;

/// How much to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InspectConfig {
    /// Images embedded for the map and the neighbour search.
    pub samples: usize,
    /// Images shown with their augmented views.
    pub previews: usize,
    /// Views drawn of each previewed image.
    pub views: usize,
    /// Images shown with their reconstructions (autoencoders).
    pub reconstructions: usize,
    /// Seed of the augmentation preview.
    pub seed: u64,
}

impl Default for InspectConfig {
    fn default() -> Self {
        Self {
            samples: 1000,
            previews: 4,
            views: 6,
            reconstructions: 12,
            seed: 0,
        }
    }
}

/// Samples the test set of `task` (labelled: the maps are coloured by
/// class), or the run's pretraining data without one, and passes it through
/// the checkpoint's encoder on `device`.
pub fn inspect(
    run: &EvaluatedRun,
    task: Option<&TaskConfig>,
    config: &InspectConfig,
    device: &Device,
) -> Result<Inspection, EvalError> {
    let data = match task {
        Some(task) => task.load_images()?.test,
        None => run.config.data.load(&run.config.base_dir)?,
    };
    let shape = run.input().shape;
    if data.shape() != (shape.channels, shape.height, shape.width) {
        let (c, h, w) = data.shape();
        return Err(EvalError::Mismatch {
            path: data.source().to_path_buf(),
            reason: format!(
                "images are {c}x{h}x{w} but the encoder takes {}x{}x{}",
                shape.channels, shape.height, shape.width
            ),
        });
    }
    // Evenly spaced images: deterministic, and spread over the whole file.
    let n = config.samples.clamp(1, data.len());
    let picked: Vec<usize> = (0..n).map(|i| i * data.len() / n).collect();
    let sample = Arc::new(data.subset(&picked));
    let images: Vec<Image> = (0..sample.len()).map(|i| image(&sample, i)).collect();

    let method = run.method(device)?;
    let stats = run.stats();
    let embeddings = embed_images(
        method.encoder(),
        &sample,
        &stats,
        Readout::default(),
        device,
    );

    let (h, w) = (shape.height, shape.width);
    let preview = run
        .config
        .augment
        .multi_view((h, w), config.views.max(1))
        .map_err(|reason| EvalError::Mismatch {
            path: run.dir.config_path(),
            reason,
        })?;
    let augments = !run
        .config
        .augment
        .pipeline((h, w))
        .map_err(|reason| EvalError::Mismatch {
            path: run.dir.config_path(),
            reason,
        })?
        .is_identity();
    let augmented = images
        .iter()
        .take(if augments { config.previews } else { 0 })
        .enumerate()
        .map(|(i, img)| (img.clone(), preview.views(img, config.seed + i as u64)))
        .collect();

    let mut reconstructions = Vec::new();
    let shown = config.reconstructions.min(sample.len());
    if shown > 0 {
        let loader = plain_loader(&sample, (0..shown).collect(), &stats);
        if let Some(batch) = loader.epoch(0).next() {
            let x = batch.into_view_tensors(device).remove(0); // [shown, c, h, w]
            if let Some(out) = method.reconstruct_pixels(x) {
                let values: Vec<f32> = out
                    .into_data()
                    .try_into_vec()
                    .expect("reconstructions are float tensors");
                let per = shape.channels * h * w;
                for (i, chunk) in values.chunks_exact(per).enumerate() {
                    let output = Image {
                        channels: shape.channels,
                        height: h,
                        width: w,
                        data: chunk.to_vec(),
                    };
                    reconstructions.push((images[i].clone(), output));
                }
            }
        }
    }

    Ok(Inspection {
        source: data.source().to_path_buf(),
        labels: sample.labels().map(<[u32]>::to_vec),
        class_names: data.class_names().to_vec(),
        images,
        embeddings,
        augmented,
        reconstructions,
    })
}

/// Image `i` of `data` as `[0, 1]` floats.
fn image(data: &ImageDataset, i: usize) -> Image {
    let (c, h, w) = data.shape();
    Image::from_u8(data.image(i), c, h, w)
}
