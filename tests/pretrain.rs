//! End-to-end pretraining through the library: a run directory with the
//! resolved config, metrics, run status and a checkpoint that reloads.
use std::path::Path;

use burn::tensor::Tensor;
use pretext::eval::EvaluatedRun;
use pretext::methods::InputSpec;
use pretext::nn::InputShape;
use pretext::train::{
    Checkpoint, ExperimentConfig, Needs, NoObserver, RunDir, RunInfo, pretrain, resume,
};

use crate::common::{deterministic_device, device, experiment, pretrain_small};

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
    let summary = pretrain(&config, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap();
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
        &[device()],
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
    let summary = pretrain(&config, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap();
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
    let err = pretrain(&config, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap_err();
    assert!(
        err.to_string()
            .contains("train.batch_size (64) is larger than the training split (32 images)"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_corrupt_latest_checkpoint_falls_back_to_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("autoencoder", 128, tmp.path());
    let latest = run.join("checkpoint");
    let prev = run.join("checkpoint.prev");
    assert_eq!(
        Checkpoint::verify(&latest, Needs::Everything)
            .unwrap()
            .epoch,
        3
    );
    assert_eq!(
        Checkpoint::verify(&prev, Needs::Everything).unwrap().epoch,
        2
    );

    // A checkpoint cut short by a full disk: same name, fewer bytes.
    let model = latest.join("model.bpk");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    refused_as_damaged(&latest, Needs::Everything, "model.bpk");
    let good = Checkpoint::find_good(&latest, Needs::Everything).unwrap();
    assert_eq!(good.dir, prev);
    assert_eq!(good.state.epoch, 2);
    let warning = good.warning.unwrap();
    assert!(
        warning.contains("using the previous checkpoint (epoch 2)"),
        "{warning}"
    );

    // Evaluation and resuming use the previous checkpoint; resuming redoes epoch 3.
    let evaluated = EvaluatedRun::open(&run).unwrap();
    assert_eq!(evaluated.trained.state.epoch, 2);
    assert!(evaluated.trained.fallback.is_some());
    let summary = resume(&run, &info(), &[device()], &mut NoObserver).unwrap();
    assert_eq!(summary.epochs, 3);
    assert_eq!(
        Checkpoint::verify(&latest, Needs::Everything)
            .unwrap()
            .epoch,
        3
    );
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.matches(r#""kind":"epoch""#).count(), 3, "{metrics}");

    // With both checkpoints damaged there is nothing to fall back to.
    std::fs::write(latest.join("state.json"), "{").unwrap();
    std::fs::write(prev.join("model.bpk"), b"").unwrap();
    let err = Checkpoint::find_good(&latest, Needs::Everything)
        .unwrap_err()
        .to_string();
    assert!(err.contains("state.json"), "{err}");
}

/// Reading the encoder needs the weights alone: a run copied without its
/// optimiser state, or with it damaged, still evaluates from its latest
/// checkpoint, while resuming it falls back to the previous one.
#[test]
fn evaluation_needs_the_weights_alone_and_resuming_needs_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("autoencoder", 128, tmp.path());
    let latest = run.join("checkpoint");
    std::fs::remove_file(latest.join("optimizer.bpk")).unwrap();

    assert_eq!(Checkpoint::verify(&latest, Needs::Model).unwrap().epoch, 3);
    let evaluated = EvaluatedRun::open(&run).unwrap();
    assert_eq!(evaluated.trained.state.epoch, 3);
    assert_eq!(evaluated.trained.fallback, None);
    assert!(evaluated.encoder(&device()).is_ok());

    let err = Checkpoint::verify(&latest, Needs::Everything)
        .unwrap_err()
        .to_string();
    assert!(err.contains("optimizer.bpk"), "{err}");
    let good = Checkpoint::find_good(&latest, Needs::Everything).unwrap();
    assert_eq!(good.state.epoch, 2);
    assert!(good.warning.unwrap().contains("optimizer.bpk"));

    // A damaged model is refused even when only the weights are read, and
    // evaluation falls back to the previous checkpoint.
    std::fs::write(latest.join("model.bpk"), b"").unwrap();
    refused_as_damaged(&latest, Needs::Model, "model.bpk");
    assert_eq!(EvaluatedRun::open(&run).unwrap().trained.state.epoch, 2);
}

/// `verify` refuses the checkpoint in `dir`, naming `file` as corrupt.
fn refused_as_damaged(dir: &Path, needs: Needs, file: &str) {
    let err = Checkpoint::verify(dir, needs).unwrap_err().to_string();
    assert!(
        err.contains(file) && err.contains("corrupt or truncated"),
        "{err}"
    );
}

/// The train loss of each epoch line of a run's metrics.
fn epoch_losses(run: &Path) -> Vec<f64> {
    logged(run, "epoch", "train_loss")
}

/// `field` of every `kind` line of a run's metrics log.
fn logged(run: &Path, kind: &str, field: &str) -> Vec<f64> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == kind)
        .map(|v| v[field].as_f64().unwrap())
        .collect()
}

/// A method with state beyond its encoder (momentum networks, a queue)
/// checkpoints it: a run resumed from its epoch-2 checkpoint redoes epoch 3
/// as the uninterrupted run did, on ndarray (deterministic).
#[test]
fn momentum_networks_and_queues_are_checkpointed_and_restored() {
    for method in ["moco", "byol"] {
        let tmp = tempfile::tempdir().unwrap();
        let config =
            ExperimentConfig::from_toml(&experiment(method, 128), Path::new("e.toml"), &[])
                .unwrap();
        let device = deterministic_device();
        let run = pretrain(
            &config,
            tmp.path(),
            &info(),
            std::slice::from_ref(&device),
            &mut NoObserver,
        )
        .unwrap()
        .run_dir;
        let whole = epoch_losses(&run);
        assert_eq!(whole.len(), 3);
        // Throw the epoch-3 checkpoint away: resuming falls back to epoch 2.
        std::fs::write(run.join("checkpoint/model.bpk"), b"").unwrap();
        resume(
            &run,
            &info(),
            std::slice::from_ref(&device),
            &mut NoObserver,
        )
        .unwrap();
        let again = epoch_losses(&run);
        assert_eq!(again.len(), 3);
        assert!(
            (again[2] - whole[2]).abs() < 1e-5 * whole[2].abs().max(1.0),
            "{method}: epoch 3 {} uninterrupted, {} resumed",
            whole[2],
            again[2]
        );
    }
}

/// [`experiment`] with a small ViT and heads without batch norm: every
/// image's outputs depend on that image alone.
fn per_image_experiment(method: &str) -> ExperimentConfig {
    let text = experiment(method, 256)
        .replace(
            "kind = \"small_cnn\"\nwidths = [8, 16]",
            "kind = \"vit\"\npatch_size = 7\ndim = 16\ndepth = 1\nheads = 2",
        )
        .replace("epochs = 3", "epochs = 1\nmax_steps_per_epoch = 3")
        .replace("log_every = 2", "log_every = 1");
    let heads = match method {
        "simsiam" => {
            "\n[method.projection]\nbatch_norm = false\n[method.predictor]\nbatch_norm = false\n"
        }
        _ => "\n[method.projection]\nbatch_norm = false\n",
    };
    let text = text.replace("[train]\n", &format!("{heads}[train]\n"));
    ExperimentConfig::from_toml(&text, Path::new("e.toml"), &[]).unwrap()
}

fn step_losses(run: &Path) -> Vec<f64> {
    logged(run, "step", "loss")
}

/// A run split over two devices (here flex and ndarray in one process) takes
/// the steps one device takes: SimCLR gathers its projections so negatives
/// span the whole batch (over 16 images instead of 32 its loss would start
/// near ln 31 = 3.43 instead of ln 63 = 4.14), SimSiam averages the two
/// halves' losses, and in both the gradients of both halves reach the one
/// optimiser.
#[test]
fn a_run_split_over_two_devices_takes_the_steps_of_one_device() {
    #[allow(deprecated)] // burn-ndarray is deprecated upstream
    let two = [device(), burn::tensor::Device::ndarray()];
    for method in ["simclr", "simsiam"] {
        let config = per_image_experiment(method);
        let tmp = tempfile::tempdir().unwrap();
        let one = pretrain(
            &config,
            &tmp.path().join("one"),
            &info(),
            &two[..1],
            &mut NoObserver,
        )
        .unwrap();
        let split = pretrain(
            &config,
            &tmp.path().join("two"),
            &info(),
            &two,
            &mut NoObserver,
        )
        .unwrap();
        let (a, b) = (step_losses(&one.run_dir), step_losses(&split.run_dir));
        assert_eq!(a.len(), 3);
        assert_eq!(b.len(), 3);
        for (step, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * x.abs().max(1.0),
                "{method} step {}: one device {x}, two {y}",
                step + 1
            );
        }
    }
}
