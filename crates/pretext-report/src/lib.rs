//! Figures and the self-contained HTML report of a pretext run.
//!
//! A report is drawn from plain data: the metrics log, the run's status and
//! experiment file, its evaluation results and an [`Inspection`] of its
//! encoder (sampled images with their embeddings, computed by
//! `pretext-eval`, which holds the tensors). Figures are drawn with plotters
//! in the bundled DejaVu Sans, as PNG and SVG under `<run>/figures/`;
//! `<run>/report.html` inlines them with the run's facts and results.
//!
//! ```no_run
//! use pretext_report::{ReportInputs, write_report};
//!
//! let inputs = ReportInputs::read("runs/quickstart".as_ref()).unwrap();
//! let report = write_report(&inputs).unwrap();
//! println!("{}", report.html.display());
//! ```
//!
//! [`Inspection`]: pretext_runs::Inspection
#![warn(missing_docs)]

mod error;
mod figure;
mod font;
mod html;
mod inputs;
pub mod neighbours;
pub mod projection;
mod report;
mod run_log;

pub use error::ReportError;
pub use figure::{Rendered, render_method_comparison};
pub use inputs::ReportInputs;
pub use report::{Report, write_report};
pub use run_log::RunLog;
