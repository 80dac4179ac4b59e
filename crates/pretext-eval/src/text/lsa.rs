//! The LSA text baseline (latent semantic analysis, Deerwester et al. 1990):
//! the TF-IDF rows of a task's pool projected on their `dims` leading right
//! singular vectors, fitted without labels on the pool's documents, as the
//! k-means features are fitted on an image pool's patches. The frozen heads
//! (linear probe, kNN) then read these features as they read an encoder's.
//!
//! The TF-IDF is the task's `[tfidf]` vectoriser (the TF-IDF baseline's), and
//! the decomposition is scikit-learn's randomized `TruncatedSVD`
//! ([`truncated_svd`]); scikit-learn recommends 100 dimensions for LSA.
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::Features;
use crate::text::svd::{TruncatedSvd, truncated_svd};
use crate::text::{SparseRows, Tfidf, TfidfConfig};

/// Which unlabelled documents LSA is fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LsaFit {
    /// The task's pool (its labels unread), as k-means is fitted on an image
    /// task's pool: always the task's own kind of text.
    #[default]
    Pool,
    /// The run's pretraining corpus (its `[data]`): the unlabelled text the
    /// encoder was given, so both start from the same documents.
    Corpus,
}

/// Settings of the LSA baseline (`[lsa]` in a text task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LsaConfig {
    /// Dimensions kept: features per document (default 100).
    pub dims: usize,
    /// Power iterations of the randomized decomposition (default 5, as
    /// scikit-learn's `TruncatedSVD`).
    pub power_iterations: usize,
    /// The documents the vocabulary and the decomposition are fitted on:
    /// `pool` (default) or `corpus`.
    pub fit_on: LsaFit,
}

impl Default for LsaConfig {
    fn default() -> Self {
        Self {
            dims: 100,
            power_iterations: 5,
            fit_on: LsaFit::Pool,
        }
    }
}

impl LsaConfig {
    /// Checks the settings, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.dims == 0 {
            return Err("lsa.dims must be at least 1, got 0".into());
        }
        if self.power_iterations > 50 {
            return Err(format!(
                "lsa.power_iterations must be at most 50, got {}",
                self.power_iterations
            ));
        }
        Ok(())
    }
}

/// A fitted LSA: the vectoriser and the decomposition of its rows.
#[derive(Debug, Clone)]
pub struct Lsa {
    vectorizer: Tfidf,
    svd: TruncatedSvd,
}

impl Lsa {
    /// Fits the vectoriser (`tfidf`'s vocabulary settings) and the
    /// decomposition on `docs` (those `config.fit_on` names), drawing the
    /// random test matrix from `seed`; returns it with the features of
    /// `docs`, from the rows the fit already built.
    /// An error, naming `lsa.dims`, when the documents or their terms are
    /// fewer than the dimensions asked for.
    ///
    /// # Panics
    /// On an invalid `config` or `tfidf` (callers validate them).
    pub fn fit<S: AsRef<str> + Sync>(
        docs: &[S],
        tfidf: &TfidfConfig,
        config: &LsaConfig,
        seed: u64,
    ) -> Result<(Self, Features), String> {
        if let Err(e) = config.validate() {
            panic!("Lsa::fit: {e}");
        }
        let texts: Vec<&str> = docs.iter().map(AsRef::as_ref).collect();
        let vectorizer = Tfidf::fit(&texts, tfidf);
        let rows = vectorizer.transform(&texts);
        let most = rows.rows().min(rows.dim);
        if config.dims > most {
            let what = match config.fit_on {
                LsaFit::Pool => "the pool",
                LsaFit::Corpus => "the run's corpus",
            };
            return Err(format!(
                "lsa.dims = {} is more than {what} gives: {} documents and {} terms, so at most {most}",
                config.dims,
                rows.rows(),
                rows.dim
            ));
        }
        let svd = truncated_svd(&rows, config.dims, config.power_iterations, seed);
        let lsa = Self { vectorizer, svd };
        let features = lsa.features(&rows);
        Ok((lsa, features))
    }

    /// Features per document.
    pub fn dim(&self) -> usize {
        self.svd.k()
    }

    /// The singular values of the kept dimensions, largest first.
    pub fn singular_values(&self) -> &[f64] {
        &self.svd.singular_values
    }

    /// The LSA features of `docs`, `[docs][dim]`.
    pub fn transform<S: AsRef<str> + Sync>(&self, docs: &[S]) -> Features {
        self.features(&self.vectorizer.transform(docs))
    }

    /// The features of TF-IDF `rows`.
    fn features(&self, rows: &SparseRows) -> Features {
        let data = self
            .svd
            .project(rows)
            .par_iter()
            .map(|&v| v as f32)
            .collect();
        Features::new(rows.rows(), self.dim(), data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Vec<String> {
        let mut docs = Vec::new();
        for i in 0..40 {
            docs.push(match i % 2 {
                0 => format!("the striker scored a goal in match {i} of the league"),
                _ => format!("the bank raised its interest rate in quarter {i} of the year"),
            });
        }
        docs
    }

    #[test]
    fn the_second_dimension_separates_two_topics_without_labels() {
        let docs = docs();
        let (lsa, fitted) = Lsa::fit(
            &docs,
            &TfidfConfig::default(),
            &LsaConfig {
                dims: 2,
                ..Default::default()
            },
            1,
        )
        .unwrap();
        let f = lsa.transform(&docs);
        assert_eq!(fitted, f, "the fit's features are those of its documents");
        assert_eq!((f.rows, f.dim), (40, 2));
        // Every document has a share of both topics' vocabulary ("the", "of",
        // "in"), so the leading direction is shared; the second tells the
        // topics apart by its sign.
        let second = |i: usize| f.data[i * 2 + 1];
        let sport = second(0).signum();
        for i in 0..40 {
            let want = if i % 2 == 0 { sport } else { -sport };
            assert_eq!(second(i).signum(), want, "document {i}: {}", second(i));
        }
        let s = lsa.singular_values();
        assert!(s[0] >= s[1] && s[1] > 0.0, "{s:?}");
    }

    #[test]
    fn more_dimensions_than_the_pool_gives_names_the_key() {
        let docs = ["one two", "two three", "three four"];
        let config = LsaConfig {
            dims: 5,
            ..Default::default()
        };
        let e = Lsa::fit(&docs, &TfidfConfig::default(), &config, 1).unwrap_err();
        assert_eq!(
            e,
            "lsa.dims = 5 is more than the pool gives: 3 documents and 7 terms, so at most 3"
        );
        assert_eq!(
            LsaConfig {
                dims: 0,
                ..Default::default()
            }
            .validate()
            .unwrap_err(),
            "lsa.dims must be at least 1, got 0"
        );
    }
}
