//! Natural colour images end to end: a slice of CIFAR-10's JPEG class
//! folders (from the shared archive, which the repository cannot ship) goes
//! through the image-folder loader as a user's photos would, pretrains with
//! the monitor on, evaluates against raw pixels and the k-means features,
//! and reports.
use std::path::{Path, PathBuf};
use std::process::Command;

use pretext::data::external::test_data;
use pretext::eval::{Source, TaskConfig, evaluate};
use pretext::train::{ExperimentConfig, NoObserver, RunInfo, pretrain};

use crate::common::device;

/// Extracts 30 training and 10 test images of each class from the shared
/// archive into `dir` (`train/<class>/00NN.jpg`, `test/<class>/000N.jpg`);
/// `None`, with the skip line, where the archive is absent.
fn cifar_slice(dir: &Path) -> Option<PathBuf> {
    let archive = test_data("cifar10-jpeg/cifar10-jpeg.tar.gz")?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .args(["--wildcards", "train/*/00[0-2]?.jpg", "test/*/000?.jpg"])
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xzf {} failed", archive.display());
    Some(dir.to_path_buf())
}

#[test]
fn a_cifar_slice_pretrains_evaluates_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(data) = cifar_slice(tmp.path()) else {
        return;
    };
    let experiment = format!(
        r#"
name = "cifar-slice"
seed = 3
[data]
format = "image_folder"
root = "{root}"
[augment]
preset = "cifar"
views = 2
[encoder]
kind = "small_cnn"
widths = [8, 16]
[method]
name = "simclr"
[train]
epochs = 2
batch_size = 32
val_fraction = 0.2
[train.optimizer]
kind = "adam"
lr = 0.003
"#,
        root = data.join("train").display()
    );
    let config = ExperimentConfig::from_toml(&experiment, Path::new("e.toml"), &[]).unwrap();
    let info = RunInfo {
        backend: "flex".into(),
        git_revision: None,
    };
    let run = pretrain(
        &config,
        &tmp.path().join("runs"),
        &info,
        &[device()],
        &mut NoObserver,
    )
    .unwrap()
    .run_dir;
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(
        metrics.matches(r#""monitor":[{"k":20"#).count(),
        2,
        "{metrics}"
    );

    let task = format!(
        r#"
name = "cifar-slice"
budgets = ["10/class"]
seeds = 2
heads = ["linear", "knn"]
baselines = ["raw_pixels", "kmeans"]
[train]
format = "image_folder"
root = "{train}"
[test]
format = "image_folder"
root = "{test}"
[knn]
k = [20]
[kmeans]
centroids = 40
patches = 4000
"#,
        train = data.join("train").display(),
        test = data.join("test").display()
    );
    let task = TaskConfig::from_toml(&task, Path::new("task.toml"), &[]).unwrap();
    let results = evaluate(&run, &task, &device(), &mut |_| {}).unwrap();
    assert_eq!((results.classes, results.test_size), (10, 100));
    for source in [Source::Pretrained, Source::RawPixels, Source::Kmeans] {
        let rows: Vec<_> = results.rows.iter().filter(|r| r.source == source).collect();
        // Two heads on two draws, each scored on the 100 test images.
        assert_eq!(rows.len(), 4, "{source:?}");
        assert!(rows.iter().all(|r| (0.0..=1.0).contains(&r.test_accuracy)));
    }

    let inputs = pretext::report::ReportInputs::read(&run).unwrap();
    let report = pretext::report::write_report(&inputs).unwrap();
    let html = std::fs::read_to_string(report.html).unwrap();
    assert!(
        html.contains("k-means"),
        "the report names the k-means baseline"
    );
    assert!(html.contains("Accuracy during pretraining"));
}
