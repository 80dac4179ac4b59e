//! The text side of a run: the corpus read and split, the WordPiece
//! tokenizer trained on it (saved as `<run>/tokenizer.json`, and read back
//! when the run resumes), every document encoded once, and loaders of
//! token-id views.
use std::path::Path;
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::text::{TextAugmentConfig, TextBatch, TextLoader, TextTokenizer};
use pretext_data::{LoaderConfig, Modality};
use pretext_methods::text::TextMethod;
use pretext_methods::{InputSpec, StepOutput, StepProgress, StepReplicas};
use pretext_nn::text::Tokens;

use crate::pretraining::{Counts, Pretraining, loaders, split_for_training};
use crate::{Observer, TextExperimentConfig, TrainError};

/// The file a text run keeps its tokenizer in.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Tokenizer and loaders of a text run.
pub(crate) struct TextSetup {
    train_loader: TextLoader,
    val_loader: Option<TextLoader>,
    /// The run's tokenizer.
    pub tokenizer: TextTokenizer,
    counts: Counts,
}

impl TextSetup {
    /// A fresh text method of `config` over this setup's tokenizer.
    pub(crate) fn init_method(&self, config: &TextExperimentConfig, device: &Device) -> TextMethod {
        config.method.init(
            &config.encoder,
            self.tokenizer.vocab_size(),
            self.tokenizer.max_len(),
            device,
        )
    }

    /// Reads the corpus and encodes it with `tokenizer`, or with a tokenizer
    /// trained on the corpus's training split when `tokenizer` is `None`.
    /// Skipped empty lines and truncated documents are reported to `observer`.
    pub fn new(
        config: &TextExperimentConfig,
        tokenizer: Option<TextTokenizer>,
        observer: &mut dyn Observer,
    ) -> Result<Self, TrainError> {
        let t = &config.train;
        let data = config.data.load(&config.base_dir)?.without_labels();
        if data.skipped_empty() > 0 {
            observer.on_message(&format!(
                "{}: skipped {} empty documents",
                data.source().display(),
                data.skipped_empty()
            ));
        }
        let (train_idx, val_idx) =
            split_for_training(data.len(), t, config.seed, data.source(), "documents")?;
        let tokenizer = match tokenizer {
            Some(t) => t,
            None => {
                let docs: Vec<String> = train_idx.iter().map(|&i| data.docs()[i].clone()).collect();
                TextTokenizer::train(&docs, &config.tokenizer)?
            }
        };
        let encoded = tokenizer.encode_all(data.docs());
        if encoded.truncated > 0 {
            observer.on_message(&format!(
                "{}: {} of {} documents are longer than tokenizer.max_len = {} tokens and were truncated",
                data.source().display(),
                encoded.truncated,
                data.len(),
                tokenizer.max_len()
            ));
        }
        let tokens = Arc::new(encoded.ids);
        let augment = match config.method.view_deletion() {
            Some(deletion) => TextAugmentConfig {
                deletion,
                ..config.augment
            },
            None => config.augment,
        };
        let views = config.method.views();
        let loader = |indices: Vec<usize>, settings: LoaderConfig| {
            TextLoader::new(tokens.clone(), None, indices, settings).with_views(views, augment)
        };
        let (train_loader, val_loader, counts) =
            loaders((train_idx, val_idx), t, config.seed, loader);
        Ok(Self {
            train_loader,
            val_loader,
            tokenizer,
            counts,
        })
    }
}

/// The batch's token ids as tensors on `device`.
fn tokens(ids: pretext_data::text::TokenIds, device: &Device) -> Tokens {
    Tokens::from_host(ids.ids, ids.mask, ids.shape, device)
}

impl Pretraining for TextSetup {
    const MODALITY: Modality = Modality::Text;
    type Model = TextMethod;
    type Batch = TextBatch;

    /// Saves the tokenizer into the run directory.
    fn save_into(&self, run: &Path) -> Result<(), TrainError> {
        Ok(self.tokenizer.save(&run.join(TOKENIZER_FILE))?)
    }

    fn counts(&self) -> Counts {
        self.counts
    }

    fn train_batches(&self, epoch: usize) -> Box<dyn Iterator<Item = TextBatch> + '_> {
        Box::new(self.train_loader.epoch(epoch))
    }

    fn val_batches(&self) -> Option<Box<dyn Iterator<Item = TextBatch> + '_>> {
        self.val_loader
            .as_ref()
            .map(|l| Box::new(l.epoch(0)) as Box<dyn Iterator<Item = TextBatch>>)
    }

    fn batch_len(batch: &TextBatch) -> usize {
        batch.len()
    }

    fn forward(model: &TextMethod, batch: TextBatch, device: &Device) -> StepOutput {
        let clean = tokens(batch.clean, device);
        let views: Vec<Tokens> = batch.views.into_iter().map(|v| tokens(v, device)).collect();
        model.forward(&clean, &views)
    }

    fn forward_replicated(replicas: StepReplicas<'_, TextMethod>, batch: TextBatch) -> StepOutput {
        // `one_device` refuses text runs over several devices before training.
        Self::forward(replicas.first.model, batch, replicas.first.device)
    }

    fn after_step(model: TextMethod, _keys: Option<Tensor<2>>, _: StepProgress) -> TextMethod {
        model
    }

    fn input(&self) -> Option<InputSpec> {
        None
    }
}
