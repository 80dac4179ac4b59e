//! The weighted k-nearest-neighbour classifier of Wu et al. 2018
//! ("Unsupervised Feature Learning via Non-Parametric Instance
//! Discrimination", InstDisc), as used by DINO (Caron et al. 2021) to
//! evaluate frozen features: rows are compared by cosine similarity, the `k`
//! most similar training rows vote for their label with weight
//! `exp(sim / temperature)`, and the class with the largest summed vote wins
//! (the lowest class on ties).
//!
//! Several `k` are answered from one similarity pass: each query's
//! similarities to all training rows are computed (blocked over queries and
//! training rows so a block of training rows stays in cache), the `max k`
//! most similar rows are found (a cheap lower bound on the `max k`-th
//! similarity first cuts the candidates, which are then partially selected
//! with `select_nth_unstable_by` and sorted), and the votes of each requested
//! `k` are summed from that prefix. Queries run in parallel (rayon); the
//! result does not depend on the number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{Features, argmax};

/// Queries handled together (one parallel task).
const QUERY_BLOCK: usize = 32;
/// Training rows compared with a query block while they stay in cache.
const TRAIN_BLOCK: usize = 256;

/// Settings of the kNN classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnnConfig {
    /// Neighbour counts, each answered separately (default [20, 200]).
    pub k: Vec<usize>,
    /// Vote temperature: a neighbour votes `exp(similarity / temperature)` (default 0.07).
    pub temperature: f32,
}

impl Default for KnnConfig {
    fn default() -> Self {
        Self {
            k: vec![20, 200],
            temperature: 0.07,
        }
    }
}

impl KnnConfig {
    /// Checks the settings: a non-empty `k` list of values `>= 1` and a finite
    /// `temperature > 0`.
    pub fn validate(&self) -> Result<(), String> {
        if self.k.is_empty() {
            return Err("knn.k must not be empty".into());
        }
        if self.k.contains(&0) {
            return Err("knn.k values must be at least 1".into());
        }
        if !self.temperature.is_finite() || self.temperature <= 0.0 {
            return Err(format!(
                "knn.temperature must be finite and > 0, got {}",
                self.temperature
            ));
        }
        Ok(())
    }
}

/// Predictions for each k in `config.k` (outer vec in the order of config.k,
/// inner one per query row). A `k` above the number of training rows uses
/// them all. Among equally similar training rows the earlier one is nearer.
///
/// # Panics
/// On an invalid `config`, an empty training set, mismatched lengths or
/// dimensions, `classes == 0` or a label `>= classes` — callers check input.
pub fn knn_predict(
    train: &Features,
    train_labels: &[u32],
    query: &Features,
    classes: usize,
    config: &KnnConfig,
) -> Vec<Vec<u32>> {
    if let Err(e) = config.validate() {
        panic!("knn_predict: {e}");
    }
    assert!(classes >= 1, "knn_predict: need at least one class");
    assert!(train.rows > 0, "knn_predict: empty training set");
    assert_eq!(
        train.rows,
        train_labels.len(),
        "knn_predict: {} training rows, {} labels",
        train.rows,
        train_labels.len()
    );
    assert_eq!(
        train.dim, query.dim,
        "knn_predict: training dim {} but query dim {}",
        train.dim, query.dim
    );
    if let Some(l) = train_labels.iter().find(|&&l| l as usize >= classes) {
        panic!("knn_predict: label {l} but only {classes} classes");
    }

    let train = ColumnBlocks::new(&train.l2_normalized());
    let query = query.l2_normalized();
    let n = train.rows;
    let ks: Vec<usize> = config.k.iter().map(|&k| k.min(n)).collect();
    let k_max = ks.iter().copied().max().expect("k is not empty");
    let inv_temperature = 1.0 / config.temperature;
    let nk = ks.len();

    // predictions[q * nk + i]: query q, k = ks[i].
    let mut predictions = vec![0u32; query.rows * nk];
    for_each_nearest(
        &query,
        &train,
        k_max,
        nk,
        &mut predictions,
        |_, nearest, preds| {
            // Votes relative to the most similar row: exp((s - s₀)/T) is
            // exp(s/T) scaled by one constant, and never overflows.
            let top = nearest.first().map_or(0.0, |p| p.0);
            let mut votes = vec![0.0f32; classes];
            for (pred, &k) in preds.iter_mut().zip(&ks) {
                votes.fill(0.0);
                for &(s, j) in &nearest[..k.min(nearest.len())] {
                    votes[train_labels[j as usize] as usize] += ((s - top) * inv_temperature).exp();
                }
                *pred = argmax(&votes) as u32;
            }
        },
    );

    (0..nk)
        .map(|i| predictions.iter().skip(i).step_by(nk).copied().collect())
        .collect()
}

/// For each row of `rows`, the `k` other rows most similar to it by cosine
/// similarity, most similar first (the lower row first among equals): `k`
/// row indices per row, in row order. The same search as [`knn_predict`],
/// with each row its own query.
///
/// # Panics
/// If `k` is 0 or not below the number of rows (callers check input).
pub fn neighbours_within(rows: &Features, k: usize) -> Vec<u32> {
    assert!(
        k >= 1 && k < rows.rows,
        "neighbours_within: k = {k} for {} rows",
        rows.rows
    );
    let normalized = rows.l2_normalized();
    let columns = ColumnBlocks::new(&normalized);
    let mut table = vec![0u32; rows.rows * k];
    // k + 1 nearest, the row itself among them unless k + 1 others tie it.
    for_each_nearest(
        &normalized,
        &columns,
        k + 1,
        k,
        &mut table,
        |me, nearest, out| {
            let others = nearest.iter().filter(|p| p.1 as usize != me);
            for (slot, &(_, j)) in out.iter_mut().zip(others) {
                *slot = j;
            }
        },
    );
    table
}

/// For every row of `query`, finds its `k` most similar rows of `train`
/// ([`Nearest::find`]) and calls `answer(row, nearest, out)` with the row's
/// `width` values of `out`. Blocks of queries run in parallel (rayon); each
/// row's answer does not depend on the number of threads.
fn for_each_nearest(
    query: &Features,
    train: &ColumnBlocks,
    k: usize,
    width: usize,
    out: &mut [u32],
    answer: impl Fn(usize, &[(f32, u32)], &mut [u32]) + Sync,
) {
    let n = train.rows;
    out.par_chunks_mut(QUERY_BLOCK * width)
        .enumerate()
        .for_each(|(block, out)| {
            let first = block * QUERY_BLOCK;
            let count = out.len() / width;
            let mut sims = vec![0.0f32; count * n];
            similarities(query, first, count, train, &mut sims);
            let mut nearest = Nearest::default();
            for (r, (row_sims, row_out)) in sims
                .chunks_exact(n)
                .zip(out.chunks_exact_mut(width))
                .enumerate()
            {
                answer(first + r, nearest.find(row_sims, k), row_out);
            }
        });
}

/// Buffers for finding a query's most similar training rows.
#[derive(Default)]
struct Nearest {
    maxima: Vec<f32>,
    candidates: Vec<(f32, u32)>,
}

impl Nearest {
    /// The `k` (`1 <= k <= sims.len()`) most similar rows as (similarity,
    /// row) pairs, most similar first (see [`nearer_first`]). Rows whose
    /// similarity is NaN are never neighbours, so fewer than `k` come back
    /// when more than `sims.len() - k` are NaN.
    ///
    /// The rows are first cut to those at least as similar as the `k`-th
    /// largest of the maxima of `>= k` groups of rows — a lower bound on the
    /// `k`-th largest similarity, since `k` distinct rows reach it — which
    /// leaves a few times `k` candidates instead of every row; those are
    /// partially selected (`select_nth_unstable_by`) and sorted.
    fn find(&mut self, sims: &[f32], k: usize) -> &[(f32, u32)] {
        let group = (sims.len() / (2 * k)).max(1);
        self.maxima.clear();
        self.maxima.extend(
            sims.chunks(group)
                .map(|g| g.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
        );
        let (_, &mut bound, _) = self
            .maxima
            .select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        self.candidates.clear();
        self.candidates.extend(
            sims.iter()
                .enumerate()
                .filter(|&(_, &s)| s >= bound)
                .map(|(j, &s)| (s, j as u32)),
        );
        if k < self.candidates.len() {
            self.candidates.select_nth_unstable_by(k - 1, nearer_first);
            self.candidates.truncate(k);
        }
        self.candidates.sort_unstable_by(nearer_first);
        &self.candidates
    }
}

/// Orders (similarity, row) pairs from the most similar; the lower row first
/// among equals, so the selected neighbours are unique.
fn nearer_first(a: &(f32, u32), b: &(f32, u32)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The training rows regrouped for [`similarities`]: consecutive blocks of
/// `TRAIN_BLOCK` rows (the last one shorter), each stored dimension-major, so
/// that a query's similarities to a block are sums of scaled contiguous
/// columns — element-wise loops the compiler vectorises, with no reordered
/// floating-point sums.
struct ColumnBlocks {
    rows: usize,
    dim: usize,
    /// Block `b` (rows `b·TRAIN_BLOCK..`, `m` of them) holds at
    /// `b·TRAIN_BLOCK·dim + j·m + t` feature `j` of its row `t`.
    data: Vec<f32>,
}

impl ColumnBlocks {
    fn new(train: &Features) -> Self {
        let (n, d) = (train.rows, train.dim);
        let mut data = vec![0.0f32; n * d];
        if d > 0 {
            data.par_chunks_mut(TRAIN_BLOCK * d)
                .zip(train.data.par_chunks(TRAIN_BLOCK * d))
                .for_each(|(block, rows)| {
                    let m = rows.len() / d;
                    for (t, row) in rows.chunks_exact(d).enumerate() {
                        for (j, &v) in row.iter().enumerate() {
                            block[j * m + t] = v;
                        }
                    }
                });
        }
        Self {
            rows: n,
            dim: d,
            data,
        }
    }
}

/// `sims[r * train.rows + i]` = `queries.row(first + r) · train.row(i)` for
/// `r < count`, one training block at a time, so each block is read from
/// memory once for all `count` queries and then served from cache.
fn similarities(
    queries: &Features,
    first: usize,
    count: usize,
    train: &ColumnBlocks,
    sims: &mut [f32],
) {
    let (n, d) = (train.rows, train.dim);
    sims.fill(0.0);
    if d == 0 {
        return;
    }
    for start in (0..n).step_by(TRAIN_BLOCK) {
        let end = (start + TRAIN_BLOCK).min(n);
        let m = end - start;
        let block = &train.data[start * d..end * d];
        for r in 0..count {
            let out = &mut sims[r * n + start..r * n + end];
            for (&qj, column) in queries.row(first + r).iter().zip(block.chunks_exact(m)) {
                for (o, &v) in out.iter_mut().zip(column) {
                    *o += qj * v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn config(k: &[usize], temperature: f32) -> KnnConfig {
        KnnConfig {
            k: k.to_vec(),
            temperature,
        }
    }

    #[test]
    fn neighbours_within_are_the_nearest_others_in_order() {
        // Angles 0, 0.1, 0.3, 1.0, 1.05: each row's nearest other rows.
        let rows = at_angles(&[0.0, 0.1, 0.3, 1.0, 1.05]);
        assert_eq!(neighbours_within(&rows, 2), [1, 2, 0, 2, 1, 0, 4, 2, 3, 2]);
        // On clusters, every neighbour shares its row's class.
        let (data, labels) = axis_clusters(4, 30, 6, 3);
        let table = neighbours_within(&data, 5);
        for (i, row) in table.chunks_exact(5).enumerate() {
            assert!(
                row.iter()
                    .all(|&j| j as usize != i && labels[j as usize] == labels[i])
            );
        }
    }

    /// 2-D unit vectors at the given angles (radians).
    fn at_angles(angles: &[f32]) -> Features {
        let data = angles.iter().flat_map(|a| [a.cos(), a.sin()]).collect();
        Features::new(angles.len(), 2, data)
    }

    /// `per_class` rows per class near axis `c` of `dim` (noise ±0.3 on every
    /// coordinate, random positive scale, which cosine similarity ignores).
    fn axis_clusters(
        classes: usize,
        per_class: usize,
        dim: usize,
        seed: u64,
    ) -> (Features, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for c in 0..classes {
            for _ in 0..per_class {
                let scale = rng.random_range(0.5f32..5.0);
                for j in 0..dim {
                    let base = if j == c { 1.0 } else { 0.0 };
                    data.push(scale * (base + rng.random_range(-0.3f32..0.3)));
                }
                labels.push(c as u32);
            }
        }
        (Features::new(labels.len(), dim, data), labels)
    }

    /// The classifier written out directly: every similarity, a full sort.
    fn naive(
        train: &Features,
        labels: &[u32],
        query: &Features,
        classes: usize,
        k: usize,
        t: f32,
    ) -> Vec<u32> {
        let (train, query) = (train.l2_normalized(), query.l2_normalized());
        (0..query.rows)
            .map(|i| {
                let mut sims: Vec<(f32, usize)> = (0..train.rows)
                    .map(|j| {
                        (
                            query
                                .row(i)
                                .iter()
                                .zip(train.row(j))
                                .map(|(a, b)| a * b)
                                .sum(),
                            j,
                        )
                    })
                    .collect();
                sims.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut votes = vec![0.0f64; classes];
                for &(s, j) in sims.iter().take(k) {
                    votes[labels[j] as usize] += (f64::from(s) / f64::from(t)).exp();
                }
                let best = votes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                votes.iter().position(|&v| v == best).unwrap() as u32
            })
            .collect()
    }

    #[test]
    fn clusters_on_distinct_directions_are_classified_perfectly() {
        let (train, train_labels) = axis_clusters(3, 30, 5, 1);
        let (query, query_labels) = axis_clusters(3, 20, 5, 2);
        let preds = knn_predict(&train, &train_labels, &query, 3, &config(&[1, 5, 20], 0.07));
        assert_eq!(preds.len(), 3);
        for p in &preds {
            assert_eq!(p, &query_labels);
        }
    }

    #[test]
    fn one_neighbour_and_many_neighbours_can_disagree() {
        // The single nearest row is class 0; the next five are class 1.
        let train = at_angles(&[0.01, 0.2, -0.2, 0.25, -0.25, 0.3, 3.0, 3.1]);
        let labels = [0, 1, 1, 1, 1, 1, 0, 0];
        let query = at_angles(&[0.0]);
        let preds = knn_predict(&train, &labels, &query, 2, &config(&[1, 6, 8], 0.07));
        assert_eq!(preds, vec![vec![0], vec![1], vec![1]]);
        // And the order of config.k is kept.
        let preds = knn_predict(&train, &labels, &query, 2, &config(&[6, 1], 0.07));
        assert_eq!(preds, vec![vec![1], vec![0]]);
    }

    #[test]
    fn low_temperature_lets_close_neighbours_outvote_many_far_ones() {
        // Two class-0 rows almost on the query, five class-1 rows further off.
        let train = at_angles(&[0.02, -0.02, 0.4, -0.4, 0.45, -0.45, 0.5]);
        let labels = [0, 0, 1, 1, 1, 1, 1];
        let query = at_angles(&[0.0]);
        let cold = knn_predict(&train, &labels, &query, 2, &config(&[7], 0.01));
        let hot = knn_predict(&train, &labels, &query, 2, &config(&[7], 10.0));
        assert_eq!(cold, vec![vec![0]]);
        assert_eq!(hot, vec![vec![1]]);
    }

    #[test]
    fn k_above_the_training_size_uses_every_row() {
        let train = at_angles(&[0.0, 1.0, 1.1]);
        let labels = [2, 1, 1];
        let query = at_angles(&[0.1, 1.05]);
        let preds = knn_predict(&train, &labels, &query, 3, &config(&[100, 3, 1], 2.0));
        assert_eq!(preds[0], preds[1]);
        assert_eq!(preds[0], vec![1, 1]);
        assert_eq!(preds[2], vec![2, 1]);
    }

    #[test]
    fn ties_go_to_the_lowest_class() {
        // Two rows equally similar to the query, of classes 2 and 1.
        let train = at_angles(&[0.3, -0.3]);
        let query = at_angles(&[0.0]);
        let preds = knn_predict(&train, &[2, 1], &query, 3, &config(&[2], 0.07));
        assert_eq!(preds, vec![vec![1]]);
    }

    #[test]
    fn matches_a_direct_implementation_on_random_data() {
        // Sizes off every block boundary: rows not a multiple of 4 or of the
        // training block, dims not a multiple of the lanes, > 1 query block.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (rows, dim, queries, classes) = (TRAIN_BLOCK + 45, 13, QUERY_BLOCK * 2 + 7, 4);
        let random = |rng: &mut ChaCha8Rng, r: usize| {
            let data = (0..r * dim)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            Features::new(r, dim, data)
        };
        let train = random(&mut rng, rows);
        let query = random(&mut rng, queries);
        let labels: Vec<u32> = (0..rows)
            .map(|_| rng.random_range(0..classes as u32))
            .collect();
        let ks = [1, 7, 50, 1000];
        let preds = knn_predict(&train, &labels, &query, classes, &config(&ks, 0.1));
        for (p, &k) in preds.iter().zip(&ks) {
            assert_eq!(
                p,
                &naive(&train, &labels, &query, classes, k, 0.1),
                "k = {k}"
            );
        }
        // Not every query gets the same answer.
        assert!(preds[1].iter().any(|&p| p != preds[1][0]));
    }

    #[test]
    fn nearest_matches_a_full_sort_with_ties_and_nan() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        // Few distinct values, so many ties; some NaN.
        let sims: Vec<f32> = (0..500)
            .map(|_| match rng.random_range(0..12) {
                0 => f32::NAN,
                v => v as f32 / 10.0 - 0.5,
            })
            .collect();
        let mut all: Vec<(f32, u32)> = sims
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_nan())
            .map(|(j, &s)| (s, j as u32))
            .collect();
        all.sort_by(nearer_first);
        let mut nearest = Nearest::default();
        for k in [1, 2, 7, 100, 250, 400, 500] {
            let found = nearest.find(&sims, k);
            assert_eq!(found, &all[..k.min(all.len())], "k = {k}");
        }
        assert_eq!(nearest.find(&[f32::NAN, f32::NAN], 2), &[]);
    }

    #[test]
    fn empty_query_gives_empty_predictions() {
        let train = at_angles(&[0.0, 1.0]);
        let query = Features::new(0, 2, vec![]);
        let preds = knn_predict(&train, &[0, 1], &query, 2, &config(&[1, 5], 0.07));
        assert_eq!(preds, vec![Vec::<u32>::new(), Vec::new()]);
    }

    #[test]
    fn config_validation_names_the_problem() {
        assert_eq!(KnnConfig::default().validate(), Ok(()));
        assert_eq!(
            config(&[], 0.07).validate().unwrap_err(),
            "knn.k must not be empty"
        );
        assert_eq!(
            config(&[5, 0], 0.07).validate().unwrap_err(),
            "knn.k values must be at least 1"
        );
        for t in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(
                config(&[5], t)
                    .validate()
                    .unwrap_err()
                    .starts_with("knn.temperature")
            );
        }
        let c: KnnConfig = serde_json::from_str(r#"{"k": [3]}"#).unwrap();
        assert_eq!(c, config(&[3], 0.07));
        assert!(serde_json::from_str::<KnnConfig>(r#"{"kk": [3]}"#).is_err());
    }
}
