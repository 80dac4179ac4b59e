//! A pretrained text encoder with its run's tokenizer, for other programs:
//! load it from a run, embed sentences or documents.
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pretext_data::text::TextTokenizer;
use pretext_eval::TextRun;
use pretext_eval::text_embed::embed_texts;
use pretext_nn::TextEncoderConfig;

use crate::Error;

/// The encoder of a text run and the tokenizer it was trained with.
pub struct TextEncoder {
    encoder: pretext_nn::text::TextEncoder,
    config: TextEncoderConfig,
    tokenizer: TextTokenizer,
    device: Device,
    source: PathBuf,
    warnings: Vec<String>,
}

impl TextEncoder {
    /// Loads the encoder of the text run at `run` (its last good checkpoint)
    /// and the run's `tokenizer.json`, on `device`. Warns as
    /// [`crate::Encoder::load`] does.
    pub fn load(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, false)
    }

    /// Loads as [`TextEncoder::load`] does, but fails when the run's latest
    /// checkpoint is damaged rather than use an older one.
    pub fn load_strict(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, true)
    }

    fn load_checked(run: &Path, device: &Device, strict: bool) -> Result<Self, Error> {
        let run = TextRun::open(run)?;
        let warnings = crate::stale::check(&run.trained, strict)?;
        let mut encoder = Self::from_parts(
            run.encoder(device)?,
            run.config.encoder.clone(),
            run.tokenizer.clone(),
            device,
            run.trained.dir.clone(),
        );
        encoder.warnings = warnings;
        Ok(encoder)
    }

    /// An encoder from its parts (a run's, or an import's).
    pub(crate) fn from_parts(
        encoder: pretext_nn::text::TextEncoder,
        config: TextEncoderConfig,
        tokenizer: TextTokenizer,
        device: &Device,
        source: PathBuf,
    ) -> Self {
        Self {
            encoder,
            config,
            tokenizer,
            device: device.clone(),
            source,
            warnings: Vec::new(),
        }
    }

    /// The architecture (an experiment's `[encoder]` table).
    pub fn config(&self) -> &TextEncoderConfig {
        &self.config
    }

    /// Numbers per embedding.
    pub fn dim(&self) -> usize {
        self.encoder.out_dim()
    }

    /// The run's tokenizer (texts longer than its `max_len` tokens are cut).
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The network itself.
    pub fn network(&self) -> &pretext_nn::text::TextEncoder {
        &self.encoder
    }

    /// The checkpoint directory (or export) it was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// What loading warned of, as [`crate::Encoder::warnings`].
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The embedding of each text, in order. Texts are tokenised with the
    /// run's tokenizer and cut to its `max_len` tokens; an empty text embeds
    /// as the unknown token.
    pub fn embed_texts<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<f32>> {
        let tokens: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokenizer.encode(t.as_ref()).0)
            .collect();
        let features = embed_texts(&self.encoder, &tokens, &self.device);
        (0..features.rows)
            .map(|i| features.row(i).to_vec())
            .collect()
    }
}
