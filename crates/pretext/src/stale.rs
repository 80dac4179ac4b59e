//! What loading a run's encoder owes its user: a line on stderr when the
//! weights are not the run's latest, or a refusal when asked to be strict.
use pretext_eval::TrainedCheckpoint;

use crate::Error;

/// The warnings of loading `trained`, each also written to stderr; with
/// `strict`, a damaged latest checkpoint is an error instead.
pub(crate) fn check(trained: &TrainedCheckpoint, strict: bool) -> Result<Vec<String>, Error> {
    if strict && let Some(reason) = &trained.fallback {
        return Err(Error::Stale {
            reason: reason.clone(),
        });
    }
    let warnings = trained.warnings();
    for warning in &warnings {
        eprintln!("{warning}");
    }
    Ok(warnings)
}
