//! A trained run opened for evaluation, images or text: its directory, its
//! resolved experiment, what inputs go through before its encoder (the
//! input shape and normalisation, or the tokenizer) and the checkpoint
//! used. [`EvaluatedRun`] and [`TextRun`] are this type for each kind of
//! data; what differs between them is the [`Side`].
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pretext_data::Modality;
use pretext_data::text::TextTokenizer;
use pretext_methods::InputSpec;
use pretext_train::RunDir;

use crate::EvalError;
use crate::side::{Images, Side, Texts};
use crate::trained_checkpoint::TrainedCheckpoint;

/// A run ready to be evaluated.
pub struct Run<M: Side> {
    /// The run directory.
    pub dir: RunDir,
    /// The run's resolved experiment.
    pub config: M::Experiment,
    /// What inputs go through before the encoder: the input shape and
    /// normalisation (images), the tokenizer (text).
    pub preprocessing: M::Preprocessing,
    /// The checkpoint used (its directory and epoch) and what the user
    /// must be warned of.
    pub trained: TrainedCheckpoint,
}

/// An image run ready to be evaluated: its resolved experiment, the
/// checkpoint and the input its encoder expects ([`Run::input`]).
pub type EvaluatedRun = Run<Images>;

/// A text run ready to be evaluated: its experiment, checkpoint and
/// tokenizer ([`Run::tokenizer`]).
pub type TextRun = Run<Texts>;

impl<M: Side> Run<M> {
    /// Opens the run at `path`; it must have a checkpoint, of this kind of
    /// data.
    pub fn open(path: &Path) -> Result<Self, EvalError> {
        let dir = RunDir::open(path)?;
        if dir.modality()? != M::MODALITY {
            let (run, task) = match M::MODALITY {
                Modality::Image => ("a text run", "an image task needs an image run"),
                Modality::Text => ("an image run", "a text task needs a text run"),
            };
            return Err(EvalError::Run {
                path: path.to_path_buf(),
                reason: format!("is {run}; {task}"),
            });
        }
        let trained = TrainedCheckpoint::of(&dir)?;
        let (config, preprocessing) = M::read_run(&dir, &trained)?;
        Ok(Self {
            dir,
            config,
            preprocessing,
            trained,
        })
    }

    /// The pretrained encoder, loaded on `device`.
    pub fn encoder(&self, device: &Device) -> Result<M::Encoder, EvalError> {
        M::encoder(self, device)
    }

    /// A randomly initialised encoder of the same architecture.
    pub fn random_encoder(&self, seed: u64, device: &Device) -> M::Encoder {
        M::random_encoder(self, seed, device)
    }

    /// Where a task's results go: `<run>/eval/<task>`.
    pub fn eval_dir(&self, task: &str) -> PathBuf {
        self.dir.path().join("eval").join(task)
    }
}

impl EvaluatedRun {
    /// Shape and normalisation of the encoder's input.
    pub fn input(&self) -> &InputSpec {
        &self.preprocessing
    }
}

impl TextRun {
    /// The tokenizer the encoder was trained with.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.preprocessing
    }
}
