//! Mined neighbours as positive partners: a finished run's encoder mines
//! each image's nearest neighbours (`pretext neighbours`), and a later run
//! pairs each image's views with one of them (`partners`).
use std::path::Path;

use pretext::data::{DatasetConfig, Partners};
use pretext::eval::mine_neighbours;
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
