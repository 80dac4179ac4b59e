//! The skip-gram loss with negative sampling (Mikolov et al., 2013,
//! "Distributed Representations of Words and Phrases and their
//! Compositionality", eq. 4): a token's vector must score high against the
//! context vectors of the tokens around it and low against those of tokens
//! drawn at random,
//! `l = -log σ(v_c · u_o) - Σ_k log σ(-v_c · u_{n_k})`.
//!
//! A pair at distance `d` within a window of `w` counts `(w - d + 1) / w`,
//! the expected weight under word2vec's randomly shrunk windows. The
//! negatives are a pool of the batch's own tokens, shared by every token of
//! the batch, so they follow the corpus's token frequencies; the loss adds
//! `k` times the pool's mean term, the expectation of word2vec's `k`
//! negatives per pair. Both terms are batched matrix products.
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Bool, Int, Tensor, TensorData};

/// The weighted mean of `-log σ(v · u)` over the real pairs within `window`
/// of each other (both directions), plus `k` times the mean of
/// `-log σ(-v · u_p)` over every real token and every real entry `p` of
/// `pool`.
///
/// `pool` indexes the flattened `[b * l]` positions whose context vectors
/// are the negatives. Pool entries on padding, and padded tokens, count for
/// nothing.
///
/// # Shapes
/// - `centers`, `contexts`: `[b, l, d]`, each token's two vectors
/// - `mask`: `[b, l]`, true at real tokens
/// - `pool`: `[m]`
/// - output: `[1]`
///
/// # Panics
/// If the shapes disagree or `window` is 0.
pub fn skip_gram(
    centers: Tensor<3>,
    contexts: Tensor<3>,
    mask: Tensor<2, Bool>,
    window: usize,
    pool: Tensor<1, Int>,
    k: usize,
) -> Tensor<1> {
    let [b, l, d] = centers.dims();
    assert_eq!(
        contexts.dims(),
        [b, l, d],
        "skip_gram: contexts of another shape"
    );
    assert_eq!(mask.dims(), [b, l], "skip_gram: mask of another shape");
    assert!(window > 0, "skip_gram: window must be at least 1");
    let device = centers.device();
    let real = mask.float(); // [b, l]
    let n = b * l;

    // Every pair of positions in a sentence at once, weighted by distance.
    let band: Vec<f32> = (0..l * l)
        .map(|ij| {
            let dist = (ij / l).abs_diff(ij % l);
            if dist == 0 || dist > window {
                0.0
            } else {
                (window - dist + 1) as f32 / window as f32
            }
        })
        .collect();
    let band = Tensor::<3>::from_data(TensorData::new(band, [1, l, l]), &device);
    let weights = band * real.clone().reshape([b, l, 1]) * real.clone().reshape([b, 1, l]);
    let scores = centers.clone().matmul(contexts.clone().swap_dims(1, 2)); // [b, l, l]
    let positive = (-log_sigmoid(scores) * weights.clone()).sum() / weights.sum().clamp_min(1e-6);

    let [m] = pool.dims();
    let real = real.reshape([n]);
    let drawn = contexts.reshape([n, d]).select(0, pool.clone()); // [m, d]
    let scores = centers.reshape([n, d]).matmul(drawn.transpose()); // [n, m]
    let counted = real.clone().reshape([n, 1]) * real.select(0, pool).reshape([1, m]);
    let negative = (-log_sigmoid(-scores) * counted.clone()).sum() / counted.sum().clamp_min(1.0);
    positive + negative * k as f32
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    fn t3(values: &[f32], shape: [usize; 3], d: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(values.to_vec(), shape), d)
    }

    #[test]
    fn matches_the_reference_value() {
        // One sentence of 3 real tokens and one pad, d = 2, window 2, one negative each.
        // numpy:
        //   ls = lambda x: -np.log1p(np.exp(-x))
        //   v = np.array([[1, 0], [0, 1], [1, 1], [9, 9]]); u = np.array([[.5, -1], [1, .5], [-.5, .5], [9, 9]])
        //   pairs (weight): (0,1) 1, (1,2) 1, (0,2) .5, each both ways
        //   pos = -(sum(w * (ls(v[i]@u[j]) + ls(v[j]@u[i])))) / (2 * 2.5)
        //   pool = [2, 0, 3]: positions 2 and 0 real, 3 padding; k = 2
        //   neg = -mean(ls(-v[c]@u[p]) for c in 0..3 for p in (2, 0))
        //   pos + 2 * neg -> 1.9561237258754143
        let d = Device::flex();
        let v = t3(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 9.0, 9.0], [1, 4, 2], &d);
        let u = t3(&[0.5, -1.0, 1.0, 0.5, -0.5, 0.5, 9.0, 9.0], [1, 4, 2], &d);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true, true, true, false], [1, 4]),
            &d,
        );
        let pool = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0, 3], [3]), &d);
        let value: f32 = skip_gram(v, u, mask, 2, pool, 2).into_scalar();
        let ls = |x: f64| -(1.0 + (-x).exp()).ln();
        let (v, u) = (
            [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
            [[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5]],
        );
        let dotp = |a: [f64; 2], b: [f64; 2]| a[0] * b[0] + a[1] * b[1];
        let pos = -([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 0.5)]
            .iter()
            .map(|&(i, j, w)| w * (ls(dotp(v[i], u[j])) + ls(dotp(v[j], u[i]))))
            .sum::<f64>())
            / 5.0;
        let neg = -(0..3)
            .flat_map(|c| [2, 0].map(|p| ls(-dotp(v[c], u[p]))))
            .sum::<f64>()
            / 6.0;
        let want = pos + 2.0 * neg;
        assert!((value as f64 - want).abs() < 1e-5, "{value} vs {want}");
        assert!(
            (want - 1.956_123_7).abs() < 1e-5,
            "the numpy figure: {want}"
        );
    }

    #[test]
    fn padding_changes_nothing() {
        let d = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 3);
        let dist = burn::tensor::Distribution::Normal(0.0, 1.0);
        let v = Tensor::<3>::random([2, 5, 4], dist, &d);
        let u = Tensor::<3>::random([2, 5, 4], dist, &d);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::new(
                vec![
                    true, true, true, false, false, true, true, true, true, false,
                ],
                [2, 5],
            ),
            &d,
        );
        let pool = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 3, 4, 6, 9], [5]), &d);
        let a: f32 =
            skip_gram(v.clone(), u.clone(), mask.clone(), 3, pool.clone(), 5).into_scalar();
        // Whatever sits at padded positions is ignored.
        let pad = mask.clone().bool_not().float().unsqueeze_dim::<3>(2) * 100.0;
        let b: f32 = skip_gram(v + pad.clone(), u + pad, mask, 3, pool, 5).into_scalar();
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}
