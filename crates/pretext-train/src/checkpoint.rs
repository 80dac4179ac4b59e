//! Checkpoints: the method's weights, the optimiser's state, the loop's
//! position and the resolved experiment, written to `checkpoint.tmp/` and
//! swapped in whole, so a crash mid-write leaves the previous checkpoint
//! intact and never a half-written one. `state.json` holds a CRC-32 of each
//! weight file; the checkpoint before the latest is kept in
//! `checkpoint.prev/`, and [`Checkpoint::find_good`] falls back to it when
//! the latest is truncated or corrupt in a file the reader [`Needs`]:
//! resuming needs every file, reading the encoder only the weights.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use pretext_methods::InputSpec;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use pretext_runs::EpochRecord;
use pretext_runs::write_atomic;

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
    /// CRC-32 of each weight file (`model.bpk`, `optimizer.bpk`), checked
    /// on load. Filled in by [`Checkpoint::save`]; absent in older runs.
    #[serde(default)]
    pub checksums: BTreeMap<String, u32>,
    /// The metrics line of the epoch this checkpoint ends, so a process
    /// killed after the checkpoint but before the line reached
    /// `metrics.jsonl` loses nothing: a resume writes it back. Absent in
    /// older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<EpochRecord>,
}

/// A checkpoint that passed its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct GoodCheckpoint {
    /// Its directory (`checkpoint/`, or `checkpoint.prev/` after a fallback).
    pub dir: PathBuf,
    /// Its loop position.
    pub state: CheckpointState,
    /// Why the latest checkpoint was passed over, when it was.
    pub warning: Option<String>,
}

/// What a reader needs of a checkpoint, and so which files it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The weights alone (`model.bpk`): evaluation, export, embedding. A
    /// missing or damaged `optimizer.bpk` does not stop them.
    Model,
    /// Every file, the optimiser state too: resuming training.
    Everything,
}

impl Needs {
    fn covers(self, file: &str) -> bool {
        self == Needs::Everything || file == MODEL
    }
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

/// The first of burn's load errors, in one line, with how many more there
/// are: `Simclr.encoder…conv.weight: shape mismatch, expected … but record
/// has … (and 10 more)`.
fn first_mismatch(debug: &str) -> String {
    let items: Vec<&str> = debug.split("\\\"").skip(1).step_by(2).collect();
    match items.split_first() {
        Some((first, rest)) if !rest.is_empty() => format!("{first} (and {} more)", rest.len()),
        Some((first, _)) => first.to_string(),
        None => debug.lines().next().unwrap_or_default().to_string(),
    }
}

impl Checkpoint {
    /// Writes a complete checkpoint to `dir` (weights, optimiser state, loop
    /// position and `config`, the resolved experiment as TOML), replacing the
    /// previous one only once the new one is fully on disk.
    pub fn save<M: Module>(
        dir: &Path,
        method: &M,
        optimizer: &ModuleOptimizer,
        state: &CheckpointState,
        config: &str,
    ) -> Result<(), TrainError> {
        let tmp = dir.with_extension("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        let written = Self::write_files(&tmp, method, optimizer, state, config);
        if written.is_err() {
            // A full disk: leave no half-written checkpoint behind.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        written?;
        // Swap: checkpoint -> checkpoint.prev, checkpoint.tmp -> checkpoint.
        let prev = dir.with_extension("prev");
        if dir.exists() {
            if prev.exists() {
                std::fs::remove_dir_all(&prev).map_err(|e| TrainError::io(&prev, e))?;
            }
            std::fs::rename(dir, &prev).map_err(|e| TrainError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| TrainError::io(dir, e))?;
        Ok(())
    }

    /// The files of a checkpoint, written into `tmp`.
    fn write_files<M: Module>(
        tmp: &Path,
        method: &M,
        optimizer: &ModuleOptimizer,
        state: &CheckpointState,
        config: &str,
    ) -> Result<(), TrainError> {
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
        let mut state = state.clone();
        state.checksums = BTreeMap::from([
            (MODEL.to_string(), crc32fast::hash(&model)),
            (OPTIMIZER.to_string(), crc32fast::hash(&optim)),
        ]);
        let json = serde_json::to_vec_pretty(&state).expect("state always serialises");
        write_atomic(&tmp.join(STATE), &json)?;
        Ok(write_atomic(&tmp.join(CONFIG), config.as_bytes())?)
    }

    /// Checks the checkpoint in `dir`: its state parses and every weight
    /// file that `needs` covers matches its checksum. Returns the state.
    pub fn verify(dir: &Path, needs: Needs) -> Result<CheckpointState, TrainError> {
        let state = Self::load_state(dir)?;
        let checked = state
            .checksums
            .iter()
            .filter(|(name, _)| needs.covers(name));
        for (name, want) in checked {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
            let got = crc32fast::hash(&bytes);
            if got != *want {
                return Err(ckpt_err(
                    path,
                    format!("corrupt or truncated (CRC-32 {got:08x}, expected {want:08x})"),
                ));
            }
        }
        if !dir.join(MODEL).is_file() {
            return Err(ckpt_err(
                dir.join(MODEL),
                "no checkpoint here (model.bpk is missing)",
            ));
        }
        Ok(state)
    }

    /// Whether a checkpoint was ever written in `dir` or kept beside it in
    /// `checkpoint.prev/`: false for a run stopped before its first epoch
    /// ended.
    pub fn ever_written(dir: &Path) -> bool {
        dir.exists() || dir.with_extension("prev").exists()
    }

    /// The newest checkpoint of a run that passes [`Checkpoint::verify`]
    /// for `needs`: `dir` itself, else the previous one kept beside it (with
    /// a warning saying why the newest was passed over).
    pub fn find_good(dir: &Path, needs: Needs) -> Result<GoodCheckpoint, TrainError> {
        let latest = match Self::verify(dir, needs) {
            Ok(state) => {
                return Ok(GoodCheckpoint {
                    dir: dir.to_path_buf(),
                    state,
                    warning: None,
                });
            }
            Err(e) => e,
        };
        let prev = dir.with_extension("prev");
        match Self::verify(&prev, needs) {
            Ok(state) => Ok(GoodCheckpoint {
                warning: Some(format!(
                    "{latest}; using the previous checkpoint (epoch {})",
                    state.epoch
                )),
                dir: prev,
                state,
            }),
            Err(_) => Err(latest),
        }
    }

    /// Reads the loop position of the checkpoint in `dir`.
    pub fn load_state(dir: &Path) -> Result<CheckpointState, TrainError> {
        let path = dir.join(STATE);
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| ckpt_err(path, e))
    }

    /// Loads the checkpoint's weights into `method`, which must have the same
    /// architecture (an image [`pretext_methods::Method`] or a
    /// [`pretext_methods::text::TextMethod`]).
    pub fn load_method<M: Module>(dir: &Path, method: M) -> Result<M, TrainError> {
        let path = dir.join(MODEL);
        if !path.is_file() {
            return Err(ckpt_err(path, "no checkpoint here (model.bpk is missing)"));
        }
        let record =
            ModuleRecord::load(&path).map_err(|e| ckpt_err(path.clone(), format!("{e:?}")))?;
        method.try_load_record(record).map_err(|e| {
            ckpt_err(
                path,
                format!(
                    "the checkpoint does not fit this architecture: {}",
                    first_mismatch(&format!("{e:?}"))
                ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_error_is_cut_to_its_first_mismatch() {
        let debug = r#"Validation("Apply errors: [\"a.weight: shape mismatch, expected [8] but record has [4]\", \"b.bias: shape mismatch\"]")"#;
        assert_eq!(
            first_mismatch(debug),
            "a.weight: shape mismatch, expected [8] but record has [4] (and 1 more)"
        );
        assert_eq!(first_mismatch("Other(\"x\")\nmore"), "Other(\"x\")");
    }
}
