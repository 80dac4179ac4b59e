//! The text side of evaluation: embedding documents with a text encoder,
//! the evaluation driver of a text task, fine-tuning a text encoder, the
//! TF-IDF and LSA baselines and inspections. The image side sits at the crate's root
//! (`embed.rs`, `evaluate.rs`, `finetune.rs`, `inspect.rs`); what both share
//! (task files, runs, the evaluation driver, fine-tuning) is written once
//! against [`Side`](crate::Side).
pub mod embed;
mod evaluate;
pub mod finetune;
mod inspect;
mod lsa;
mod svd;
mod tfidf;

pub use evaluate::evaluate_text;
pub(crate) use evaluate::load_task_data;
pub use inspect::inspect_text;
pub use lsa::{Lsa, LsaConfig, LsaFit};
pub use tfidf::{SparseLinearModel, SparseRows, Tfidf, TfidfConfig, TfidfFit, fit_tfidf_logistic};
