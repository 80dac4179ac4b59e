//! Mined neighbours as positive partners: a finished run's encoder mines
//! each image's nearest neighbours (`pretext neighbours`), and a later run
//! pairs each image's views with one of them (`partners`), or refines that
//! encoder with SCAN's cluster head (`init` and `partners`) and then
//! self-labelling (`init` from the SCAN run).
use std::path::Path;

use burn::tensor::{Tensor, TensorData};

use pretext::data::{DatasetConfig, Partners};
use pretext::eval::{EvaluatedRun, mine_neighbours};
use pretext::train::{ExperimentConfig, NoObserver, RunInfo, TrainError, pretrain};

use crate::common::{device, experiment, mnist_images, pretrain_small, root};

fn info() -> RunInfo {
    RunInfo {
        backend: "flex".into(),
        git_revision: None,
    }
}

/// The SimCLR test experiment on `limit` images with `partners` set.
fn partnered(limit: usize, partners: &Path) -> ExperimentConfig {
    let text = experiment("simclr", limit).replacen(
        "seed = 7\n",
        &format!(
            "seed = 7\npartners = {:?}\n",
            partners.display().to_string()
        ),
        1,
    );
    ExperimentConfig::from_toml(&text, Path::new("e.toml"), &[]).unwrap()
}

/// The experiment `text` with `method` (an inline TOML table), starting
/// from the run at `init`, then `overrides`.
fn continuing(text: &str, init: &Path, method: &str, overrides: &[&str]) -> ExperimentConfig {
    let mut all = vec![
        format!("init = {:?}", init.display().to_string()),
        format!("method = {method}"),
    ];
    all.extend(overrides.iter().map(|o| o.to_string()));
    ExperimentConfig::from_toml(text, Path::new("e.toml"), &all).unwrap()
}

/// [`partnered`] as SCAN, starting from the encoder of the run at `init`.
fn scan_from(init: &Path, partners: &Path, overrides: &[&str]) -> ExperimentConfig {
    let text = partnered(256, partners).to_toml();
    continuing(&text, init, "{ name = \"scan\", clusters = 4 }", overrides)
}

/// The SimCLR test experiment on 256 images as self-labelling, continuing the run at `init`.
fn self_label_from(init: &Path, overrides: &[&str]) -> ExperimentConfig {
    let mut all = vec!["name = \"self-label\""];
    all.extend(overrides);
    let method = "{ name = \"self_label\", clusters = 4, threshold = 0.5 }";
    continuing(&experiment("simclr", 256), init, method, &all)
}

#[test]
fn mined_neighbours_pair_the_views_of_a_later_run() {
    let tmp = tempfile::tempdir().unwrap();
    let first = pretrain_small("simclr", 256, tmp.path());
    let mined = mine_neighbours(&first, 5, &device()).unwrap();
    assert_eq!(mined.path, first.join("neighbours.bin"));
    assert_eq!(mined.label_agreement, None, "the run's data has no labels");
    let table = Partners::read(&mined.path).unwrap();
    assert_eq!(table, mined.partners);
    assert_eq!((table.len(), table.k()), (256, 5));

    // Mined without labels, the neighbours still share their image's digit
    // far more often than the one time in ten of chance.
    let labelled = DatasetConfig::Idx {
        images: mnist_images(),
        labels: Some(root().join("datasets/mnist/train-labels-idx1-ubyte.gz")),
        limit: Some(256),
    }
    .load(Path::new("."))
    .unwrap();
    let labels = labelled.labels().unwrap();
    let same = (0..256)
        .flat_map(|i| table.of(i).iter().map(move |&j| (i, j as usize)))
        .filter(|&(i, j)| labels[i] == labels[j])
        .count();
    assert!(same as f64 / (256.0 * 5.0) > 0.4, "{same} of 1280 agree");

    // A run paired with those neighbours trains, and its loss falls.
    let out = tmp.path().join("second");
    let summary = pretrain(
        &partnered(256, &mined.path),
        &out,
        &info(),
        &[device()],
        &mut NoObserver,
    )
    .unwrap();
    assert!(
        summary.last_train_loss < summary.first_train_loss,
        "{summary:?}"
    );

    // A table of other data is refused before training, naming it.
    let third = tmp.path().join("third");
    let e = pretrain(
        &partnered(128, &mined.path),
        &third,
        &info(),
        &[device()],
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(matches!(e, TrainError::Data(_)), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("neighbours.bin")
            && e.contains("holds neighbours of 256 images, but the dataset has 128"),
        "{e}"
    );
}

#[test]
fn scan_starts_from_the_mined_runs_encoder_and_self_labelling_continues_it() {
    let tmp = tempfile::tempdir().unwrap();
    let first = pretrain_small("simclr", 256, tmp.path());
    let mined = mine_neighbours(&first, 5, &device()).unwrap();

    let config = scan_from(&first, &mined.path, &[]);
    let out = tmp.path().join("scan");
    let summary = pretrain(&config, &out, &info(), &[device()], &mut NoObserver).unwrap();
    assert!(
        summary.last_train_loss < summary.first_train_loss,
        "{summary:?}"
    );

    // Its encoder starts as the first run's: with a learning rate too small
    // to move a weight, the embeddings in training mode (batch statistics,
    // so batch norm's running averages, re-estimated by the new run, do not
    // count) are the first run's, and a new encoder's are far.
    let still = scan_from(
        &first,
        &mined.path,
        &["train.optimizer.lr = 1e-12", "name = \"still\""],
    );
    let still = pretrain(&still, &out, &info(), &[device()], &mut NoObserver).unwrap();
    let training = device().autodiff();
    let run = EvaluatedRun::open(&first).unwrap();
    let digits = DatasetConfig::Idx {
        images: mnist_images(),
        labels: None,
        limit: Some(16),
    }
    .load(Path::new("."))
    .unwrap();
    let pixels: Vec<f32> = (0..16)
        .flat_map(|i| digits.image(i).iter().map(|&p| p as f32 / 255.0))
        .collect();
    let embed = |encoder: pretext::nn::Encoder| {
        let x = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [16, 1, 28, 28]), &training);
        encoder.forward(x).into_data().try_to_vec::<f32>().unwrap()
    };
    let reference = embed(run.encoder(&training).unwrap());
    let distance = |other: &[f32]| {
        let gap = reference
            .iter()
            .zip(other)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>();
        (gap / reference.iter().map(|a| a * a).sum::<f32>()).sqrt()
    };
    let from_first = distance(&embed(
        EvaluatedRun::open(&still.run_dir)
            .unwrap()
            .encoder(&training)
            .unwrap(),
    ));
    let from_new = distance(&embed(run.random_encoder(7, &training)));
    assert!(
        from_first < 1e-4 && from_new > 0.1,
        "{from_first} {from_new}"
    );

    // Another encoder is refused before anything is written, naming the run.
    let other = scan_from(
        &first,
        &mined.path,
        &["encoder.widths = [4, 8]", "name = \"other\""],
    );
    let e = pretrain(&other, &out, &info(), &[device()], &mut NoObserver).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("config.toml") && message.contains("init needs the same architecture"),
        "{message}"
    );
    assert!(!out.join("other").exists());

    // Self-labelling continues the SCAN run (encoder and head) and trains.
    let labelled = pretrain(
        &self_label_from(&summary.run_dir, &[]),
        &out,
        &info(),
        &[device()],
        &mut NoObserver,
    )
    .unwrap();
    assert!(
        labelled.first_train_loss.is_finite() && labelled.last_train_loss.is_finite(),
        "{labelled:?}"
    );
    // It refuses a run that is not SCAN's, or a head of another shape.
    for (init, overrides, cause) in [
        (
            &first,
            vec![],
            "is a simclr run; self_label continues a scan run",
        ),
        (
            &summary.run_dir,
            vec!["method.clusters = 5", "name = \"five\""],
            "its cluster head has clusters = 4, hidden_dim = 0, but this experiment's has 5, 0",
        ),
    ] {
        let e = pretrain(
            &self_label_from(init, &overrides),
            &out,
            &info(),
            &[device()],
            &mut NoObserver,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("config.toml") && e.contains(cause), "{e}");
    }
}
