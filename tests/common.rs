//! Shared helpers: the test device and the bundled data.
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pretext::train::{ExperimentConfig, NoObserver, RunInfo, pretrain};

/// The CPU device every test runs on.
pub fn device() -> Device {
    Device::flex()
}

/// The CPU device of tests that compare runs step for step: ndarray sums in
/// one fixed order, where flex's threads may not.
#[allow(deprecated)] // burn-ndarray is deprecated upstream, and still the deterministic one
pub fn deterministic_device() -> Device {
    Device::ndarray()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled MNIST training images.
pub fn mnist_images() -> PathBuf {
    root().join("datasets/mnist/train-images-idx3-ubyte.gz")
}

/// A small experiment on the first `limit` MNIST images, as TOML.
pub fn experiment(method: &str, limit: usize) -> String {
    let two_views = [
        "simclr",
        "nnclr",
        "moco",
        "byol",
        "simsiam",
        "barlow_twins",
        "vicreg",
    ];
    let (views, augment) = if two_views.contains(&method) {
        (2, "mnist")
    } else {
        (1, "none")
    };
    format!(
        r#"
name = "test-{method}"
seed = 7
[data]
format = "idx"
images = "{images}"
limit = {limit}
[augment]
preset = "{augment}"
views = {views}
[encoder]
kind = "small_cnn"
widths = [8, 16]
[method]
name = "{method}"
[train]
epochs = 3
batch_size = 32
val_fraction = 0.2
log_every = 2
[train.optimizer]
kind = "adam"
lr = 0.003
"#,
        images = mnist_images().display()
    )
}

/// Pretrains [`experiment`]`(method, limit)` into `out` and returns the run directory.
pub fn pretrain_small(method: &str, limit: usize, out: &Path) -> PathBuf {
    let config =
        ExperimentConfig::from_toml(&experiment(method, limit), Path::new("e.toml"), &[]).unwrap();
    let info = RunInfo {
        backend: "flex".into(),
        git_revision: None,
    };
    pretrain(&config, out, &info, &[device()], &mut NoObserver)
        .unwrap()
        .run_dir
}
