//! A seeded train/validation split of sample indices.
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// Shuffles `0..n` with `seed` and holds out `round(n * val_fraction)` indices
/// (at least one when `val_fraction > 0` and `n > 1`) for validation.
/// Returns `(train, validation)`, each sorted.
pub fn train_val_split(n: usize, val_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut crate::Rng::seed_from_u64(seed));
    let mut n_val = (n as f64 * val_fraction.clamp(0.0, 1.0)).round() as usize;
    if val_fraction > 0.0 && n > 1 {
        n_val = n_val.clamp(1, n - 1);
    }
    let mut val = idx.split_off(n - n_val);
    idx.sort_unstable();
    val.sort_unstable();
    (idx, val)
}

/// The stream a text task's held-out test set is drawn from.
const TEST_STREAM: u64 = 0x5445_5354;

/// The documents a task holds out as its test set when it has no test file:
/// `fraction` of `0..n`, drawn by the task's `seed`. Returns `(kept, test)`,
/// each sorted. Evaluation and pretraining corpora (a part's `test_fraction`)
/// both draw it here, so a corpus can leave out exactly a task's test set.
pub fn test_split(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    train_val_split(
        n,
        fraction,
        crate::transform::derive_seed(seed, TEST_STREAM),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_seeded_partition() {
        let (t, v) = train_val_split(100, 0.1, 7);
        assert_eq!((t.len(), v.len()), (90, 10));
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(train_val_split(100, 0.1, 7), (t.clone(), v.clone()));
        assert_ne!(train_val_split(100, 0.1, 8).1, v);
    }
}
