//! Batches of augmented, normalised views, assembled in parallel on a
//! background thread ahead of the training step.
//!
//! An epoch's order is a shuffle seeded by `(seed, epoch)`; every sample's
//! views are seeded by `(seed, epoch, dataset index, view)`, so a batch does
//! not depend on thread scheduling, the thread count or the batch size.
//!
//! ```
//! use std::sync::Arc;
//! use pretext_data::{BatchLoader, ChannelStats, ImageDataset, LoaderConfig, MultiView};
//!
//! let data = ImageDataset::new(vec![0u8; 10 * 4 * 4], (1, 4, 4), None, vec![], "mem").unwrap();
//! let config = LoaderConfig { batch_size: 4, ..LoaderConfig::default() };
//! let loader = BatchLoader::new(
//!     Arc::new(data),
//!     (0..10).collect(),
//!     Arc::new(MultiView::identity()),
//!     ChannelStats::identity(1),
//!     config,
//! );
//! let sizes: Vec<usize> = loader.epoch(0).map(|b| b.len()).collect();
//! assert_eq!(sizes, [4, 4, 2]);
//! ```
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::transform::derive_seed;
use crate::{ChannelStats, Image, ImageDataset, LoaderConfig, MultiView, Partners};

/// Stream tags that keep the shuffle, the augmentation and the partner
/// generators apart.
const SHUFFLE_STREAM: u64 = 0x5348_5546;
const SAMPLE_STREAM: u64 = 0x5341_4D50;
const PARTNER_STREAM: u64 = 0x5041_5254;

/// One batch: every view of every sample, normalised, channel-first.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// One `[B, C, H, W]` buffer per view, `(x - mean) / std` per channel.
    pub views: Vec<Vec<f32>>,
    /// `[B, C, H, W]`, the same for every view.
    pub shape: [usize; 4],
    /// The dataset index of each sample.
    pub indices: Vec<usize>,
    /// The label of each sample, when the dataset is labelled.
    pub labels: Option<Vec<u32>>,
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// Number of views.
    pub fn num_views(&self) -> usize {
        self.views.len()
    }

    /// View `v` as a `[B, C, H, W]` float tensor on `device`.
    ///
    /// # Panics
    /// If `v >= self.num_views()`.
    pub fn view_tensor(&self, v: usize, device: &burn::tensor::Device) -> burn::tensor::Tensor<4> {
        burn::tensor::Tensor::from_data(
            burn::tensor::TensorData::new(self.views[v].clone(), self.shape),
            device,
        )
    }

    /// Every view as a `[B, C, H, W]` tensor on `device`, moving the buffers
    /// instead of copying them (the training step's path).
    pub fn into_view_tensors(self, device: &burn::tensor::Device) -> Vec<burn::tensor::Tensor<4>> {
        let shape = self.shape;
        self.views
            .into_iter()
            .map(|buf| {
                burn::tensor::Tensor::from_data(burn::tensor::TensorData::new(buf, shape), device)
            })
            .collect()
    }
}

/// Yields the batches of one epoch of a dataset, assembling them on a
/// background thread (each batch's samples in parallel with rayon).
pub struct BatchLoader {
    data: Arc<ImageDataset>,
    indices: Vec<usize>,
    views: Arc<MultiView>,
    normalize: ChannelStats,
    config: LoaderConfig,
    out_hw: (usize, usize),
    partners: Option<Arc<Partners>>,
}

impl std::fmt::Debug for BatchLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchLoader")
            .field("samples", &self.indices.len())
            .field("shape", &self.data.shape())
            .field("views", &self.views.num_views())
            .field("out_hw", &self.out_hw)
            .field("config", &self.config)
            .field("partners", &self.partners.as_ref().map(|p| p.k()))
            .finish()
    }
}

impl BatchLoader {
    /// A loader over the samples `indices` of `data`, making `views` of each
    /// and normalising them with `normalize`.
    ///
    /// # Panics
    /// If `config.batch_size` is 0, an index is out of range, `views` has no
    /// view, the views differ in size, or `normalize` does not have one mean
    /// and one std per channel. These are programming errors: settings from
    /// users are validated before.
    pub fn new(
        data: Arc<ImageDataset>,
        indices: Vec<usize>,
        views: Arc<MultiView>,
        normalize: ChannelStats,
        config: LoaderConfig,
    ) -> Self {
        assert!(config.batch_size > 0, "batch size must be at least 1");
        let (c, h, w) = data.shape();
        assert!(
            normalize.mean.len() == c && normalize.std.len() == c,
            "channel stats for {} / {} channels, images have {c}",
            normalize.mean.len(),
            normalize.std.len()
        );
        if let Some(&bad) = indices.iter().find(|&&i| i >= data.len()) {
            panic!("index {bad} out of range for {} images", data.len());
        }
        let sizes = views.output_hw(h, w);
        assert!(!sizes.is_empty(), "a multi-view transform needs a view");
        assert!(
            sizes.iter().all(|&s| s == sizes[0]),
            "every view must have one size, got {sizes:?}"
        );
        Self {
            data,
            indices,
            views,
            normalize,
            config,
            out_hw: sizes[0],
            partners: None,
        }
    }

    /// Batches of 512 of the images `indices` of `data` in order, normalised
    /// with `stats` and not augmented: what frozen encoders and test scores
    /// see.
    pub fn plain(data: Arc<ImageDataset>, indices: Vec<usize>, stats: ChannelStats) -> Self {
        Self::new(
            data,
            indices,
            Arc::new(MultiView::identity()),
            stats,
            LoaderConfig {
                batch_size: 512,
                shuffle: false,
                ..LoaderConfig::default()
            },
        )
    }

    /// Makes every view after the first from a neighbour of the sample,
    /// drawn from `partners` per epoch and sample (see [`Partners`]); the
    /// batch's `indices` and labels stay those of the first view's images.
    ///
    /// # Panics
    /// If `partners` does not cover exactly the dataset's images (a
    /// programming error: [`Partners::check_len`] tells users).
    pub fn with_partners(mut self, partners: Arc<Partners>) -> Self {
        assert_eq!(
            partners.len(),
            self.data.len(),
            "a partners table for {} images, the dataset has {}",
            partners.len(),
            self.data.len()
        );
        self.partners = Some(partners);
        self
    }

    /// The settings.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Number of samples per epoch before batching.
    pub fn num_samples(&self) -> usize {
        self.indices.len()
    }

    /// `(channels, height, width)` of each view of a sample.
    pub fn sample_shape(&self) -> (usize, usize, usize) {
        (self.data.shape().0, self.out_hw.0, self.out_hw.1)
    }

    /// Number of batches in an epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.config.batches_per_epoch(self.indices.len())
    }

    /// The dataset indices of `epoch` in the order they are batched.
    pub fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        self.config
            .epoch_order(&self.indices, SHUFFLE_STREAM, epoch)
    }

    /// The batches of `epoch`. A background thread assembles up to
    /// `prefetch` batches ahead; dropping the iterator stops it.
    ///
    /// Batches run on a rayon pool as large as the pool this is called from
    /// (`rayon::current_num_threads`). A panic while assembling a batch is
    /// raised again by `next`.
    pub fn epoch(&self, epoch: usize) -> Epoch {
        let order = self.epoch_order(epoch);
        let bs = self.config.batch_size;
        let mut batches: Vec<Vec<usize>> = order.chunks(bs).map(<[usize]>::to_vec).collect();
        if self.config.drop_last && batches.last().is_some_and(|b| b.len() < bs) {
            batches.pop();
        }
        let remaining = batches.len();
        let (tx, rx) = sync_channel(self.config.prefetch);
        let job = Assembler {
            data: Arc::clone(&self.data),
            views: Arc::clone(&self.views),
            mean: self.normalize.mean.clone(),
            inv_std: self.normalize.std.iter().map(|s| 1.0 / s).collect(),
            out_hw: self.out_hw,
            epoch_seed: derive_seed(derive_seed(self.config.seed, SAMPLE_STREAM), epoch as u64),
            partners: self.partners.clone(),
        };
        let threads = rayon::current_num_threads();
        let handle = std::thread::Builder::new()
            .name("pretext-loader".into())
            .spawn(move || {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("pretext-augment-{i}"))
                    .build();
                for batch in batches {
                    let batch = match &pool {
                        Ok(pool) => pool.install(|| job.assemble(batch)),
                        Err(_) => job.assemble(batch),
                    };
                    if tx.send(batch).is_err() {
                        return; // the consumer is gone
                    }
                }
            })
            .expect("cannot start the loader thread");
        Epoch {
            rx: Some(rx),
            handle: Some(handle),
            remaining,
        }
    }
}

/// What the producer thread needs to build a batch.
struct Assembler {
    data: Arc<ImageDataset>,
    views: Arc<MultiView>,
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    out_hw: (usize, usize),
    epoch_seed: u64,
    partners: Option<Arc<Partners>>,
}

impl Assembler {
    /// The batch of the samples `indices`, each sample built in parallel.
    fn assemble(&self, indices: Vec<usize>) -> Batch {
        let (c, h, w) = self.data.shape();
        let (oh, ow) = self.out_hw;
        let plane = oh * ow;
        let samples: Vec<Vec<Image>> = indices
            .par_iter()
            .map(|&i| {
                let seed = derive_seed(self.epoch_seed, i as u64);
                let image = Image::from_u8(self.data.image(i), c, h, w);
                // Views after the first come from a neighbour when partners
                // are given, with the augmentations the sample's own would have.
                let partner = self.partners.as_ref().map(|p| {
                    let j = p.pick(i, derive_seed(seed, PARTNER_STREAM));
                    Image::from_u8(self.data.image(j), c, h, w)
                });
                let mut views: Vec<Image> = (0..self.views.num_views())
                    .map(|v| match (&partner, v) {
                        (Some(p), 1..) => self.views.view(p, seed, v),
                        _ => self.views.view(&image, seed, v),
                    })
                    .collect();
                for view in &mut views {
                    assert_eq!(
                        (view.channels, view.height, view.width),
                        (c, oh, ow),
                        "a view of image {i} has the wrong shape"
                    );
                    for (ch, values) in view.data.chunks_exact_mut(plane).enumerate() {
                        let (m, s) = (self.mean[ch], self.inv_std[ch]);
                        values.iter_mut().for_each(|x| *x = (*x - m) * s);
                    }
                }
                views
            })
            .collect();
        let per = c * plane;
        let views = (0..self.views.num_views())
            .map(|v| {
                let mut buf = Vec::with_capacity(indices.len() * per);
                for sample in &samples {
                    buf.extend_from_slice(&sample[v].data);
                }
                buf // [B, C, H, W]
            })
            .collect();
        let labels = crate::classes::select(self.data.labels(), &indices);
        Batch {
            views,
            shape: [indices.len(), c, oh, ow],
            indices,
            labels,
        }
    }
}

/// The batches of one epoch, in order (see [`BatchLoader::epoch`]).
#[derive(Debug)]
pub struct Epoch {
    rx: Option<Receiver<Batch>>,
    handle: Option<JoinHandle<()>>,
    remaining: usize,
}

impl Iterator for Epoch {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        match self.rx.as_ref()?.recv() {
            Ok(batch) => {
                self.remaining = self.remaining.saturating_sub(1);
                Some(batch)
            }
            Err(_) => {
                // The producer is done, or died: raise its panic here.
                self.rx = None;
                self.remaining = 0;
                if let Some(handle) = self.handle.take()
                    && let Err(panic) = handle.join()
                {
                    std::panic::resume_unwind(panic);
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Epoch {}

impl Drop for Epoch {
    fn drop(&mut self) {
        // Closing the channel makes the producer's next send fail; it stops
        // after the batch it is assembling.
        self.rx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use crate::transform::{AugmentConfig, Pipeline, Preset, Transform};

    /// `n` grey 4x4 images; image `i` has every pixel equal to `i`.
    fn numbered(n: usize) -> Arc<ImageDataset> {
        let pixels = (0..n).flat_map(|i| [i as u8; 16]).collect();
        let labels = (0..n as u32).map(|i| i % 3).collect();
        Arc::new(ImageDataset::new(pixels, (1, 4, 4), Some(labels), vec![], "mem").unwrap())
    }

    /// `n` seeded-noise RGB 8x8 images.
    fn noisy(n: usize) -> Arc<ImageDataset> {
        let pixels = (0..n * 3 * 64)
            .map(|i| (derive_seed(1, i as u64) & 0xFF) as u8)
            .collect();
        Arc::new(ImageDataset::new(pixels, (3, 8, 8), None, vec![], "mem").unwrap())
    }

    fn config(batch_size: usize) -> LoaderConfig {
        LoaderConfig {
            batch_size,
            seed: 11,
            ..LoaderConfig::default()
        }
    }

    fn augmenting(data: Arc<ImageDataset>, batch_size: usize) -> BatchLoader {
        let views = AugmentConfig::from_preset(Preset::Cifar)
            .multi_view((6, 6), 2)
            .unwrap();
        let n = data.len();
        let stats = ChannelStats::of(&data);
        BatchLoader::new(
            data,
            (0..n).collect(),
            Arc::new(views),
            stats,
            config(batch_size),
        )
    }

    #[test]
    fn partners_give_the_later_views_and_change_per_epoch() {
        // Image i's neighbours are i + 1 and i + 2 (mod 10).
        let table = (0..10u32)
            .flat_map(|i| [(i + 1) % 10, (i + 2) % 10])
            .collect();
        let partners = Arc::new(Partners::new(2, table).unwrap());
        let views = MultiView::new(vec![Pipeline::new(vec![]), Pipeline::new(vec![])]);
        let loader = BatchLoader::new(
            numbered(10),
            (0..10).collect(),
            Arc::new(views),
            ChannelStats::identity(1),
            config(4),
        )
        .with_partners(partners);
        let pixel = |b: &Batch, v: usize, k: usize| (b.views[v][k * 16] * 255.0).round() as usize;
        let mut chosen = std::collections::BTreeSet::new();
        for epoch in 0..16 {
            for b in loader.epoch(epoch) {
                for (k, &i) in b.indices.iter().enumerate() {
                    assert_eq!(pixel(&b, 0, k), i, "the first view is the sample");
                    let j = pixel(&b, 1, k);
                    assert!(
                        j == (i + 1) % 10 || j == (i + 2) % 10,
                        "{i} paired with {j}"
                    );
                    assert_eq!(b.labels.as_ref().unwrap()[k], i as u32 % 3);
                    chosen.insert((i, j));
                }
            }
        }
        assert_eq!(chosen.len(), 20, "every neighbour is drawn over 16 epochs");
        let again: Vec<Batch> = loader.epoch(3).collect();
        assert_eq!(again, loader.epoch(3).collect::<Vec<_>>());
    }

    #[test]
    fn an_epoch_covers_every_index_once() {
        let data = numbered(10);
        let loader = BatchLoader::new(
            data,
            (0..10).collect(),
            Arc::new(MultiView::identity()),
            ChannelStats::identity(1),
            config(3),
        );
        assert_eq!(loader.batches_per_epoch(), 4);
        let batches: Vec<Batch> = loader.epoch(0).collect();
        assert_eq!(
            batches.iter().map(Batch::len).collect::<Vec<_>>(),
            [3, 3, 3, 1]
        );
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
        assert_ne!(seen, (0..10).collect::<Vec<_>>(), "shuffled");
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        for b in &batches {
            assert_eq!(b.shape, [b.len(), 1, 4, 4]);
            assert_eq!(b.num_views(), 1);
            for (k, &i) in b.indices.iter().enumerate() {
                let sample = &b.views[0][k * 16..(k + 1) * 16];
                assert!(sample.iter().all(|&v| v == i as f32 / 255.0));
                assert_eq!(b.labels.as_ref().unwrap()[k], i as u32 % 3);
            }
        }
        let in_order = BatchLoader::new(
            numbered(10),
            vec![4, 2, 7],
            Arc::new(MultiView::identity()),
            ChannelStats::identity(1),
            LoaderConfig {
                shuffle: false,
                ..config(2)
            },
        );
        let order: Vec<usize> = in_order.epoch(5).flat_map(|b| b.indices).collect();
        assert_eq!(order, [4, 2, 7]);
    }

    #[test]
    fn drop_last_skips_the_short_batch() {
        let loader = BatchLoader::new(
            numbered(10),
            (0..10).collect(),
            Arc::new(MultiView::identity()),
            ChannelStats::identity(1),
            LoaderConfig {
                drop_last: true,
                ..config(3)
            },
        );
        assert_eq!(loader.batches_per_epoch(), 3);
        let epoch = loader.epoch(0);
        assert_eq!(epoch.len(), 3);
        assert!(epoch.map(|b| b.len()).all(|n| n == 3));
    }

    #[test]
    fn one_seed_gives_identical_runs_and_epochs_differ() {
        let a: Vec<Batch> = augmenting(noisy(20), 8).epoch(0).collect();
        let b: Vec<Batch> = augmenting(noisy(20), 8).epoch(0).collect();
        assert_eq!(a, b);
        assert_eq!(a[0].num_views(), 2);
        assert_eq!(a[0].shape, [8, 3, 6, 6]);
        assert_ne!(a[0].views[0], a[0].views[1]);
        let next: Vec<Batch> = augmenting(noisy(20), 8).epoch(1).collect();
        assert_ne!(a[0].indices, next[0].indices);
        assert_ne!(a[0].views[0], next[0].views[0]);
    }

    /// Every sample's views of epoch 0, keyed by dataset index.
    fn per_sample(loader: &BatchLoader) -> Vec<(usize, Vec<Vec<f32>>)> {
        let mut out = Vec::new();
        for b in loader.epoch(0) {
            let per = b.shape[1] * b.shape[2] * b.shape[3];
            for (k, &i) in b.indices.iter().enumerate() {
                let views = b.views.iter().map(|v| v[k * per..(k + 1) * per].to_vec());
                out.push((i, views.collect()));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out
    }

    #[test]
    fn output_does_not_depend_on_threads_or_batch_size() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| augmenting(noisy(24), 5).epoch(0).collect::<Vec<_>>())
        };
        assert_eq!(run(1), run(2));
        assert_eq!(
            per_sample(&augmenting(noisy(24), 5)),
            per_sample(&augmenting(noisy(24), 7))
        );
    }

    #[test]
    fn normalisation_of_a_constant_image() {
        let data = Arc::new(
            ImageDataset::new(vec![51u8; 2 * 16], (2, 2, 2), None, vec![], "mem").unwrap(),
        );
        let stats = ChannelStats {
            mean: vec![0.1, 0.3],
            std: vec![0.5, 0.25],
        };
        let loader = BatchLoader::new(
            data,
            vec![0, 1, 2, 3],
            Arc::new(MultiView::identity()),
            stats,
            config(4),
        );
        let batch = loader.epoch(0).next().unwrap();
        assert_eq!(batch.shape, [4, 2, 2, 2]);
        assert!(batch.labels.is_none());
        // 51 / 255 = 0.2: channel 0 gives (0.2 - 0.1) / 0.5, channel 1 (0.2 - 0.3) / 0.25.
        for sample in batch.views[0].chunks(8) {
            assert!(
                sample[..4].iter().all(|v| (v - 0.2).abs() < 1e-6),
                "{sample:?}"
            );
            assert!(
                sample[4..].iter().all(|v| (v + 0.4).abs() < 1e-6),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn dropping_the_iterator_mid_epoch_returns() {
        let loader = BatchLoader::new(
            noisy(64),
            (0..64).collect(),
            Arc::new(
                AugmentConfig::from_preset(Preset::Stl10)
                    .multi_view((8, 8), 2)
                    .unwrap(),
            ),
            ChannelStats::identity(3),
            LoaderConfig {
                prefetch: 1,
                ..config(1)
            },
        );
        let mut epoch = loader.epoch(0);
        assert_eq!(epoch.len(), 64);
        assert_eq!(epoch.next().unwrap().len(), 1);
        assert_eq!(epoch.len(), 63);
        drop(epoch);
        drop(loader.epoch(1)); // never read
        let zero_prefetch = BatchLoader::new(
            noisy(4),
            (0..4).collect(),
            Arc::new(MultiView::identity()),
            ChannelStats::identity(3),
            LoaderConfig {
                prefetch: 0,
                ..config(1)
            },
        );
        assert_eq!(zero_prefetch.epoch(0).count(), 4);
    }

    #[test]
    fn an_empty_index_list_gives_no_batch() {
        let loader = BatchLoader::new(
            numbered(3),
            vec![],
            Arc::new(MultiView::identity()),
            ChannelStats::identity(1),
            config(2),
        );
        assert_eq!(loader.batches_per_epoch(), 0);
        assert_eq!(loader.epoch(0).count(), 0);
    }

    #[derive(Debug)]
    struct Explodes;

    impl Transform for Explodes {
        fn apply(&self, _: Image, _: &mut Rng) -> Image {
            panic!("augmentation failed");
        }
    }

    #[test]
    #[should_panic(expected = "augmentation failed")]
    fn a_panic_while_assembling_reaches_the_consumer() {
        let views = MultiView::new(vec![Pipeline::new(vec![Box::new(Explodes)])]);
        let loader = BatchLoader::new(
            numbered(4),
            (0..4).collect(),
            Arc::new(views),
            ChannelStats::identity(1),
            config(2),
        );
        let _ = loader.epoch(0).count();
    }

    #[test]
    fn view_tensor_holds_the_buffer() {
        let loader = augmenting(noisy(6), 4);
        let batch = loader.epoch(0).next().unwrap();
        let device = burn::tensor::Device::flex();
        let t = batch.view_tensor(1, &device);
        assert_eq!(t.dims(), [4, 3, 6, 6]);
        let values = t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(values, batch.views[1]);
    }

    #[test]
    fn into_view_tensors_moves_every_view() {
        let loader = augmenting(noisy(6), 4);
        let batch = loader.epoch(0).next().unwrap();
        let expected = batch.views.clone();
        let tensors = batch.into_view_tensors(&burn::tensor::Device::flex());
        assert_eq!(tensors.len(), expected.len());
        for (t, e) in tensors.into_iter().zip(&expected) {
            assert_eq!(t.dims(), [4, 3, 6, 6]);
            assert_eq!(&t.into_data().try_to_vec::<f32>().unwrap(), e);
        }
    }
}
