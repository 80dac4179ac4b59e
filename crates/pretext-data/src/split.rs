//! Seeded splits of sample indices: train/validation, and the test set a
//! task holds out of its pool when it has no test data.
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

/// The images an image task holds out as its test set when it has no test
/// data: in each class, `round(count * fraction)` of its images (at least one
/// and never all, for a class of two or more; none for a class of one),
/// drawn by the task's `seed`. Returns `(kept, test)`, each sorted; the
/// classes keep their shares in both.
pub fn stratified_test_split(labels: &[u32], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let stream = crate::transform::derive_seed(seed, TEST_STREAM);
    let (mut kept, mut test) = (Vec::new(), Vec::new());
    for (class, members) in by_class.iter().enumerate() {
        if members.len() < 2 {
            kept.extend(members);
            continue;
        }
        let (k, t) = train_val_split(
            members.len(),
            fraction,
            crate::transform::derive_seed(stream, class as u64),
        );
        kept.extend(k.iter().map(|&i| members[i]));
        test.extend(t.iter().map(|&i| members[i]));
    }
    kept.sort_unstable();
    test.sort_unstable();
    (kept, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_is_disjoint_seeded_and_keeps_class_shares() {
        // 3 classes of 50, 30 and 20 images, interleaved.
        let labels: Vec<u32> = (0..100u32)
            .map(|i| match i % 10 {
                0..=4 => 0,
                5..=7 => 1,
                _ => 2,
            })
            .collect();
        let (kept, test) = stratified_test_split(&labels, 0.2, 3);
        assert_eq!((kept.len(), test.len()), (80, 20));
        let mut all: Vec<usize> = kept.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        let count = |ix: &[usize], c: u32| ix.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!(
            [count(&test, 0), count(&test, 1), count(&test, 2)],
            [10, 6, 4]
        );
        assert_eq!(
            stratified_test_split(&labels, 0.2, 3),
            (kept.clone(), test.clone())
        );
        assert_ne!(stratified_test_split(&labels, 0.2, 4).1, test);
        // A class of one image stays in the pool.
        let (kept, test) = stratified_test_split(&[0, 0, 0, 1], 0.5, 0);
        assert!(kept.contains(&3) && !test.contains(&3), "{kept:?} {test:?}");
    }

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
