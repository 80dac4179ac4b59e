//! Experiment files through validation: any text, with `--set` overrides
//! after a `---` line, read as an image experiment (`[encoder]`, `[method]`,
//! `[train]`, `[monitor]`, …) and as a text experiment, must load or fail
//! with a one-line error. What loads must survive what a run then does with
//! it before allocating anything: check the encoder against the input
//! shapes pretext reads, weigh the model against the memory budget
//! (`check_fits`, as `pretrain` does), and write the resolved experiment
//! into the run directory, which a resume reads back to the same experiment.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pretext_nn::InputShape;
use pretext_train::{ExperimentConfig, TextExperimentConfig, check_fits};

/// MNIST, CIFAR, the digits set and a large photo.
const SHAPES: [InputShape; 4] = [
    InputShape { channels: 1, height: 28, width: 28 },
    InputShape { channels: 3, height: 32, width: 32 },
    InputShape { channels: 1, height: 8, width: 8 },
    InputShape { channels: 3, height: 224, width: 224 },
];

fn one_line(result: Result<(), pretext_train::TrainError>) {
    if let Err(e) = result {
        let message = e.to_string();
        assert!(!message.contains('\n'), "errors are one line: {message:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (file, overrides) = text.split_once("\n---\n").unwrap_or((text, ""));
    let overrides: Vec<String> = overrides.lines().map(str::to_string).collect();
    let path = Path::new("/nonexistent/pretext-fuzz/experiment.toml");

    one_line(ExperimentConfig::from_toml(file, path, &overrides).map(|config| {
        for input in SHAPES {
            if config.encoder.check_input(input).is_ok() {
                one_line(check_fits(&config, input));
            }
        }
        let resolved = config.to_toml();
        let again = ExperimentConfig::from_toml(&resolved, path, &[])
            .unwrap_or_else(|e| panic!("the resolved experiment does not reload: {e}\n{resolved}"));
        assert_eq!(again.to_toml(), resolved, "reloading changed the experiment");
    }));

    one_line(TextExperimentConfig::from_toml(file, path, &overrides).map(|config| {
        let resolved = config.to_toml();
        let again = TextExperimentConfig::from_toml(&resolved, path, &[])
            .unwrap_or_else(|e| panic!("the resolved text experiment does not reload: {e}\n{resolved}"));
        assert_eq!(again.to_toml(), resolved, "reloading changed the text experiment");
    }));
});
