//! The seam between evaluation and one kind of data (images, text), as
//! `pretext-train`'s `Pretraining` trait is for the pretraining loop: a task
//! file ([`Task`]), its fine-tuning settings ([`FinetuneConfig`]), their
//! checks, and the runs evaluated ([`Run`]) are written once against this
//! trait; [`Images`] and [`Texts`] implement it.
//!
//! [`FinetuneConfig`]: crate::finetune::FinetuneConfig
use std::fmt::Debug;
use std::path::Path;

use burn::tensor::Device;
use pretext_data::text::{TextDataConfig, TextTokenizer};
use pretext_data::{ChannelStats, DatasetConfig, LabelBudget, Modality, Readout};
use pretext_methods::InputSpec;
use pretext_nn::text::TextEncoder;
use pretext_nn::{Encoder, EncoderConfig, InputShape, TextEncoderConfig, random_streams};
use pretext_train::{
    Checkpoint, Experiment, ExperimentConfig, RunDir, TOKENIZER_FILE, TextExperimentConfig,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::EvalError;
use crate::finetune_loop::Tunable;
use crate::kmeans::KmeansConfig;
use crate::run::{EvaluatedRun, Run, TextRun};
use crate::task::{Baseline, Head, Task};
use crate::text::{LsaConfig, TfidfConfig};
use crate::trained_checkpoint::TrainedCheckpoint;

/// The defaults of `[finetune]` that differ between images and text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinetuneDefaults {
    /// Most epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation accuracy.
    pub patience: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
}

/// What evaluation needs to know about the kind of data it evaluates on:
/// its task files and the runs trained on it.
pub trait Side: Debug + Clone + PartialEq + Sized + Send + Sync + 'static {
    /// A dataset section of the task file (`[train]`, `[test]`).
    type Data: Debug + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync;
    /// A run's resolved experiment.
    type Experiment;
    /// The architecture of a run's encoder (an experiment's `[encoder]`).
    type EncoderConfig: Clone + Debug;
    /// What inputs go through before the encoder.
    type Preprocessing: Clone;
    /// The encoder a run trains.
    type Encoder: Tunable;
    /// What the samples are.
    const MODALITY: Modality;
    /// The `[finetune]` defaults.
    const FINETUNE: FinetuneDefaults;

    /// The budgets of a task that names none.
    fn default_budgets() -> Vec<LabelBudget>;
    /// The heads of a task that names none.
    fn default_heads() -> Vec<Head>;
    /// The baselines of a task that names none.
    fn default_baselines() -> Vec<Baseline>;
    /// `data` with its relative paths made relative to `base`.
    fn resolved(data: Self::Data, base: &Path) -> Self::Data;
    /// The checks only this kind of data has, naming the key at fault.
    fn check(task: &Task<Self>) -> Result<(), String>;
    /// The experiment and preprocessing of the run in `dir`, whose
    /// checkpoint is `trained`; an error for a run of the other kind.
    fn read_run(
        dir: &RunDir,
        trained: &TrainedCheckpoint,
    ) -> Result<(Self::Experiment, Self::Preprocessing), EvalError>;
    /// The architecture of the encoder `experiment` trains.
    fn encoder_config(experiment: &Self::Experiment) -> &Self::EncoderConfig;
    /// The run's pretrained encoder, loaded on `device`.
    fn encoder(run: &Run<Self>, device: &Device) -> Result<Self::Encoder, EvalError>;
    /// A randomly initialised encoder of the run's architecture.
    fn random_encoder(run: &Run<Self>, seed: u64, device: &Device) -> Self::Encoder;
}

/// Images: datasets in any image format, the k-means baseline, readouts of
/// an encoder's maps, augmented fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Images;

/// Texts: sentences or documents, the TF-IDF baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Texts;

fn budgets(names: &[&str]) -> Vec<LabelBudget> {
    names
        .iter()
        .map(|b| b.parse().expect("valid default budget"))
        .collect()
}

impl Side for Images {
    type Data = DatasetConfig;
    type Experiment = ExperimentConfig;
    type EncoderConfig = EncoderConfig;
    type Preprocessing = InputSpec;
    type Encoder = Encoder;
    const MODALITY: Modality = Modality::Image;
    const FINETUNE: FinetuneDefaults = FinetuneDefaults {
        max_epochs: 100,
        patience: 15,
        batch_size: 64,
        weight_decay: 1e-4,
    };

    fn default_budgets() -> Vec<LabelBudget> {
        budgets(&[
            "1/class",
            "5/class",
            "10/class",
            "100/class",
            "1%",
            "10%",
            "all",
        ])
    }

    fn default_heads() -> Vec<Head> {
        vec![Head::Linear, Head::Knn, Head::Mlp, Head::Finetune]
    }

    fn default_baselines() -> Vec<Baseline> {
        vec![
            Baseline::RawPixels,
            Baseline::RandomInit,
            Baseline::Supervised,
        ]
    }

    fn resolved(data: DatasetConfig, base: &Path) -> DatasetConfig {
        data.resolved(base)
    }

    fn check(task: &Task<Self>) -> Result<(), String> {
        task.readout.validate()?;
        if task.tfidf != TfidfConfig::default() {
            return Err("tfidf: the TF-IDF baseline is for text tasks".into());
        }
        if task.lsa != LsaConfig::default() {
            return Err("lsa: the LSA baseline is for text tasks".into());
        }
        if task.compares_with(Baseline::Kmeans) {
            task.kmeans.validate()?;
        }
        Ok(())
    }

    fn read_run(
        dir: &RunDir,
        trained: &TrainedCheckpoint,
    ) -> Result<(ExperimentConfig, InputSpec), EvalError> {
        let config = ExperimentConfig::load(&dir.config_path(), &[])?;
        let input = match trained.state.input.clone() {
            Some(spec) => spec,
            None => {
                // Runs older than `state.input`: recompute from the pretraining data.
                let data = config.data.load(&config.base_dir)?;
                let (c, h, w) = data.shape();
                InputSpec::normalized(InputShape::new(c, h, w), &ChannelStats::of(&data))
            }
        };
        Ok((config, input))
    }

    fn encoder_config(experiment: &ExperimentConfig) -> &EncoderConfig {
        &experiment.encoder
    }

    fn encoder(run: &EvaluatedRun, device: &Device) -> Result<Encoder, EvalError> {
        Ok(run.method(device)?.into_encoder())
    }

    fn random_encoder(run: &EvaluatedRun, seed: u64, device: &Device) -> Encoder {
        let _streams = random_streams::hold_seeded(device, seed);
        run.config.encoder.init(run.input().shape, device)
    }
}

impl Side for Texts {
    type Data = TextDataConfig;
    type Experiment = TextExperimentConfig;
    type EncoderConfig = TextEncoderConfig;
    type Preprocessing = TextTokenizer;
    type Encoder = TextEncoder;
    const MODALITY: Modality = Modality::Text;
    const FINETUNE: FinetuneDefaults = FinetuneDefaults {
        max_epochs: 40,
        patience: 8,
        batch_size: 32,
        weight_decay: 1e-2,
    };

    fn default_budgets() -> Vec<LabelBudget> {
        budgets(&["8/class", "64/class", "all"])
    }

    fn default_heads() -> Vec<Head> {
        vec![Head::Linear, Head::Knn]
    }

    fn default_baselines() -> Vec<Baseline> {
        vec![
            Baseline::Tfidf,
            Baseline::Lsa,
            Baseline::RandomInit,
            Baseline::Supervised,
        ]
    }

    fn resolved(data: TextDataConfig, base: &Path) -> TextDataConfig {
        data.resolved(base)
    }

    fn check(task: &Task<Self>) -> Result<(), String> {
        if task.kmeans != KmeansConfig::default() {
            return Err("kmeans: the k-means baseline is for image tasks".into());
        }
        if task.readout != Readout::default() {
            return Err("readout: text encoders are read out by their embedding only".into());
        }
        if task.finetune.augment.is_some() {
            return Err("finetune.augment: text fine-tuning takes no image augmentations".into());
        }
        task.tfidf.validate()?;
        task.lsa.validate()
    }

    fn read_run(
        dir: &RunDir,
        _trained: &TrainedCheckpoint,
    ) -> Result<(TextExperimentConfig, TextTokenizer), EvalError> {
        let config = match Experiment::load(&dir.config_path(), &[])? {
            Experiment::Text(c) => c,
            Experiment::Image(_) => {
                return Err(EvalError::Run {
                    path: dir.path().to_path_buf(),
                    reason: "is an image run; a text task needs a text run".into(),
                });
            }
        };
        let tokenizer = TextTokenizer::load(&dir.path().join(TOKENIZER_FILE))?;
        Ok((config, tokenizer))
    }

    fn encoder_config(experiment: &TextExperimentConfig) -> &TextEncoderConfig {
        &experiment.encoder
    }

    fn encoder(run: &TextRun, device: &Device) -> Result<TextEncoder, EvalError> {
        let _streams = random_streams::hold([device]);
        let tokenizer = run.tokenizer();
        let method = run.config.method.init(
            &run.config.encoder,
            tokenizer.vocab_size(),
            tokenizer.max_len(),
            device,
        );
        Ok(Checkpoint::load_method(&run.trained.dir, method)?.into_encoder())
    }

    fn random_encoder(run: &TextRun, seed: u64, device: &Device) -> TextEncoder {
        let _streams = random_streams::hold_seeded(device, seed);
        let tokenizer = run.tokenizer();
        run.config
            .encoder
            .init(tokenizer.vocab_size(), tokenizer.max_len(), device)
    }
}
