//! Starting a run from an earlier run's encoder (the experiment's `init`):
//! the encoder's weights are the earlier run's last good checkpoint's, the
//! method's heads are new. Used by the methods that refine a pretrained
//! encoder (SCAN), and by any method to continue from another's encoder.
use std::path::Path;

use burn::tensor::Device;
use pretext_methods::InputSpec;
use pretext_nn::Encoder;

use crate::{Checkpoint, Experiment, ExperimentConfig, Needs, RunDir, TrainError};

/// The encoder of the run at `dir`, loaded on `device`, after checking it
/// is an image run with the same encoder settings as `config`.
pub(crate) fn encoder_of_run(
    dir: &Path,
    config: &ExperimentConfig,
    spec: &InputSpec,
    device: &Device,
) -> Result<Encoder, TrainError> {
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
    let good = Checkpoint::find_good(&run.checkpoint_dir(), Needs::Model)?;
    let spec = good.state.input.clone().unwrap_or_else(|| spec.clone());
    let method = source.method.init(&source.encoder, &spec, device);
    Ok(Checkpoint::load_method(&good.dir, method)?.into_encoder())
}

/// Encoder settings as one line of TOML-like text, for messages.
fn one_line(encoder: &pretext_nn::EncoderConfig) -> String {
    toml::to_string(encoder)
        .map(|t| t.lines().collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| format!("{encoder:?}"))
}
