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

/// One query per class present in `labels` (its first image), in class
/// order, at most `max`; without labels, the first `max` rows.
pub fn queries(labels: Option<&[u32]>, rows: usize, max: usize) -> Vec<usize> {
    match labels {
        None => (0..rows.min(max)).collect(),
        Some(labels) => {
            let mut firsts: Vec<(u32, usize)> = Vec::new();
            for (i, &l) in labels.iter().enumerate() {
                if !firsts.iter().any(|(c, _)| *c == l) {
                    firsts.push((l, i));
                }
            }
            firsts.sort_unstable();
            firsts.into_iter().take(max).map(|(_, i)| i).collect()
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
    fn queries_take_the_first_image_of_each_class() {
        assert_eq!(queries(Some(&[3, 1, 3, 0, 1]), 5, 10), vec![3, 1, 0]);
        assert_eq!(queries(Some(&[3, 1, 3, 0, 1]), 5, 2), vec![3, 1]);
        assert_eq!(queries(None, 5, 2), vec![0, 1]);
    }
}
