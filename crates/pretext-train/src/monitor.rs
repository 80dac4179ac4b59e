//! The accuracy monitor: how good the encoder's features are while it
//! trains, as solo-learn's and lightly's online kNN show. Every
//! `monitor.every` epochs, and after the last, the frozen encoder embeds a
//! labelled slice of the validation split (clean images, normalised as in
//! training), and a weighted kNN classifier scores them: cosine similarity,
//! each of the `k` most similar images voting `exp(similarity /
//! temperature)` for its class, as the evaluation's kNN does, every slice
//! image classified from the others (leave one out).
//!
//! The validation split never enters training, and its labels are read for
//! the monitor alone. The encoder runs in inference mode, on no random
//! stream: a run with the monitor on trains the weights it trains with the
//! monitor off.
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::{BatchLoader, ChannelStats, ImageDataset};
use pretext_methods::loss::l2_normalize;
use pretext_nn::Encoder;
use pretext_runs::KnnReading;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// Images in the slice when `monitor.size` is not set: the validation split,
/// up to this many.
pub const DEFAULT_MONITOR_SIZE: usize = 5000;

/// Query rows whose similarities are computed together.
const BLOCK: usize = 512;

/// Settings of the accuracy monitor (`[monitor]` in an experiment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// Whether it runs when the data has labels (default true).
    pub enabled: bool,
    /// Score every this many epochs (default 1); the last epoch is always scored.
    pub every: usize,
    /// Images of the labelled slice, drawn from the validation split under
    /// the run's seed (default: the split, at most 5,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    /// Neighbour counts, each scored (default [20, 200]).
    pub k: Vec<usize>,
    /// Vote temperature (default 0.07).
    pub temperature: f32,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every: 1,
            size: None,
            k: vec![20, 200],
            temperature: 0.07,
        }
    }
}

impl MonitorConfig {
    /// Checks the settings, naming the key at fault.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.every == 0 {
            return Err("monitor.every must be at least 1, got 0".into());
        }
        if self.k.is_empty() || self.k.contains(&0) {
            return Err(format!(
                "monitor.k must list neighbour counts of at least 1, got {:?}",
                self.k
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "monitor.temperature must be finite and > 0, got {}",
                self.temperature
            ));
        }
        if let Some(size) = self.size
            && size < 2
        {
            return Err(format!("monitor.size must be at least 2, got {size}"));
        }
        Ok(())
    }
}

/// Whether a run has a monitor, and if not, why.
pub(crate) enum MonitorPlan {
    /// It runs.
    On(Box<Monitor>),
    /// It does not; the line says why (`None`: the experiment turned it off).
    Off(Option<String>),
}

/// A monitor ready to score: the slice's images and labels.
pub(crate) struct Monitor {
    loader: BatchLoader,
    labels: Vec<u32>,
    classes: usize,
    config: MonitorConfig,
}

impl MonitorPlan {
    /// The monitor of a run on `data`, whose labels (if any) are `labels`,
    /// with validation split `val` (`val_fraction` of the data). A slice
    /// larger than the split is an error naming `monitor.size`.
    pub fn new(
        config: &MonitorConfig,
        data: &Arc<ImageDataset>,
        labels: Option<&[u32]>,
        val: &[usize],
        val_fraction: f64,
        stats: &ChannelStats,
        seed: u64,
    ) -> Result<Self, String> {
        if !config.enabled {
            return Ok(Self::Off(None));
        }
        let Some(labels) = labels else {
            return Ok(Self::Off(Some(
                "monitor: off, the data has no labels (it scores a kNN classifier on a \
                 labelled slice of the validation split)"
                    .into(),
            )));
        };
        if let Some(size) = config.size
            && size > val.len()
        {
            return Err(format!(
                "monitor.size ({size}) is larger than the labelled validation split the slice \
                 is drawn from ({} images, train.val_fraction = {val_fraction})",
                val.len()
            ));
        }
        if val.len() < 2 {
            return Ok(Self::Off(Some(format!(
                "monitor: off, the validation split holds {} images (train.val_fraction = \
                 {val_fraction}); the monitor's labelled slice is drawn from it",
                val.len()
            ))));
        }
        let size = config.size.unwrap_or(DEFAULT_MONITOR_SIZE.min(val.len()));
        let slice = draw_slice(val, size, seed);
        let slice_labels: Vec<u32> = slice.iter().map(|&i| labels[i]).collect();
        let classes = slice_labels
            .iter()
            .map(|&l| l as usize + 1)
            .max()
            .unwrap_or(0);
        let distinct = {
            let mut seen = vec![false; classes];
            slice_labels.iter().for_each(|&l| seen[l as usize] = true);
            seen.iter().filter(|&&s| s).count()
        };
        if distinct < 2 {
            return Ok(Self::Off(Some(format!(
                "monitor: off, its slice of {size} validation images holds one class"
            ))));
        }
        Ok(Self::On(Box::new(Monitor {
            loader: BatchLoader::plain(data.clone(), slice, stats.clone()),
            labels: slice_labels,
            classes,
            config: config.clone(),
        })))
    }
}

/// `size` of the validation indices `val`, drawn under `seed` and sorted (the
/// split is sorted by index, which in a class-folder dataset is by class).
fn draw_slice(val: &[usize], size: usize, seed: u64) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(pretext_data::transform::derive_seed(
        seed,
        0x6d6f_6e69,
    ));
    let mut slice = val.to_vec();
    slice.shuffle(&mut rng);
    slice.truncate(size);
    slice.sort_unstable();
    slice
}

impl Monitor {
    /// Images in the slice.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Scores every this many epochs.
    pub fn every(&self) -> usize {
        self.config.every
    }

    /// Whether epoch `epoch` of `last` is scored.
    pub fn due(&self, epoch: usize, last: usize) -> bool {
        epoch.is_multiple_of(self.config.every) || epoch == last
    }

    /// The kNN accuracy of `encoder`'s features (in inference mode) on the
    /// slice, for each `k`.
    pub fn score(&self, encoder: &Encoder, device: &Device) -> Vec<KnnReading> {
        let parts: Vec<Tensor<2>> = self
            .loader
            .epoch(0)
            .map(|batch| encoder.forward(batch.into_view_tensors(device).remove(0)))
            .collect();
        leave_one_out_knn(
            l2_normalize(Tensor::cat(parts, 0)),
            &self.labels,
            self.classes,
            &self.config.k,
            self.config.temperature,
        )
    }
}

/// Leave-one-out accuracy of the weighted kNN classifier on the unit rows
/// `h` (`[m, d]`) with `labels` below `classes`, for each of `ks`: each row
/// is classified by its `k` most similar other rows (all of them where
/// fewer), each voting `exp(similarity / temperature)`; the lowest class
/// wins ties.
pub fn leave_one_out_knn(
    h: Tensor<2>,
    labels: &[u32],
    classes: usize,
    ks: &[usize],
    temperature: f32,
) -> Vec<KnnReading> {
    let [m, _] = h.dims();
    assert_eq!(m, labels.len(), "one label per row");
    assert!(m >= 2, "leave-one-out needs two rows");
    let ks: Vec<usize> = ks.iter().map(|&k| k.min(m - 1)).collect();
    let most = ks.iter().copied().max().unwrap_or(1);
    let mut correct = vec![0usize; ks.len()];
    let ht = h.clone().transpose();
    for start in (0..m).step_by(BLOCK) {
        let rows = BLOCK.min(m - start);
        let sims: Vec<f32> = h
            .clone()
            .narrow(0, start, rows)
            .matmul(ht.clone())
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("similarities are float");
        for (r, row) in sims.chunks_exact(m).enumerate() {
            let i = start + r;
            let mut near: Vec<usize> = (0..m).filter(|&j| j != i).collect();
            let by_similarity = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
            if most < near.len() {
                near.select_nth_unstable_by(most - 1, by_similarity);
                near.truncate(most);
            }
            near.sort_unstable_by(by_similarity);
            for (slot, &k) in ks.iter().enumerate() {
                let mut votes = vec![0f64; classes];
                for &j in &near[..k] {
                    votes[labels[j] as usize] += f64::from(row[j] / temperature).exp();
                }
                let predicted = votes
                    .iter()
                    .enumerate()
                    .fold(0, |best, (c, &v)| if v > votes[best] { c } else { best });
                correct[slot] += usize::from(predicted == labels[i] as usize);
            }
        }
    }
    ks.iter()
        .zip(correct)
        .map(|(&k, c)| KnnReading {
            k,
            accuracy: c as f32 / m as f32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_rows(rows: &[[f32; 2]], device: &Device) -> Tensor<2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        l2_normalize(Tensor::from_data(
            burn::tensor::TensorData::new(flat, [rows.len(), 2]),
            device,
        ))
    }

    #[test]
    fn leave_one_out_scores_by_hand() {
        let device = Device::flex();
        // Two tight clusters and one row of class 0 sitting in class 1's cluster.
        let h = unit_rows(
            &[
                [1.0, 0.0],
                [1.0, 0.1],
                [1.0, -0.1],
                [0.0, 1.0],
                [0.1, 1.0],
                [-0.05, 1.0],
            ],
            &device,
        );
        let labels = [0, 0, 0, 1, 1, 0];
        let r = leave_one_out_knn(h, &labels, 2, &[1, 3, 100], 0.07);
        // k=1: rows 0-2 right; row 3's nearest is row 5 (class 0): wrong; row 4's
        // nearest is row 3: right; row 5's nearest is row 3 (class 1): wrong.
        assert_eq!(
            r[0],
            KnnReading {
                k: 1,
                accuracy: 4.0 / 6.0
            }
        );
        // k=3: row 4's neighbours are row 3 (class 1, nearest), row 5 and row 1
        // (class 0): a plain majority says 0, the weighted vote says 1 (right).
        // Rows 3 and 5 stay wrong.
        assert_eq!(
            r[1],
            KnnReading {
                k: 3,
                accuracy: 4.0 / 6.0
            }
        );
        // k above the slice: every other row votes; k says so.
        assert_eq!(r[2].k, 5);
    }

    #[test]
    fn slice_is_drawn_from_the_validation_split_under_the_seed() {
        let val: Vec<usize> = (100..200).collect();
        let a = draw_slice(&val, 30, 7);
        assert_eq!(a, draw_slice(&val, 30, 7));
        assert_ne!(a, draw_slice(&val, 30, 8));
        assert_eq!(a.len(), 30);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|i| val.contains(i)));
        // Not the first 30 of the split: a class-sorted folder would give one class.
        assert_ne!(a, val[..30].to_vec());
    }

    #[test]
    fn settings_name_the_key_at_fault() {
        let zero = MonitorConfig {
            every: 0,
            ..MonitorConfig::default()
        };
        assert!(zero.validate().unwrap_err().contains("monitor.every"));
        let k = MonitorConfig {
            k: vec![],
            ..MonitorConfig::default()
        };
        assert!(k.validate().unwrap_err().contains("monitor.k"));
        assert!(MonitorConfig::default().validate().is_ok());
    }
}
