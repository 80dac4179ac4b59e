//! A pretrained encoder as other programs use it: loaded from a run (or an
//! export) with its own preprocessing, embedding images in batches.
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use image::DynamicImage;
use pretext_data::ImageDataset;
use pretext_eval::EvaluatedRun;
use pretext_methods::InputSpec;
use pretext_nn::EncoderConfig;

use crate::Error;

/// Images per forward pass.
const BATCH: usize = 256;

/// A frozen encoder with the preprocessing it was trained with: images are
/// converted to its input size (bilinear resize) and normalised with the
/// pretraining data's channel statistics.
///
/// ```no_run
/// use burn::tensor::Device;
///
/// let encoder = pretext::Encoder::load("runs/quickstart", &Device::flex()).unwrap();
/// let embeddings = encoder.embed_paths(&["digit.png"]).unwrap();
/// println!("{} numbers per image", embeddings[0].len());
/// ```
#[derive(Debug)]
pub struct Encoder {
    encoder: pretext_nn::Encoder,
    config: EncoderConfig,
    input: InputSpec,
    device: Device,
    source: PathBuf,
    warnings: Vec<String>,
}

impl Encoder {
    /// Loads the encoder of the run at `run` (its last good checkpoint) on
    /// `device`. When the latest checkpoint is damaged and the one before it
    /// is used, or the run is still training, it says so in one line on
    /// stderr, and [`Encoder::warnings`] holds the lines;
    /// [`Encoder::load_strict`] refuses a damaged checkpoint instead.
    pub fn load(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, false)
    }

    /// Loads the encoder of the run at `run` as [`Encoder::load`] does, but
    /// fails when its latest checkpoint is damaged rather than use an older
    /// one.
    pub fn load_strict(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, true)
    }

    fn load_checked(run: &Path, device: &Device, strict: bool) -> Result<Self, Error> {
        let run = EvaluatedRun::open(run)?;
        let warnings = crate::stale::check(&run.trained, strict)?;
        let mut encoder = Self::from_parts(
            run.encoder(device)?,
            run.config.encoder.clone(),
            run.input.clone(),
            device,
            run.trained.dir.clone(),
        );
        encoder.warnings = warnings;
        Ok(encoder)
    }

    /// An encoder from its parts (a run's, or an import's).
    pub(crate) fn from_parts(
        encoder: pretext_nn::Encoder,
        config: EncoderConfig,
        input: InputSpec,
        device: &Device,
        source: PathBuf,
    ) -> Self {
        Self {
            encoder,
            config,
            input,
            device: device.clone(),
            source,
            warnings: Vec::new(),
        }
    }

    /// Numbers per embedding.
    pub fn dim(&self) -> usize {
        self.encoder.out_dim()
    }

    /// The input the encoder takes: shape and normalisation.
    pub fn input(&self) -> &InputSpec {
        &self.input
    }

    /// The architecture.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The network itself.
    pub fn network(&self) -> &pretext_nn::Encoder {
        &self.encoder
    }

    /// Where the weights came from (a checkpoint or an export directory).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// What loading warned of, one line each: a damaged latest checkpoint
    /// passed over for the previous one, a run still training. Empty when
    /// the latest checkpoint of a finished run was loaded.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The embedding of each image, in order. Images are resized to the
    /// encoder's input size; their channel count (grey or colour; alpha is
    /// dropped) must match the encoder's.
    pub fn embed_images(&self, images: &[DynamicImage]) -> Result<Vec<Vec<f32>>, Error> {
        let pixels = images
            .iter()
            .enumerate()
            .map(|(i, img)| self.pixels(img, &format!("image {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.embed_pixels(&pixels))
    }

    /// The embedding of each image file (PNG or JPEG), in order.
    pub fn embed_paths<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Vec<Vec<f32>>, Error> {
        let pixels = paths
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let what = p.display().to_string();
                let img = image::ImageReader::open(p)
                    .map_err(|e| Error::io(p, e))?
                    .with_guessed_format()
                    .map_err(|e| Error::io(p, e))?
                    .decode()
                    .map_err(|e| Error::Image {
                        what: what.clone(),
                        reason: format!("cannot decode: {e}"),
                    })?;
                self.pixels(&img, &what)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.embed_pixels(&pixels))
    }

    /// The embedding of every image of `data`, whose images must already
    /// have the encoder's shape.
    pub fn embed_dataset(&self, data: &ImageDataset) -> Result<Vec<Vec<f32>>, Error> {
        let shape = self.input.shape;
        let want = (shape.channels, shape.height, shape.width);
        if data.shape() != want {
            let (c, h, w) = data.shape();
            return Err(Error::Image {
                what: data.source().display().to_string(),
                reason: format!(
                    "images are {c}x{h}x{w} but the encoder takes {}x{}x{}",
                    want.0, want.1, want.2
                ),
            });
        }
        let pixels: Vec<Vec<u8>> = (0..data.len()).map(|i| data.image(i).to_vec()).collect();
        Ok(self.embed_pixels(&pixels))
    }

    /// Channel-first `u8` pixels of `img` at the encoder's input size.
    fn pixels(&self, img: &DynamicImage, what: &str) -> Result<Vec<u8>, Error> {
        let shape = self.input.shape;
        let channels = if img.color().has_color() { 3 } else { 1 };
        if channels != shape.channels {
            return Err(Error::Image {
                what: what.to_string(),
                reason: format!(
                    "has {channels} channel{} but the encoder takes {} (convert it first, e.g. with DynamicImage::{})",
                    if channels == 1 { "" } else { "s" },
                    shape.channels,
                    if shape.channels == 1 {
                        "grayscale"
                    } else {
                        "to_rgb8"
                    }
                ),
            });
        }
        let (w, h) = (shape.width as u32, shape.height as u32);
        let img = if img.width() == w && img.height() == h {
            img.clone()
        } else {
            img.resize_exact(w, h, image::imageops::FilterType::Triangle)
        };
        Ok(match shape.channels {
            1 => img.to_luma8().into_raw(),
            _ => {
                // Interleaved RGB to channel planes.
                let rgb = img.to_rgb8().into_raw();
                (0..3)
                    .flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
                    .collect()
            }
        })
    }

    /// Embeds channel-first `u8` images of the input shape, in batches.
    fn embed_pixels(&self, images: &[Vec<u8>]) -> Vec<Vec<f32>> {
        let shape = self.input.shape;
        let plane = shape.height * shape.width;
        let dim = self.dim();
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(BATCH) {
            let mut values = Vec::with_capacity(chunk.len() * shape.numel());
            for img in chunk {
                for (c, pixels) in img.chunks_exact(plane).enumerate() {
                    // As the batch loader does, so embeddings match evaluation's.
                    let (mean, inv_std) = (self.input.mean[c], 1.0 / self.input.std[c]);
                    values.extend(pixels.iter().map(|&p| (p as f32 / 255.0 - mean) * inv_std));
                }
            }
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    values,
                    [chunk.len(), shape.channels, shape.height, shape.width],
                ),
                &self.device,
            );
            let h: Vec<f32> = self
                .encoder
                .forward(x) // [b, dim]
                .into_data()
                .try_into_vec()
                .expect("embeddings are float tensors");
            out.extend(h.chunks_exact(dim).map(<[f32]>::to_vec));
        }
        out
    }
}
