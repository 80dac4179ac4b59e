//! Methods compared on an equal budget: each method pretrained under several
//! seeds, each run evaluated alike; one row per method, one column per
//! (head, budget), cells the mean ± std over the method's runs of the
//! pretrained encoder's test accuracy.
use pretext_data::LabelBudget;
use serde::{Deserialize, Serialize};

use crate::results::{head_order, mean_std, render, union_of_budgets};
use crate::{EvalResults, Source};

/// Mean ± std of one cell over a method's runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Mean test accuracy, in `[0, 1]`.
    pub mean: f32,
    /// Sample standard deviation over runs (0 for one run).
    pub std: f32,
    /// Runs that measured it.
    pub runs: usize,
}

/// One method's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// The method's label.
    pub method: String,
    /// One cell per column; `None` where no run measured it.
    pub cells: Vec<Option<Cell>>,
}

/// The comparison table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodComparison {
    /// `(head, budget)` of each column.
    pub columns: Vec<(String, LabelBudget)>,
    /// One row per method, in the order given.
    pub rows: Vec<ComparisonRow>,
}

impl MethodComparison {
    /// Builds the table from `(method label, one run's results)` pairs; the
    /// runs of a method share its label. A run's cell is its pretrained
    /// encoder's mean over label draws.
    pub fn from_runs(runs: &[(String, EvalResults)]) -> Self {
        let budgets = union_of_budgets(runs.iter().map(|(_, r)| r));
        let mut heads: Vec<String> = Vec::new();
        for (_, r) in runs {
            for s in r.summary.iter().filter(|s| s.source == Source::Pretrained) {
                if !heads.contains(&s.head) {
                    heads.push(s.head.clone());
                }
            }
        }
        heads.sort_by_key(|h| (head_order(h), h.clone()));
        let columns: Vec<(String, LabelBudget)> = heads
            .iter()
            .flat_map(|h| budgets.iter().map(move |b| (h.clone(), *b)))
            .filter(|(h, b)| {
                runs.iter().any(|(_, r)| {
                    r.summary
                        .iter()
                        .any(|s| s.source == Source::Pretrained && &s.head == h && s.budget == *b)
                })
            })
            .collect();
        let mut methods: Vec<&str> = Vec::new();
        for (m, _) in runs {
            if !methods.contains(&m.as_str()) {
                methods.push(m);
            }
        }
        let rows = methods
            .iter()
            .map(|&method| ComparisonRow {
                method: method.to_string(),
                cells: columns
                    .iter()
                    .map(|(head, budget)| {
                        let values: Vec<f32> = runs
                            .iter()
                            .filter(|(m, _)| m == method)
                            .filter_map(|(_, r)| {
                                r.summary
                                    .iter()
                                    .find(|s| {
                                        s.source == Source::Pretrained
                                            && &s.head == head
                                            && s.budget == *budget
                                    })
                                    .map(|s| s.mean)
                            })
                            .collect();
                        (!values.is_empty()).then(|| {
                            let (mean, std) = mean_std(&values);
                            Cell {
                                mean,
                                std,
                                runs: values.len(),
                            }
                        })
                    })
                    .collect(),
            })
            .collect();
        Self { columns, rows }
    }

    /// The table in markdown, accuracies in percent.
    pub fn markdown(&self) -> String {
        let mut header = vec!["method".to_string()];
        header.extend(self.columns.iter().map(|(h, b)| format!("{h} @ {b}")));
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![r.method.clone()];
                row.extend(r.cells.iter().map(|c| match c {
                    Some(c) if c.runs > 1 => {
                        format!("{:.1} ± {:.1}", 100.0 * c.mean, 100.0 * c.std)
                    }
                    Some(c) => format!("{:.1}", 100.0 * c.mean),
                    None => "–".into(),
                }));
                row
            })
            .collect();
        render(&header, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SummaryRow;

    fn results(rows: &[(&str, LabelBudget, f32)]) -> EvalResults {
        EvalResults {
            run: "r".into(),
            task: "t".into(),
            task_file: "t.toml".into(),
            task_overrides: Vec::new(),
            checkpoint_epoch: 1,
            classes: 10,
            class_names: Vec::new(),
            modality: pretext_data::Modality::Image,
            pool_size: 100,
            test_size: 10,
            budgets: vec![LabelBudget::PerClass(10), LabelBudget::All],
            readout: pretext_data::Readout::default(),
            rows: vec![],
            summary: rows
                .iter()
                .map(|&(head, budget, mean)| SummaryRow {
                    source: Source::Pretrained,
                    head: head.into(),
                    budget,
                    mean,
                    std: 0.0,
                    seeds: 1,
                })
                .chain([SummaryRow {
                    source: Source::RawPixels,
                    head: "linear".into(),
                    budget: LabelBudget::All,
                    mean: 0.5,
                    std: 0.0,
                    seeds: 1,
                }])
                .collect(),
        }
    }

    #[test]
    fn cells_average_each_methods_runs() {
        let ten = LabelBudget::PerClass(10);
        let runs = vec![
            (
                "simclr".to_string(),
                results(&[("linear", ten, 0.90), ("knn-20", ten, 0.80)]),
            ),
            (
                "simclr".to_string(),
                results(&[("linear", ten, 0.94), ("knn-20", ten, 0.84)]),
            ),
            ("byol".to_string(), results(&[("linear", ten, 0.70)])),
        ];
        let c = MethodComparison::from_runs(&runs);
        assert_eq!(
            c.columns,
            vec![("linear".to_string(), ten), ("knn-20".to_string(), ten)]
        );
        assert_eq!(c.rows[0].method, "simclr");
        let cell = c.rows[0].cells[0].unwrap();
        assert!((cell.mean - 0.92).abs() < 1e-6 && cell.runs == 2);
        assert!((cell.std - 0.028_284).abs() < 1e-5, "{}", cell.std);
        assert_eq!(c.rows[1].cells[1], None);
        let md = c.markdown();
        assert!(md.contains("| simclr | 92.0 ± 2.8"), "{md}");
        assert!(md.contains("linear @ 10/class"), "{md}");
    }
}
