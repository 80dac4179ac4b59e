//! Starting a run from an earlier run (the experiment's `init`): the
//! encoder's weights are the earlier run's last good checkpoint's, the
//! method's heads are new, except that self-labelling continues a SCAN
//! run's cluster head too. Used by the methods that refine a pretrained
//! encoder (SCAN, self-labelling), and by any method to continue from
//! another's encoder.
use std::path::Path;

use burn::tensor::Device;
use pretext_methods::{InputSpec, Method};

use crate::{Checkpoint, Experiment, ExperimentConfig, Needs, RunDir, TrainError};

/// `config`'s method built on `device` from the trained method of the run
/// at `dir`, after checking it is an image run with the same encoder
/// settings (and, for self-labelling, a SCAN run with the same head). The
/// device is seeded with the run's seed once the earlier run is loaded.
pub(crate) fn method_from_run(
    dir: &Path,
    config: &ExperimentConfig,
    spec: &InputSpec,
    device: &Device,
) -> Result<Method, TrainError> {
    let run = RunDir::open(dir)?;
    let config_path = run.config_path();
    let refuse = |reason: String| TrainError::Config {
        path: config_path.clone(),
        reason,
    };
    let source = match Experiment::load(&config_path, &[])? {
        Experiment::Image(source) => source,
        Experiment::Text(_) => {
            return Err(refuse(
                "is a text run; init needs an image run's encoder".into(),
            ));
        }
    };
    if source.encoder != config.encoder {
        return Err(refuse(format!(
            "its encoder ({}) differs from this experiment's ({}); init needs the same architecture",
            one_line(&source.encoder),
            one_line(&config.encoder)
        )));
    }
    config
        .method
        .continues_from(&source.method)
        .map_err(refuse)?;
    let good = Checkpoint::find_good(&run.checkpoint_dir(), Needs::Model)?;
    let source_spec = good.state.input.clone().unwrap_or_else(|| spec.clone());
    let trained = source.method.init(&source.encoder, &source_spec, device);
    let trained = Checkpoint::load_method(&good.dir, trained)?;
    // The new heads' draws follow from this run's seed alone.
    device.seed(config.seed);
    Ok(config
        .method
        .init_from(trained, &config.encoder, spec, device))
}

/// Encoder settings as one line of TOML-like text, for messages.
fn one_line(encoder: &pretext_nn::EncoderConfig) -> String {
    toml::to_string(encoder)
        .map(|t| t.lines().collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| format!("{encoder:?}"))
}
