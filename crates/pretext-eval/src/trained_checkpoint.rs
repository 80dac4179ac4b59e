//! The checkpoint a reader of a trained run uses (evaluation, embedding,
//! export), and what its user must be told about it: that the latest
//! checkpoint was damaged and an older one is used, or that the run is still
//! training and its checkpoint will change.
use std::path::PathBuf;

use pretext_train::{Checkpoint, CheckpointState, Needs, RunDir};

use crate::EvalError;

/// The checkpoint of a run that a reader uses, with the warnings it owes.
#[derive(Debug, Clone)]
pub struct TrainedCheckpoint {
    /// The checkpoint directory (`checkpoint/`, or `checkpoint.prev/`).
    pub dir: PathBuf,
    /// Its loop position.
    pub state: CheckpointState,
    /// Why the latest checkpoint was passed over for the previous one, if it
    /// was: the weights are older than the run's last epoch.
    pub fallback: Option<String>,
    /// Set while a live process trains the run: the weights are those of
    /// an epoch the run has since gone past, or soon will.
    pub training: Option<String>,
}

impl TrainedCheckpoint {
    /// The last good checkpoint of `run`, whose weights a reader needs.
    pub fn of(run: &RunDir) -> Result<Self, EvalError> {
        let latest = run.checkpoint_dir();
        if !Checkpoint::ever_written(&latest) {
            return Err(EvalError::Run {
                path: run.path().to_path_buf(),
                reason: "the run has no checkpoint yet (it writes one after each epoch)".into(),
            });
        }
        let good = Checkpoint::find_good(&latest, Needs::Model)?;
        let training = run.is_training().then(|| {
            format!(
                "{} is still training; this uses its checkpoint of epoch {}",
                run.path().display(),
                good.state.epoch
            )
        });
        Ok(Self {
            dir: good.dir,
            state: good.state,
            fallback: good.warning,
            training,
        })
    }

    /// The weights file's modification time, which keys the embedding
    /// cache together with the epoch (a retrained run of the same epoch
    /// must not reuse its embeddings); empty where it cannot be read.
    pub fn model_stamp(&self) -> String {
        std::fs::metadata(self.dir.join("model.bpk"))
            .and_then(|m| m.modified())
            .map(|t| format!("{t:?}"))
            .unwrap_or_default()
    }

    /// Every warning, one line each: the fallback first.
    pub fn warnings(&self) -> Vec<String> {
        self.fallback
            .iter()
            .chain(&self.training)
            .map(|w| format!("warning: {w}"))
            .collect()
    }
}
