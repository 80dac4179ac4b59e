//! Nearest neighbours in embedding space by cosine similarity, over a
//! sample of plain embeddings (a few queries against a thousand images: a
//! direct scan is enough).

/// For each query row, the `k` most cosine-similar other rows of
/// `embeddings` (`rows × dim`, row-major), most similar first.
pub fn nearest(embeddings: &[f32], dim: usize, queries: &[usize], k: usize) -> Vec<Vec<usize>> {
    assert!(
        dim > 0 && embeddings.len().is_multiple_of(dim),
        "embeddings are rows × {dim}"
    );
    let rows = embeddings.len() / dim;
    let row = |i: usize| &embeddings[i * dim..(i + 1) * dim];
    let norms: Vec<f32> = (0..rows)
        .map(|i| row(i).iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12))
        .collect();
    queries
        .iter()
        .map(|&q| {
            let mut scored: Vec<(f32, usize)> = (0..rows)
                .filter(|&j| j != q)
                .map(|j| {
                    let dot: f32 = row(q).iter().zip(row(j)).map(|(a, b)| a * b).sum();
                    (dot / (norms[q] * norms[j]), j)
                })
                .collect();
            // Most similar first; ties by index, so the order is deterministic.
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.into_iter().take(k).map(|(_, j)| j).collect()
        })
        .collect()
}

/// Queries spread over the classes present in `labels`: the first
/// `max / classes` rows of each class (at least one), taken round-robin in
/// class order, at most `max`; without labels, the first `max` rows.
pub fn queries(labels: Option<&[u32]>, rows: usize, max: usize) -> Vec<usize> {
    match labels {
        None => (0..rows.min(max)).collect(),
        Some(labels) => {
            let mut classes = labels.to_vec();
            classes.sort_unstable();
            classes.dedup();
            let per_class = (max / classes.len().max(1)).max(1);
            let by_class: Vec<Vec<usize>> = classes
                .iter()
                .map(|&c| {
                    (0..labels.len())
                        .filter(|&i| labels[i] == c)
                        .take(per_class)
                        .collect()
                })
                .collect();
            let mut out: Vec<usize> = (0..per_class)
                .flat_map(|round| {
                    by_class
                        .iter()
                        .filter_map(move |rows| rows.get(round).copied())
                })
                .collect();
            out.truncate(max);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ranks_by_angle_not_length() {
        // Row 0 is the query; row 2 points the same way but is long, row 1 is
        // closer in Euclidean distance but at an angle.
        let e = [1.0, 0.0, 0.9, 0.6, 10.0, 0.1, 0.0, 1.0];
        assert_eq!(nearest(&e, 2, &[0], 3), vec![vec![2, 1, 3]]);
    }

    #[test]
    fn queries_spread_over_the_classes() {
        // Class order first (0, 1, 3), then each class's next rows.
        assert_eq!(queries(Some(&[3, 1, 3, 0, 1]), 5, 10), vec![3, 1, 0, 4, 2]);
        assert_eq!(queries(Some(&[3, 1, 3, 0, 1]), 5, 3), vec![3, 1, 0]);
        assert_eq!(queries(Some(&[3, 1, 3, 0, 1]), 5, 2), vec![3, 1]);
        assert_eq!(queries(None, 5, 2), vec![0, 1]);
        // Two classes, ten queries: five of each, alternating.
        let labels: Vec<u32> = (0..40).map(|i| (i / 3 % 2) as u32).collect();
        let q = queries(Some(&labels), 40, 10);
        assert_eq!(q.len(), 10);
        assert_eq!(q.iter().filter(|&&i| labels[i] == 0).count(), 5);
        assert_eq!(q[..4], [0, 3, 1, 4]);
    }
}
