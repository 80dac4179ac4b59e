//! Paired differences: the pretrained encoder's head minus each baseline on
//! the same label draws. Every source of an evaluation is fitted on the same
//! draws (budget, seed), so the difference per draw removes the draw's luck,
//! which the spread over seeds of each column does not: two columns can
//! overlap in mean ± std while one beats the other on nearly every draw.
use pretext_data::LabelBudget;
use serde::{Deserialize, Serialize};

use crate::results::{ResultRow, Source, head_order, mean_std, render};

/// The pretrained head minus one baseline at one budget, over the seeds both have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// The pretrained encoder's head compared (the linear probe where there is one).
    pub head: String,
    /// The baseline's source.
    pub baseline: Source,
    /// The baseline's head.
    pub baseline_head: String,
    /// The label budget.
    pub budget: LabelBudget,
    /// Mean of the per-draw differences in test accuracy (fractions, like the rows).
    pub mean: f32,
    /// Standard error of that mean: the sample std of the differences over √seeds.
    pub std_error: f32,
    /// Draws on which the pretrained head was strictly ahead.
    pub ahead: usize,
    /// Draws both have.
    pub seeds: usize,
}

/// The head of the pretrained encoder the differences are taken from: the
/// linear probe if it ran, else the first head in reading order.
fn reference_head(rows: &[ResultRow]) -> Option<String> {
    rows.iter()
        .filter(|r| r.source == Source::Pretrained)
        .map(|r| &r.head)
        .min_by_key(|h| (head_order(h), h.as_str()))
        .cloned()
}

/// The paired differences of `rows` at each of `budgets`: the pretrained
/// reference head (see [`reference_head`]) minus every baseline (source,
/// head), over the seeds both ran; pairs with fewer than two seeds are left
/// out (one draw says nothing about the spread).
pub fn paired_differences(rows: &[ResultRow], budgets: &[LabelBudget]) -> Vec<PairedDifference> {
    let Some(head) = reference_head(rows) else {
        return Vec::new();
    };
    let mut baselines: Vec<(Source, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.source != Source::Pretrained) {
        if !baselines.contains(&(r.source, r.head.as_str())) {
            baselines.push((r.source, r.head.as_str()));
        }
    }
    baselines.sort_by_key(|&(source, h)| (source, head_order(h), h));
    let accuracy = |source: Source, head: &str, budget: &LabelBudget, seed: u64| {
        rows.iter()
            .find(|r| r.source == source && r.head == head && r.budget == *budget && r.seed == seed)
            .map(|r| r.test_accuracy)
    };
    let mut out = Vec::new();
    for &(baseline, baseline_head) in &baselines {
        for budget in budgets {
            let differences: Vec<f32> = rows
                .iter()
                .filter(|r| r.source == Source::Pretrained && r.head == head && r.budget == *budget)
                .filter_map(|r| {
                    accuracy(baseline, baseline_head, budget, r.seed).map(|b| r.test_accuracy - b)
                })
                .collect();
            if differences.len() < 2 {
                continue;
            }
            let (mean, std) = mean_std(&differences);
            out.push(PairedDifference {
                head: head.clone(),
                baseline,
                baseline_head: baseline_head.to_string(),
                budget: *budget,
                mean,
                std_error: std / (differences.len() as f32).sqrt(),
                ahead: differences.iter().filter(|&&d| d > 0.0).count(),
                seeds: differences.len(),
            });
        }
    }
    out
}

/// What the differences' table shows, for the sentence above it.
pub fn paired_caption(head: &str) -> String {
    format!(
        "Pretrained + {head} minus each baseline on the same label draws, in points: mean ± \
         standard error over the draws (draws on which pretrained is ahead)."
    )
}

/// The differences as table cells: the header, then one row per baseline
/// with one column per budget, cells `+2.0 ± 0.9 (13/20)` in points.
pub fn paired_cells(
    differences: &[PairedDifference],
    budgets: &[LabelBudget],
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["baseline".to_string()];
    header.extend(budgets.iter().map(|b| b.to_string()));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for d in differences {
        let name = ResultRow::label_of(d.baseline, &d.baseline_head);
        let row = match rows.iter_mut().find(|r| r[0] == name) {
            Some(row) => row,
            None => {
                let mut row = vec![name];
                row.extend(budgets.iter().map(|_| "–".to_string()));
                rows.push(row);
                rows.last_mut().expect("just pushed")
            }
        };
        let column = 1 + budgets
            .iter()
            .position(|b| *b == d.budget)
            .expect("a listed budget");
        row[column] = format!(
            "{:+.1} ± {:.1} ({}/{})",
            100.0 * d.mean,
            100.0 * d.std_error,
            d.ahead,
            d.seeds
        );
    }
    (header, rows)
}

/// The differences as a markdown paragraph and table ([`paired_cells`]);
/// empty when there is nothing to pair.
pub fn paired_markdown(differences: &[PairedDifference], budgets: &[LabelBudget]) -> String {
    let Some(first) = differences.first() else {
        return String::new();
    };
    let (header, rows) = paired_cells(differences, budgets);
    format!(
        "{}\n\n{}",
        paired_caption(&first.head),
        render(&header, &rows)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(source: Source, head: &str, seed: u64, acc: f32) -> ResultRow {
        crate::results::tests::row(source, head, "8/class", seed, acc)
    }

    #[test]
    fn differences_pair_draws_by_seed_and_give_the_standard_error() {
        // Pretrained ahead by 0.02, 0.04 and -0.01 on seeds 0, 1, 2; the
        // baseline's seed 3 has no partner and the kNN head is not the reference.
        let rows = vec![
            row(Source::Pretrained, "knn-20", 0, 0.1),
            row(Source::Pretrained, "linear", 2, 0.60),
            row(Source::Pretrained, "linear", 0, 0.52),
            row(Source::Pretrained, "linear", 1, 0.55),
            row(Source::Tfidf, "linear", 1, 0.51),
            row(Source::Tfidf, "linear", 0, 0.50),
            row(Source::Tfidf, "linear", 2, 0.61),
            row(Source::Tfidf, "linear", 3, 0.99),
            row(Source::RandomInit, "linear", 0, 0.4),
        ];
        let budgets = [LabelBudget::PerClass(8)];
        let d = paired_differences(&rows, &budgets);
        assert_eq!(d.len(), 1, "random init has one seed: left out: {d:?}");
        let d = &d[0];
        assert_eq!((d.head.as_str(), d.baseline), ("linear", Source::Tfidf));
        assert_eq!((d.ahead, d.seeds), (2, 3));
        // Differences 0.02, 0.04, -0.01: mean 0.016667, sample std 0.025166, / √3.
        assert!((d.mean - 0.016_667).abs() < 1e-5, "{}", d.mean);
        assert!((d.std_error - 0.014_530).abs() < 1e-5, "{}", d.std_error);
        let md = paired_markdown(std::slice::from_ref(d), &budgets);
        assert!(
            md.contains("| tf-idf + linear | +1.7 ± 1.5 (2/3) |"),
            "{md}"
        );
    }

    #[test]
    fn without_a_pretrained_head_or_a_baseline_there_is_nothing_to_pair() {
        let budgets = [LabelBudget::PerClass(8)];
        let only_baseline = vec![
            row(Source::Tfidf, "linear", 0, 0.5),
            row(Source::Tfidf, "linear", 1, 0.5),
        ];
        assert!(paired_differences(&only_baseline, &budgets).is_empty());
        let only_pretrained = vec![row(Source::Pretrained, "linear", 0, 0.5)];
        assert!(paired_differences(&only_pretrained, &budgets).is_empty());
        assert_eq!(paired_markdown(&[], &budgets), "");
    }
}
