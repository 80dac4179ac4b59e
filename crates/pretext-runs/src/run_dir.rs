//! A run directory, `runs/<name>/`: the resolved `config.toml`, `run.json`
//! (what ran, where it stands), `metrics.jsonl` and `checkpoint/`.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use pretext_data::Modality;

use crate::{RunsError, write_atomic};

/// `run.json`'s state while a process trains the run.
pub const RUNNING: &str = "running";
/// The state [`RunDir::status`] reads for a run marked running that no live
/// process trains.
pub const INTERRUPTED: &str = "interrupted";

/// Facts about the environment a run records, supplied by the front end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The backend name (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// The git revision of the working directory, if it is a repository.
    pub git_revision: Option<String>,
}

/// Where a run stands, as `run.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// The run's name (its directory name).
    pub name: String,
    /// `running`, `finished` or `failed` (and, as [`RunDir::status`] reads
    /// it, `interrupted` for a run killed while running).
    pub state: String,
    /// The method's name.
    pub method: String,
    /// The seed.
    pub seed: u64,
    /// Backend and git revision.
    pub info: RunInfo,
    /// Completed epochs.
    pub epochs_done: usize,
    /// Planned epochs.
    pub epochs: usize,
    /// Validation loss of the last completed epoch.
    pub last_val_loss: Option<f32>,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    /// Seconds since the Unix epoch of the last update.
    pub updated_unix: u64,
    /// Why the run failed, if it did.
    pub error: Option<String>,
    /// How a wall-clock budget (`train.budget_minutes`) set the run's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<String>,
}

/// The exclusive lock of a run directory, held while a process trains it
/// and released when dropped, or by the system when the process dies.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// A run found by [`RunDir::list`], with its status or why it is unreadable.
pub type ListedRun = (RunDir, Result<RunStatus, RunsError>);

/// The directory of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl RunDir {
    /// Creates a fresh run directory `out/<name>`, or `out/<name>-2`, `-3`, …
    /// when that name is taken, so an earlier run is never overwritten.
    pub fn create(out: &Path, name: &str) -> Result<Self, RunsError> {
        std::fs::create_dir_all(out).map_err(|e| RunsError::io(out, e))?;
        for i in 1.. {
            let candidate = if i == 1 {
                out.join(name)
            } else {
                out.join(format!("{name}-{i}"))
            };
            match std::fs::create_dir(&candidate) {
                Ok(()) => return Ok(Self { path: candidate }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RunsError::io(candidate, e)),
            }
        }
        unreachable!("some suffix is always free")
    }

    /// An existing run directory.
    pub fn open(path: &Path) -> Result<Self, RunsError> {
        if !path.join("run.json").is_file() {
            return Err(RunsError::io(
                path.join("run.json"),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a run directory (no run.json)",
                ),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's name (the directory's name).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// `config.toml`: the resolved experiment.
    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.toml")
    }

    /// `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.path.join("metrics.jsonl")
    }

    /// `checkpoint/`: the last complete checkpoint.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join("checkpoint")
    }

    /// `run.json`.
    pub fn status_path(&self) -> PathBuf {
        self.path.join("run.json")
    }

    /// Whether the run is about images or text, as its resolved
    /// `config.toml` says (`data.format`).
    pub fn modality(&self) -> Result<Modality, RunsError> {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).map_err(|e| RunsError::io(&path, e))?;
        Ok(Modality::of_experiment(&text, &[]))
    }

    /// Takes the run's lock (`<run>/lock`), so two processes never train
    /// one run; fails at once, without waiting, if another holds it.
    pub fn lock(&self) -> Result<RunLock, RunsError> {
        let path = self.path.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| RunsError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(RunsError::Busy {
                path: self.path.clone(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(RunsError::io(&path, e)),
        }
    }

    /// Whether a live process holds the run's lock, that is, trains it now.
    /// The system releases the lock when the process dies, however it dies,
    /// so a run killed mid-epoch reads as not training.
    pub fn is_training(&self) -> bool {
        let Ok(file) = std::fs::File::open(self.path.join("lock")) else {
            return false;
        };
        // A shared lock conflicts with the trainer's exclusive one only.
        match file.try_lock_shared() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        }
    }

    /// Writes `run.json` atomically.
    pub fn write_status(&self, status: &RunStatus) -> Result<(), RunsError> {
        let json = serde_json::to_vec_pretty(status).expect("status always serialises");
        write_atomic(&self.status_path(), &json)
    }

    /// Reads `run.json`. A run it marks `running` that no live process
    /// trains (killed, or its machine lost) reads as `interrupted`: `pretext
    /// pretrain --resume` continues it.
    pub fn status(&self) -> Result<RunStatus, RunsError> {
        let path = self.status_path();
        let text = std::fs::read_to_string(&path).map_err(|e| RunsError::io(&path, e))?;
        let mut status: RunStatus =
            serde_json::from_str(&text).map_err(|e| RunsError::Malformed {
                path,
                reason: e.to_string(),
            })?;
        if status.state == RUNNING && !self.is_training() {
            status.state = INTERRUPTED.into();
        }
        Ok(status)
    }

    /// Every run directory directly under `out`, sorted by name, with its status
    /// (or why it could not be read).
    pub fn list(out: &Path) -> Result<Vec<ListedRun>, RunsError> {
        let entries = std::fs::read_dir(out).map_err(|e| RunsError::io(out, e))?;
        let mut runs: Vec<RunDir> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join("run.json").is_file())
            .map(|path| RunDir { path })
            .collect();
        runs.sort_by_key(|r| r.name());
        Ok(runs
            .into_iter()
            .map(|r| {
                let s = r.status();
                (r, s)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_never_reuses_a_taken_name() {
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(tmp.path(), "x").unwrap();
        let b = RunDir::create(tmp.path(), "x").unwrap();
        assert_eq!(a.name(), "x");
        assert_eq!(b.name(), "x-2");
    }

    #[test]
    fn a_second_lock_on_a_run_is_refused_until_the_first_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::create(tmp.path(), "x").unwrap();
        let held = run.lock().unwrap();
        let again = run.lock().unwrap_err();
        assert!(
            again.to_string().contains("another pretext process"),
            "{again}"
        );
        drop(held);
        run.lock().unwrap();
    }

    #[test]
    fn a_running_run_whose_lock_is_free_reads_as_interrupted() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::create(tmp.path(), "x").unwrap();
        let status = RunStatus {
            name: "x".into(),
            state: RUNNING.into(),
            method: "simclr".into(),
            seed: 1,
            info: RunInfo {
                backend: "flex".into(),
                git_revision: None,
            },
            epochs_done: 1,
            epochs: 2,
            last_val_loss: None,
            started_unix: 0,
            updated_unix: 0,
            error: None,
            budget: None,
        };
        run.write_status(&status).unwrap();
        assert_eq!(run.status().unwrap().state, INTERRUPTED);
        assert!(!run.is_training());
        let held = run.lock().unwrap();
        assert!(run.is_training());
        assert_eq!(run.status().unwrap().state, RUNNING);
        drop(held);
        assert_eq!(run.status().unwrap().state, INTERRUPTED);
    }
}
