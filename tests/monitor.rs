//! The accuracy monitor during pretraining and the wall-clock budget: the
//! monitor reads labels for itself alone (a run trains the same weights with
//! it on or off), its readings reach the metrics log and the report, and a
//! budget fixes a run's length after its first epoch.
use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use pretext::methods::InputSpec;
use pretext::nn::InputShape;
use pretext::train::{Checkpoint, ExperimentConfig, NoObserver, RunDir, RunInfo, pretrain};

use crate::common::{deterministic_device, device, experiment, mnist_images};

fn info() -> RunInfo {
    RunInfo {
        backend: "flex".into(),
        git_revision: None,
    }
}

/// The small SimCLR experiment on the first `limit` labelled MNIST images,
/// with `overrides`.
fn labelled(limit: usize, overrides: &[&str]) -> ExperimentConfig {
    let labels = mnist_images().with_file_name("train-labels-idx1-ubyte.gz");
    let mut all = vec![format!("data.labels=\"{}\"", labels.display())];
    all.extend(overrides.iter().map(|s| s.to_string()));
    ExperimentConfig::from_toml(&experiment("simclr", limit), Path::new("e.toml"), &all).unwrap()
}

/// The `monitor` readings of each epoch line: `(k, accuracy)`.
fn readings(run: &Path) -> Vec<Vec<(u64, f64)>> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "epoch")
        .map(|v| {
            v["monitor"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| (r["k"].as_u64().unwrap(), r["accuracy"].as_f64().unwrap()))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// The trained encoder's embedding of a fixed batch.
fn embedding(run: &Path, config: &ExperimentConfig) -> Vec<f32> {
    let spec = InputSpec::new(InputShape::new(1, 28, 28));
    let device = deterministic_device();
    let fresh = config.method.init(&config.encoder, &spec, &device);
    let method = Checkpoint::load_method(&run.join("checkpoint"), fresh).unwrap();
    let x = Tensor::<4>::ones([2, 1, 28, 28], &device) * 0.3;
    method
        .encoder()
        .forward(x)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

fn run(config: &ExperimentConfig, out: &Path) -> PathBuf {
    pretrain(
        config,
        out,
        &info(),
        &[deterministic_device()],
        &mut NoObserver,
    )
    .unwrap()
    .run_dir
}

#[test]
fn the_monitor_scores_each_epoch_and_changes_no_weight() {
    let tmp = tempfile::tempdir().unwrap();
    let on = labelled(320, &[]);
    let off = labelled(320, &["monitor.enabled=false"]);
    let (a, b) = (
        run(&on, &tmp.path().join("on")),
        run(&off, &tmp.path().join("off")),
    );

    // Every epoch scored, at k = 20 and at k = 63: the slice is the 64
    // validation images, so 200 neighbours are every other one.
    let scored = readings(&a);
    assert_eq!(scored.len(), 3);
    for epoch in &scored {
        let ks: Vec<u64> = epoch.iter().map(|r| r.0).collect();
        assert_eq!(ks, [20, 63]);
        // Ten classes: chance is 10%; features of a CNN on digits do better.
        assert!(epoch.iter().all(|r| r.1 > 0.2 && r.1 <= 1.0), "{epoch:?}");
    }
    assert!(readings(&b).iter().all(Vec::is_empty));

    // The same weights, bit for bit, and the same losses (training and validation).
    assert_eq!(embedding(&a, &on), embedding(&b, &off));
    let losses = |run: &Path| -> Vec<String> {
        std::fs::read_to_string(run.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| format!("{} {} {}", v["loss"], v["train_loss"], v["val_loss"]))
            .collect()
    };
    assert_eq!(losses(&a), losses(&b));

    // The report draws the readings against epochs and minutes.
    let inputs = pretext::report::ReportInputs::read(&a).unwrap();
    let report = pretext::report::write_report(&inputs).unwrap();
    let html = std::fs::read_to_string(&report.html).unwrap();
    assert!(
        html.contains("Accuracy during pretraining"),
        "no monitor figure"
    );
    assert!(a.join("figures/monitor.png").exists());
}

#[test]
fn a_run_on_unlabelled_data_says_the_monitor_is_off() {
    struct Notes(Vec<String>);
    impl pretext::train::Observer for Notes {
        fn on_message(&mut self, m: &str) {
            self.0.push(m.to_string());
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = ExperimentConfig::from_toml(
        &experiment("simclr", 128),
        Path::new("e.toml"),
        &["train.epochs=1".into()],
    )
    .unwrap();
    let mut notes = Notes(Vec::new());
    pretrain(&config, tmp.path(), &info(), &[device()], &mut notes).unwrap();
    let off: Vec<&String> = notes.0.iter().filter(|m| m.contains("monitor")).collect();
    assert_eq!(off.len(), 1, "{:?}", notes.0);
    assert!(
        off[0].contains("monitor: off, the data has no labels"),
        "{}",
        off[0]
    );
}

#[test]
fn a_budget_fixes_the_length_after_the_first_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    // A budget smaller than any epoch: one epoch, and the decision is kept.
    let short = labelled(128, &["train.epochs=5", "train.budget_minutes=0.00001"]);
    let summary = pretrain(&short, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap();
    assert_eq!(summary.epochs, 1);
    let dir = RunDir::open(&summary.run_dir).unwrap();
    let status = dir.status().unwrap();
    assert_eq!((status.epochs_done, status.epochs), (1, 1));
    let budget = status.budget.unwrap();
    assert!(
        budget.contains("so the run and its schedule last 1 epoch"),
        "{budget}"
    );
    let written = std::fs::read_to_string(dir.config_path()).unwrap();
    let again = ExperimentConfig::from_toml(&written, Path::new("e.toml"), &[]).unwrap();
    assert_eq!(again.train.epochs, 1);
    assert_eq!(again.train.budget_minutes, Some(0.00001));
    // The checkpoint carries the decided experiment too.
    let kept = std::fs::read_to_string(dir.checkpoint_dir().join("config.toml")).unwrap();
    assert_eq!(kept, written);

    // A budget larger than the epochs asked for: train.epochs caps it.
    let long = labelled(128, &["train.epochs=2", "train.budget_minutes=600"]);
    let summary = pretrain(&long, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap();
    assert_eq!(summary.epochs, 2);
    let status = RunDir::open(&summary.run_dir).unwrap().status().unwrap();
    assert!(
        status
            .budget
            .unwrap()
            .contains("(train.epochs, the most it may run)")
    );
}
