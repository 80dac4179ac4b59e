//! Checkpoints: the method's weights, the optimiser's state, the loop's
//! position and the resolved experiment, written to `checkpoint.tmp/` and swapped in whole, so a crash
//! mid-write leaves the previous checkpoint intact and never a half-written one.
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use pretext_methods::{InputSpec, Method};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::run_dir::write_atomic;

/// The loop's position when the checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Completed epochs.
    pub epoch: usize,
    /// Completed optimiser steps.
    pub step: usize,
    /// The run's seed. Augmentations are seeded from (seed, epoch, image,
    /// view) and the device from (seed, epoch), so the epoch is the whole RNG
    /// state needed to continue.
    pub seed: u64,
    /// The method's name, checked on load.
    pub method: String,
    /// The input the encoder was trained on: image shape and the channel
    /// statistics its inputs were normalised with. Evaluation normalises
    /// downstream images the same way. Absent in runs older than this field.
    #[serde(default)]
    pub input: Option<InputSpec>,
}

/// Reading and writing checkpoints in a directory.
#[derive(Debug)]
pub struct Checkpoint;

const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";
const CONFIG: &str = "config.toml";

fn ckpt_err(path: PathBuf, reason: impl ToString) -> TrainError {
    TrainError::Checkpoint {
        path,
        reason: reason.to_string(),
    }
}

impl Checkpoint {
    /// Writes a complete checkpoint to `dir` (weights, optimiser state, loop
    /// position and `config`, the resolved experiment as TOML), replacing the
    /// previous one only once the new one is fully on disk.
    pub fn save(
        dir: &Path,
        method: &Method,
        optimizer: &ModuleOptimizer,
        state: &CheckpointState,
        config: &str,
    ) -> Result<(), TrainError> {
        let tmp = dir.with_extension("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        let model = method
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| ckpt_err(tmp.join(MODEL), format!("{e:?}")))?;
        write_atomic(&tmp.join(MODEL), &model)?;
        let optim = optimizer
            .into_bytes()
            .map_err(|e| ckpt_err(tmp.join(OPTIMIZER), format!("{e:?}")))?;
        write_atomic(&tmp.join(OPTIMIZER), &optim)?;
        let json = serde_json::to_vec_pretty(state).expect("state always serialises");
        write_atomic(&tmp.join(STATE), &json)?;
        write_atomic(&tmp.join(CONFIG), config.as_bytes())?;
        // Swap: checkpoint -> checkpoint.old, checkpoint.tmp -> checkpoint.
        let old = dir.with_extension("old");
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
        }
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(|e| TrainError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| TrainError::io(dir, e))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
        }
        Ok(())
    }

    /// Reads the loop position of the checkpoint in `dir`.
    pub fn load_state(dir: &Path) -> Result<CheckpointState, TrainError> {
        let path = dir.join(STATE);
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| ckpt_err(path, e))
    }

    /// Loads the checkpoint's weights into `method`, which must have the same
    /// architecture.
    pub fn load_method(dir: &Path, method: Method) -> Result<Method, TrainError> {
        let path = dir.join(MODEL);
        if !path.is_file() {
            return Err(ckpt_err(path, "no checkpoint here (model.bpk is missing)"));
        }
        let record =
            ModuleRecord::load(&path).map_err(|e| ckpt_err(path.clone(), format!("{e:?}")))?;
        method.try_load_record(record).map_err(|e| {
            ckpt_err(
                path,
                format!("the checkpoint does not fit this architecture: {e:?}"),
            )
        })
    }

    /// Loads the optimiser state of the checkpoint in `dir`.
    pub fn load_optimizer(
        dir: &Path,
        optimizer: ModuleOptimizer,
    ) -> Result<ModuleOptimizer, TrainError> {
        let path = dir.join(OPTIMIZER);
        optimizer
            .load(&path)
            .map_err(|e| ckpt_err(path, format!("{e:?}")))
    }
}
