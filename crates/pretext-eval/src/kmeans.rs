//! Single-layer k-means features, the classical unsupervised baseline of
//! Coates, Lee and Ng (2011, "An Analysis of Single-Layer Networks in
//! Unsupervised Feature Learning"), as their reference code computes them:
//!
//! 1. random `patch × patch` patches of the pool's images (all channels),
//!    each normalised for brightness and contrast (`(x - mean) / sqrt(var +
//!    10)` on 0–255 pixel values, `var` with `n - 1`);
//! 2. ZCA whitening fitted on them (`eps = 0.1`);
//! 3. k-means on the whitened patches (`centroids` centroids, `iterations`
//!    rounds of assigning each patch to the nearest centroid and moving each
//!    centroid to its patches' mean; a centroid left empty is moved to a
//!    random patch);
//! 4. for each image, every patch at `stride` is normalised and whitened, its
//!    distances `z_k` to the centroids give the triangle activation
//!    `f_k = max(0, mean(z) - z_k)`, and the activations are summed over the
//!    four quadrants of the patch grid: `4 × centroids` features.
//!
//! The paper reports 77.9% (1,600 centroids) and 79.6% (4,000) on CIFAR-10
//! with every label and an L2-SVM; the evaluation's heads take these
//! features where they take an encoder's.
use burn::tensor::{Device, Tensor, TensorData};
use pretext_data::ImageDataset;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use pretext_train::symmetric_eigen;

use crate::features::Features;

/// Added to each patch's variance before dividing by its square root.
const CONTRAST_EPS: f32 = 10.0;
/// Added to the covariance's eigenvalues before whitening.
const WHITEN_EPS: f64 = 0.1;
/// Images whose patches are encoded together.
const IMAGE_BLOCK: usize = 16;
/// Patches assigned together in a k-means round.
const PATCH_BLOCK: usize = 8192;

/// Settings of the k-means baseline (`[kmeans]` in a task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KmeansConfig {
    /// Centroids, so `4 × centroids` features (default 1600, as the paper).
    pub centroids: usize,
    /// Side of a square patch, in pixels (default 6).
    pub patch: usize,
    /// Random patches k-means and whitening are fitted on (default 100,000).
    pub patches: usize,
    /// Rounds of k-means (default 10).
    pub iterations: usize,
    /// Step between the patches an image is encoded with (default 1).
    pub stride: usize,
}

impl Default for KmeansConfig {
    fn default() -> Self {
        Self {
            centroids: 1600,
            patch: 6,
            patches: 100_000,
            iterations: 10,
            stride: 1,
        }
    }
}

impl KmeansConfig {
    /// Checks the settings, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("centroids", self.centroids),
            ("patch", self.patch),
            ("patches", self.patches),
            ("iterations", self.iterations),
            ("stride", self.stride),
        ] {
            if value == 0 {
                return Err(format!("kmeans.{key} must be at least 1, got 0"));
            }
        }
        if self.centroids > self.patches {
            return Err(format!(
                "kmeans.centroids ({}) is larger than kmeans.patches ({}): k-means needs at \
                 least one patch per centroid",
                self.centroids, self.patches
            ));
        }
        Ok(())
    }

    /// Checks the settings against images of `height × width`: the patch
    /// grid must have two rows and two columns at least (four quadrants).
    pub fn check_images(&self, height: usize, width: usize) -> Result<(), String> {
        let side = height.min(width);
        if self.patch + self.stride > side {
            return Err(format!(
                "kmeans.patch ({}) with kmeans.stride ({}) leaves fewer than two patches a \
                 side on {height}x{width} images (the features pool four quadrants)",
                self.patch, self.stride
            ));
        }
        Ok(())
    }

    /// Features per image.
    pub fn dim(&self) -> usize {
        4 * self.centroids
    }

    /// Patches an image of `(channels, height, width)` is encoded with.
    pub fn patches_per_image(&self, (_, height, width): (usize, usize, usize)) -> usize {
        ((height - self.patch) / self.stride + 1) * ((width - self.patch) / self.stride + 1)
    }
}

/// A fitted k-means feature extractor.
#[derive(Debug, Clone)]
pub struct KmeansFeatures {
    patch: usize,
    stride: usize,
    channels: usize,
    /// Mean of the normalised patches, `[d]`.
    mean: Vec<f32>,
    /// ZCA whitening matrix, `[d, d]` row-major.
    whiten: Vec<f32>,
    /// Centroids, `[centroids, d]` row-major.
    centroids: Vec<f32>,
    /// Number of centroids.
    k: usize,
}

/// The brightness- and contrast-normalised `patch × patch` patch of image
/// `image` (`channels × height × width` bytes) at `(y, x)`, channel-major,
/// appended to `out`.
fn push_patch(
    image: &[u8],
    (channels, height, width): (usize, usize, usize),
    patch: usize,
    (y, x): (usize, usize),
    out: &mut Vec<f32>,
) {
    let start = out.len();
    for c in 0..channels {
        for dy in 0..patch {
            let row = (c * height + y + dy) * width + x;
            out.extend(image[row..row + patch].iter().map(|&p| f32::from(p)));
        }
    }
    let values = &mut out[start..];
    let d = values.len() as f32;
    let mean = values.iter().sum::<f32>() / d;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / (d - 1.0).max(1.0);
    let scale = (var + CONTRAST_EPS).sqrt();
    values.iter_mut().for_each(|v| *v = (*v - mean) / scale);
}

fn tensor(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("a float tensor")
}

impl KmeansFeatures {
    /// Fits whitening and centroids on random patches of `data`'s images
    /// (labels unused), under `seed`.
    pub fn fit(
        data: &ImageDataset,
        config: &KmeansConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self, String> {
        config.validate()?;
        let shape = data.shape();
        let (channels, height, width) = shape;
        config.check_images(height, width)?;
        let p = config.patch;
        let d = channels * p * p;
        let n = config.patches;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut patches = Vec::with_capacity(n * d);
        for _ in 0..n {
            let i = rng.random_range(0..data.len());
            let at = (
                rng.random_range(0..=height - p),
                rng.random_range(0..=width - p),
            );
            push_patch(data.image(i), shape, p, at, &mut patches);
        }
        // ZCA: the covariance's eigenvectors, each direction scaled to unit variance.
        let mut mean = vec![0f32; d];
        for row in patches.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= n as f32);
        let x = tensor(patches, [n, d], device) - tensor(mean.clone(), [1, d], device);
        let cov = host(x.clone().transpose().matmul(x.clone()) / (n.max(2) - 1) as f32);
        let (values, vectors) =
            symmetric_eigen(cov.iter().map(|&v| f64::from(v)).collect(), d, true);
        let vectors = vectors.expect("asked for");
        let mut whiten = vec![0f32; d * d];
        for a in 0..d {
            for b in 0..d {
                whiten[a * d + b] = (0..d)
                    .map(|e| {
                        vectors[a * d + e] * vectors[b * d + e]
                            / (values[e].max(0.0) + WHITEN_EPS).sqrt()
                    })
                    .sum::<f64>() as f32;
            }
        }
        let x = x.matmul(tensor(whiten.clone(), [d, d], device)); // [n, d] whitened
        let centroids = kmeans(x, config.centroids, config.iterations, &mut rng, device);
        Ok(Self {
            patch: p,
            stride: config.stride,
            channels,
            mean,
            whiten,
            centroids,
            k: config.centroids,
        })
    }

    /// Features per image (`4 × centroids`).
    pub fn dim(&self) -> usize {
        4 * self.k
    }

    /// The features of every image of `data`, in order.
    ///
    /// # Panics
    /// If `data`'s channels differ from those it was fitted on.
    pub fn transform(&self, data: &ImageDataset, device: &Device) -> Features {
        let shape = data.shape();
        let (channels, height, width) = shape;
        assert_eq!(
            channels, self.channels,
            "k-means features fitted on other channels"
        );
        let d = self.mean.len();
        let (rows, cols) = (
            (height - self.patch) / self.stride + 1,
            (width - self.patch) / self.stride + 1,
        );
        let mean = tensor(self.mean.clone(), [1, d], device);
        let whiten = tensor(self.whiten.clone(), [d, d], device);
        let ct = tensor(self.centroids.clone(), [self.k, d], device).transpose(); // [d, k]
        let cc: Vec<f32> = self
            .centroids
            .chunks_exact(d)
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let mut values = Vec::with_capacity(data.len() * self.dim());
        let images: Vec<usize> = (0..data.len()).collect();
        for block in images.chunks(IMAGE_BLOCK) {
            let mut patches = Vec::with_capacity(block.len() * rows * cols * d);
            for &i in block {
                for y in 0..rows {
                    for x in 0..cols {
                        let at = (y * self.stride, x * self.stride);
                        push_patch(data.image(i), shape, self.patch, at, &mut patches);
                    }
                }
            }
            let n = block.len() * rows * cols;
            let x = (tensor(patches, [n, d], device) - mean.clone()).matmul(whiten.clone());
            let xx = host(x.clone().powf_scalar(2.0).sum_dim(1)); // [n]
            let xc = host(x.matmul(ct.clone())); // [n, k]
            values.extend(self.triangle_pooled(&xx, &xc, &cc, (rows, cols)));
        }
        Features::new(data.len(), self.dim(), values)
    }

    /// The features of the images whose patches (`rows × cols` each, in
    /// row-major grid order) have squared norms `xx` and products `xc`
    /// (`[patches, k]`) with the centroids, whose squared norms are `cc`:
    /// each patch's triangle activation `max(0, mean(z) - z_k)`, `z_k` its
    /// distance to centroid `k`, summed over the four quadrants of the grid
    /// (split at `round(rows / 2)` and `round(cols / 2)`), quadrants in the
    /// order top-left, bottom-left, top-right, bottom-right. One pass over
    /// `xc`, the images in parallel.
    fn triangle_pooled(
        &self,
        xx: &[f32],
        xc: &[f32],
        cc: &[f32],
        (rows, cols): (usize, usize),
    ) -> Vec<f32> {
        let k = self.k;
        let per_image = rows * cols;
        let (half_r, half_c) = (rows.div_ceil(2), cols.div_ceil(2));
        xc.par_chunks(per_image * k)
            .zip(xx.par_chunks(per_image))
            .flat_map_iter(|(image_xc, image_xx)| {
                let mut pooled = vec![0f32; 4 * k];
                let mut z = vec![0f32; k];
                for (p, (products, &norm)) in image_xc.chunks_exact(k).zip(image_xx).enumerate() {
                    for ((z, &c), &xc) in z.iter_mut().zip(cc).zip(products) {
                        *z = (norm + c - 2.0 * xc).max(0.0).sqrt();
                    }
                    let mu = z.iter().sum::<f32>() / k as f32;
                    let (y, x) = (p / cols, p % cols);
                    let q = usize::from(y >= half_r) + 2 * usize::from(x >= half_c);
                    for (out, &z) in pooled[q * k..(q + 1) * k].iter_mut().zip(&z) {
                        *out += (mu - z).max(0.0);
                    }
                }
                pooled
            })
            .collect()
    }
}

/// `k` centroids of the rows of `x` (`[n, d]`) after `iterations` rounds,
/// starting from `k` distinct random rows; a centroid that loses all its
/// rows moves to a random row.
fn kmeans(
    x: Tensor<2>,
    k: usize,
    iterations: usize,
    rng: &mut impl Rng,
    device: &Device,
) -> Vec<f32> {
    let [n, d] = x.dims();
    let rows = host(x.clone());
    let start = rand::seq::index::sample(rng, n, k);
    let mut centroids: Vec<f32> = start
        .iter()
        .flat_map(|i| rows[i * d..(i + 1) * d].iter().copied())
        .collect();
    for _ in 0..iterations {
        let c = tensor(centroids.clone(), [k, d], device);
        let half_cc = c.clone().powf_scalar(2.0).sum_dim(1).transpose() * 0.5; // [1, k]
        let ct = c.transpose();
        let mut sums = vec![0f64; k * d];
        let mut counts = vec![0usize; k];
        for start in (0..n).step_by(PATCH_BLOCK) {
            let len = PATCH_BLOCK.min(n - start);
            // Nearest centroid: the largest x·c - |c|²/2.
            let score = x.clone().narrow(0, start, len).matmul(ct.clone()) - half_cc.clone();
            let nearest: Vec<i64> = score
                .argmax(1)
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("an int tensor");
            for (r, &c) in nearest.iter().enumerate() {
                let c = c as usize;
                counts[c] += 1;
                let row = &rows[(start + r) * d..(start + r + 1) * d];
                sums[c * d..(c + 1) * d]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(s, &v)| *s += f64::from(v));
            }
        }
        for c in 0..k {
            let centroid = &mut centroids[c * d..(c + 1) * d];
            if counts[c] == 0 {
                let i = rng.random_range(0..n);
                centroid.copy_from_slice(&rows[i * d..(i + 1) * d]);
            } else {
                centroid
                    .iter_mut()
                    .zip(&sums[c * d..(c + 1) * d])
                    .for_each(|(v, s)| *v = (s / counts[c] as f64) as f32);
            }
        }
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An extractor on 1-channel 2×2 patches with no whitening.
    fn unwhitened(centroids: Vec<f32>, k: usize) -> KmeansFeatures {
        KmeansFeatures {
            patch: 2,
            stride: 1,
            channels: 1,
            mean: vec![0.0; 4],
            whiten: vec![
                1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.,
            ],
            centroids,
            k,
        }
    }

    #[test]
    fn triangle_activation_and_quadrant_pooling_by_hand() {
        // 0 10  0       patches (row-major): (0,0) = [0,10,10,0] = P, (0,1) = [10,0,0,10] = -P
        // 10 0 10       after normalisation, (1,0) = -P, (1,1) = P, where P = [-a, a, a, -a],
        // 0 10  0       a = 5 / sqrt(var + 10), var = 4·25/3 (n - 1), so a = 0.75955.
        let pixels = [0u8, 10, 0, 10, 0, 10, 0, 10, 0];
        let data = ImageDataset::new(pixels.to_vec(), (1, 3, 3), None, vec![], "tiny").unwrap();
        let a = 5.0 / (100.0f32 / 3.0 + 10.0).sqrt();
        // Centroid 0 = P, centroid 1 = 0. For P: z = (0, 2a), mean a, f = (a, 0).
        // For -P: z = (4a, 2a), mean 3a, f = (0, a).
        let f =
            unwhitened(vec![-a, a, a, -a, 0.0, 0.0, 0.0, 0.0], 2).transform(&data, &Device::flex());
        // The grid is 2x2, split at row 1 and column 1: top-left P, bottom-left -P,
        // top-right -P, bottom-right P.
        let expected = [a, 0.0, 0.0, a, 0.0, a, a, 0.0];
        assert_eq!((f.rows, f.dim), (1, 8));
        for (got, want) in f.row(0).iter().zip(expected) {
            assert!(
                (got - want).abs() < 1e-4,
                "{:?} against {expected:?}",
                f.row(0)
            );
        }
        assert!((a - 0.75955).abs() < 1e-4);
    }

    #[test]
    fn whitening_decorrelates_and_kmeans_finds_planted_patterns() {
        // Images made of two patterns in random places: k-means with two
        // centroids on whitened 2x2 patches separates images by pattern.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (n, side) = (40, 6);
        let mut pixels = Vec::new();
        for i in 0..n {
            for y in 0..side {
                for x in 0..side {
                    let stripe = if i % 2 == 0 { y % 2 } else { x % 2 };
                    pixels.push((stripe * 200) as u8 + rng.random_range(0..20));
                }
            }
        }
        let data = ImageDataset::new(pixels, (1, side, side), None, vec![], "stripes").unwrap();
        let config = KmeansConfig {
            centroids: 2,
            patch: 2,
            patches: 2000,
            iterations: 10,
            stride: 1,
        };
        let device = Device::flex();
        let fitted = KmeansFeatures::fit(&data, &config, 0, &device).unwrap();
        let f = fitted.transform(&data, &device);
        // Horizontal stripes fire one centroid more, vertical the other.
        let lean = |i: usize| {
            let r = f.row(i);
            (0..4).map(|q| r[2 * q] - r[2 * q + 1]).sum::<f32>()
        };
        let (even, odd) = (lean(0), lean(1));
        assert!(even * odd < 0.0, "{even} {odd}");
        assert!((0..n).all(|i| lean(i).signum() == if i % 2 == 0 { even } else { odd }.signum()));
    }

    #[test]
    fn settings_name_the_key_at_fault() {
        let big = KmeansConfig {
            centroids: 500,
            patches: 100,
            ..KmeansConfig::default()
        };
        let e = big.validate().unwrap_err();
        assert!(
            e.contains("kmeans.centroids (500)") && e.contains("kmeans.patches (100)"),
            "{e}"
        );
        let e = KmeansConfig::default().check_images(6, 6).unwrap_err();
        assert!(e.contains("kmeans.patch (6)"), "{e}");
        assert!(KmeansConfig::default().check_images(32, 32).is_ok());
    }
}
