//! A pretrained encoder as other programs use it: loaded from a run (or an
//! export) with its own preprocessing, embedding images in batches.
use std::path::Path;

use burn::tensor::{Tensor, TensorData};
use image::DynamicImage;
use pretext_data::ImageDataset;
use pretext_eval::Images;
use pretext_methods::InputSpec;

use crate::Error;
use crate::pretrained::Pretrained;

/// Images per forward pass.
const BATCH: usize = 256;

/// A frozen image encoder with the preprocessing it was trained with:
/// images are converted to its input size (bilinear resize) and normalised
/// with the pretraining data's channel statistics. Loading, its parts and
/// its warnings are [`Pretrained`]'s.
///
/// ```no_run
/// use burn::tensor::Device;
///
/// let encoder = pretext::Encoder::load("runs/quickstart", &Device::flex()).unwrap();
/// let embeddings = encoder.embed_paths(&["digit.png"]).unwrap();
/// println!("{} numbers per image", embeddings[0].len());
/// ```
pub type Encoder = Pretrained<Images>;

impl Pretrained<Images> {
    /// The input the encoder takes: shape and normalisation.
    pub fn input(&self) -> &InputSpec {
        &self.preprocessing
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
        let shape = self.preprocessing.shape;
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
        let shape = self.preprocessing.shape;
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
        let shape = self.preprocessing.shape;
        let plane = shape.height * shape.width;
        let dim = self.dim();
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(BATCH) {
            let mut values = Vec::with_capacity(chunk.len() * shape.numel());
            for img in chunk {
                for (c, pixels) in img.chunks_exact(plane).enumerate() {
                    // As the batch loader does, so embeddings match evaluation's.
                    let input = &self.preprocessing;
                    let (mean, inv_std) = (input.mean[c], 1.0 / input.std[c]);
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
                .network
                .forward(x) // [b, dim]
                .into_data()
                .try_into_vec()
                .expect("embeddings are float tensors");
            out.extend(h.chunks_exact(dim).map(<[f32]>::to_vec));
        }
        out
    }
}
