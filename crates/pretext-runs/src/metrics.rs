//! The metrics log: one JSON object a line in `runs/<name>/metrics.jsonl`,
//! appended and flushed as training goes, so a crash loses at most a line.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use pretext_data::Modality;

use crate::{RunsError, write_atomic};

/// A line written every `log_every` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Always `"step"`.
    pub kind: String,
    /// Global optimiser step (1-based).
    pub step: usize,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Training loss of this step.
    pub loss: f32,
    /// Learning rate used for this step.
    pub lr: f64,
    /// Samples per second since the previous step line (each counted once,
    /// whatever the number of views), under the key that names them.
    #[serde(flatten)]
    pub throughput: Throughput,
}

/// A throughput under the key that says what was counted:
/// `"images_per_sec"` in an image run's log, `"texts_per_sec"` in a text
/// run's (text logs written before the distinction say `images_per_sec`, and
/// read as they were written).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Throughput {
    /// Images per second.
    #[serde(rename = "images_per_sec")]
    Images(f64),
    /// Texts per second.
    #[serde(rename = "texts_per_sec")]
    Texts(f64),
}

impl Throughput {
    /// `per_sec` samples of `modality` a second.
    pub fn new(modality: Modality, per_sec: f64) -> Self {
        match modality {
            Modality::Image => Throughput::Images(per_sec),
            Modality::Text => Throughput::Texts(per_sec),
        }
    }

    /// Samples a second, whatever they are.
    pub fn per_sec(self) -> f64 {
        match self {
            Throughput::Images(v) | Throughput::Texts(v) => v,
        }
    }
}

/// The accuracy monitor's kNN accuracy at one `k`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnnReading {
    /// Neighbours that voted (the `k` asked for, or every other slice image
    /// where the slice is smaller).
    pub k: usize,
    /// Fraction of the slice classified correctly, in [0, 1].
    pub accuracy: f32,
}

/// A line written at the end of each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Always `"epoch"`.
    pub kind: String,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Global step at the end of the epoch.
    pub step: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f32,
    /// Mean loss on the validation split (no gradient), if there is one.
    pub val_loss: Option<f32>,
    /// Collapse signal: the per-dimension standard deviation of the
    /// L2-normalised validation embeddings, times `sqrt(dim)`. Near 1 for
    /// embeddings spread over the sphere, near 0 when they collapse to a point.
    pub embedding_std: Option<f32>,
    /// Collapse signal: the effective rank (RankMe) of the validation
    /// embeddings, between 1 and their dimension; absent in logs written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_rank: Option<f32>,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Training samples per second over the epoch, under the key that names
    /// them.
    #[serde(flatten)]
    pub throughput: Throughput,
    /// Wall-clock seconds of the epoch, validation and monitor included.
    pub seconds: f64,
    /// The accuracy monitor's kNN accuracies on its labelled slice, when it
    /// scored this epoch (see `[monitor]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitor: Vec<KnnReading>,
    /// Seconds the monitor took this epoch (embedding its slice and voting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_seconds: Option<f64>,
}

/// Cuts the log at `path` back to a checkpoint taken after `step` and
/// `epoch`: step lines up to `step` and epoch lines up to `epoch` stay, later
/// lines (an interrupted epoch) and damaged ones (a line cut by a crash, or
/// bytes that are not UTF-8) go.
/// `last`, the checkpoint's own copy of epoch `epoch`'s line, is written
/// back when the log lacks it (a kill between checkpoint and line), and any
/// repeated epoch line is kept once. Rewritten atomically. Returns the epoch
/// lines kept, in order.
pub fn truncate_after(
    path: &Path,
    step: usize,
    epoch: usize,
    last: Option<&EpochRecord>,
) -> Result<Vec<EpochRecord>, RunsError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(RunsError::io(path, e)),
    };
    let mut kept = String::new();
    let mut epochs = Vec::new();
    // A line that is not UTF-8 is damage like any other, not a reason to
    // refuse the resume.
    let lines = bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok());
    for line in lines {
        let keep = if let Ok(r) = serde_json::from_str::<StepRecord>(line)
            && r.kind == "step"
        {
            r.step <= step
        } else if let Ok(r) = serde_json::from_str::<EpochRecord>(line)
            && r.kind == "epoch"
        {
            let keep = r.epoch <= epoch && !epochs.iter().any(|e: &EpochRecord| e.epoch == r.epoch);
            if keep {
                epochs.push(r);
            }
            keep
        } else {
            false
        };
        if keep {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if let Some(record) = last.filter(|r| r.epoch == epoch)
        && !epochs.iter().any(|e| e.epoch == epoch)
    {
        kept.push_str(&serde_json::to_string(record).expect("records always serialise"));
        kept.push('\n');
        epochs.push(record.clone());
    }
    write_atomic(path, kept.as_bytes())?;
    Ok(epochs)
}

/// An append-only JSON-lines log.
#[derive(Debug)]
pub struct MetricsLog {
    file: File,
    path: PathBuf,
}

impl MetricsLog {
    /// Opens `path` for appending, creating it if needed.
    pub fn append(path: &Path) -> Result<Self, RunsError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| RunsError::io(path, e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record as a line and flushes it.
    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), RunsError> {
        let mut line = serde_json::to_string(record).expect("records always serialise");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| RunsError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_lines_up_to_the_checkpoint_and_drops_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        let step = |s: usize, e: usize| {
            format!(
                r#"{{"kind":"step","step":{s},"epoch":{e},"loss":1.0,"lr":0.1,"images_per_sec":1.0}}"#
            )
        };
        let epoch = |e: usize, s: usize| {
            format!(
                r#"{{"kind":"epoch","epoch":{e},"step":{s},"train_loss":1.0,"val_loss":null,"embedding_std":null,"lr":0.1,"images_per_sec":1.0,"seconds":1.0}}"#
            )
        };
        let text = [
            step(5, 1),
            step(10, 1),
            epoch(1, 10),
            step(15, 2),
            step(20, 2)[..30].to_string(),
        ]
        .join("\n");
        // A line of garbage that is not UTF-8 (found by the checkpoint_state
        // fuzz target: it made the resume fail) is damage too.
        let mut bytes = text.into_bytes();
        bytes.splice(0..0, b"{\"kind\":\"st\xff\xfeep\"}\n".iter().copied());
        std::fs::write(&path, bytes).unwrap();
        let kept = truncate_after(&path, 10, 1, None).unwrap();
        assert_eq!(kept.len(), 1);
        let after = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            after,
            format!("{}\n{}\n{}\n", step(5, 1), step(10, 1), epoch(1, 10))
        );
        // Appending goes on from there.
        let mut log = MetricsLog::append(&path).unwrap();
        log.write(&serde_json::json!({"kind": "x"})).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
    }

    #[test]
    fn a_throughput_is_written_under_the_key_of_its_samples_and_either_key_reads() {
        let step = |throughput| StepRecord {
            kind: "step".into(),
            step: 1,
            epoch: 1,
            loss: 1.0,
            lr: 0.1,
            throughput,
        };
        let text = serde_json::to_string(&step(Throughput::new(Modality::Text, 5.0))).unwrap();
        assert!(
            text.contains(r#""texts_per_sec":5.0"#) && !text.contains("images_per_sec"),
            "{text}"
        );
        let image = serde_json::to_string(&step(Throughput::new(Modality::Image, 7.0))).unwrap();
        assert!(image.contains(r#""images_per_sec":7.0"#), "{image}");
        for (line, rate) in [(text, 5.0), (image, 7.0)] {
            let back: StepRecord = serde_json::from_str(&line).unwrap();
            assert_eq!(back.throughput.per_sec(), rate);
        }
    }

    #[test]
    fn the_checkpoints_copy_of_a_lost_epoch_line_is_written_back_once() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        let record = |epoch: usize| EpochRecord {
            kind: "epoch".into(),
            epoch,
            step: epoch * 10,
            train_loss: 1.0 / epoch as f32,
            val_loss: None,
            embedding_std: None,
            effective_rank: None,
            lr: 0.1,
            throughput: Throughput::Images(1.0),
            seconds: 1.0,
            monitor: Vec::new(),
            monitor_seconds: None,
        };
        let line = |epoch: usize| serde_json::to_string(&record(epoch)).unwrap();
        // Killed after epoch 2's checkpoint, before its line: the log ends at 1.
        std::fs::write(&path, format!("{}\n", line(1))).unwrap();
        let kept = truncate_after(&path, 20, 2, Some(&record(2))).unwrap();
        assert_eq!(kept, vec![record(1), record(2)]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n{}\n", line(1), line(2)));
        // Resumed again from the same checkpoint: still once.
        let kept = truncate_after(&path, 20, 2, Some(&record(2))).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // A line written twice is kept once.
        std::fs::write(&path, format!("{}\n{}\n{}\n", line(1), line(1), line(2))).unwrap();
        assert_eq!(truncate_after(&path, 20, 2, None).unwrap().len(), 2);
        // A copy from another epoch (a fallback to an older checkpoint) is not written.
        std::fs::write(&path, format!("{}\n", line(1))).unwrap();
        assert_eq!(
            truncate_after(&path, 10, 1, Some(&record(2)))
                .unwrap()
                .len(),
            1
        );
    }
}
