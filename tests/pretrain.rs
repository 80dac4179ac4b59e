//! End-to-end pretraining through the library: a run directory with the
//! resolved config, metrics, run status and a checkpoint that reloads.
use std::path::Path;

use burn::tensor::Tensor;
use pretext::methods::InputSpec;
use pretext::nn::InputShape;
use pretext::train::{Checkpoint, ExperimentConfig, NoObserver, RunDir, RunInfo, pretrain};

use crate::common::{device, experiment};

fn info() -> RunInfo {
    RunInfo {
        backend: "flex".into(),
        git_revision: None,
    }
}

#[test]
fn simclr_run_writes_its_directory_and_the_loss_falls() {
    let tmp = tempfile::tempdir().unwrap();
    let config =
        ExperimentConfig::from_toml(&experiment("simclr", 640), Path::new("e.toml"), &[]).unwrap();
    let summary = pretrain(&config, tmp.path(), &info(), &device(), &mut NoObserver).unwrap();
    let run = RunDir::open(&summary.run_dir).unwrap();
    assert!(
        summary.last_train_loss < summary.first_train_loss,
        "{summary:?}"
    );

    // The resolved config reloads to the same experiment.
    let written = std::fs::read_to_string(run.config_path()).unwrap();
    let again = ExperimentConfig::from_toml(&written, Path::new("e.toml"), &[]).unwrap();
    assert_eq!(again, config);

    // metrics.jsonl: step lines and one epoch line per epoch, all valid JSON.
    let metrics = std::fs::read_to_string(run.metrics_path()).unwrap();
    let lines: Vec<serde_json::Value> = metrics
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let epochs: Vec<&serde_json::Value> = lines.iter().filter(|v| v["kind"] == "epoch").collect();
    assert_eq!(epochs.len(), 3);
    for e in &epochs {
        for key in [
            "train_loss",
            "val_loss",
            "embedding_std",
            "lr",
            "images_per_sec",
        ] {
            assert!(e[key].is_number(), "{key} in {e}");
        }
    }
    assert!(
        lines
            .iter()
            .any(|v| v["kind"] == "step" && v["loss"].is_number())
    );

    let status = run.status().unwrap();
    assert_eq!((status.state.as_str(), status.epochs_done), ("finished", 3));

    // The checkpoint holds the state and reloads into the same architecture,
    // giving the same embeddings as a second load.
    let ckpt = run.checkpoint_dir();
    let state = Checkpoint::load_state(&ckpt).unwrap();
    assert_eq!((state.epoch, state.method.as_str()), (3, "simclr"));
    assert!(!ckpt.with_extension("tmp").exists());
    assert_eq!(
        std::fs::read_to_string(ckpt.join("config.toml")).unwrap(),
        written
    );
    let spec = InputSpec::new(InputShape::new(1, 28, 28));
    let load = || {
        let fresh = config.method.init(&config.encoder, &spec, &device());
        Checkpoint::load_method(&ckpt, fresh).unwrap()
    };
    let x = Tensor::<4>::ones([2, 1, 28, 28], &device());
    let a = load().encoder().forward(x.clone()).into_data();
    let b = load().encoder().forward(x).into_data();
    a.assert_approx_eq::<f32>(&b, burn::tensor::Tolerance::absolute(1e-6));

    // A second run of the same name never overwrites the first.
    let second = pretrain(
        &ExperimentConfig::from_toml(
            &experiment("simclr", 640),
            Path::new("e.toml"),
            &[
                "train.epochs=1".into(),
                "train.max_steps_per_epoch=1".into(),
            ],
        )
        .unwrap(),
        tmp.path(),
        &info(),
        &device(),
        &mut NoObserver,
    )
    .unwrap();
    assert_ne!(second.run_dir, summary.run_dir);
}

#[test]
fn a_checkpoint_of_another_architecture_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = ExperimentConfig::from_toml(
        &experiment("autoencoder", 128),
        Path::new("e.toml"),
        &["train.epochs=1".into()],
    )
    .unwrap();
    let summary = pretrain(&config, tmp.path(), &info(), &device(), &mut NoObserver).unwrap();
    let other = ExperimentConfig::from_toml(
        &experiment("autoencoder", 128),
        Path::new("e.toml"),
        &["encoder.widths=[4, 4]".into()],
    )
    .unwrap();
    let spec = InputSpec::new(InputShape::new(1, 28, 28));
    let fresh = other.method.init(&other.encoder, &spec, &device());
    let err = Checkpoint::load_method(&summary.run_dir.join("checkpoint"), fresh).unwrap_err();
    assert!(
        err.to_string().contains("does not fit this architecture"),
        "{err}"
    );
}

#[test]
fn a_batch_larger_than_the_data_is_a_clear_error_and_writes_no_run() {
    let tmp = tempfile::tempdir().unwrap();
    let config = ExperimentConfig::from_toml(
        &experiment("simclr", 40),
        Path::new("e.toml"),
        &["train.batch_size=64".into()],
    )
    .unwrap();
    let err = pretrain(&config, tmp.path(), &info(), &device(), &mut NoObserver).unwrap_err();
    assert!(
        err.to_string()
            .contains("train.batch_size (64) is larger than the training split (32 images)"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
