//! A text encoder alone, for other programs: `encoder.safetensors` with
//! PyTorch's names and layouts (`tokens.weight` `[vocab, width]`, layer norm
//! `weight`/`bias`, linear weights `[out, in]`), the run's `tokenizer.json`
//! (Hugging Face `tokenizers`), and `config.json` describing the
//! architecture, the tokenisation and every tensor's name and shape.
use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use pretext_data::text::TextTokenizer;
use pretext_nn::TextEncoderConfig;
use serde::{Deserialize, Serialize};

use crate::export::{
    CONFIG, WEIGHTS, create_out_dir, load_weights, read_config, safetensors_bytes, tensor_shapes,
    write,
};
use crate::{Error, TextEncoder};

/// The tokenizer file of a text export.
pub const TOKENIZER: &str = "tokenizer.json";

/// `config.json` of a text export: what a program needs to rebuild the
/// encoder and feed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextExportConfig {
    /// The architecture (as in an experiment's `[encoder]` table).
    pub encoder: TextEncoderConfig,
    /// Number of token ids: rows of `tokens.weight`.
    pub vocab_size: usize,
    /// Texts are cut to this many tokens (no special tokens are added; id 0
    /// is padding, which never changes an embedding).
    pub max_len: usize,
    /// Numbers per embedding.
    pub embedding_dim: usize,
    /// The tokenizer file beside this one.
    pub tokenizer: String,
    /// Every tensor of `encoder.safetensors`: name → shape.
    pub tensors: BTreeMap<String, Vec<usize>>,
    /// The checkpoint the weights came from.
    pub source: String,
}

/// Writes `encoder.safetensors`, `tokenizer.json` and `config.json` of
/// `encoder` into `dir` (created if needed). Returns the description written.
pub fn export_text_safetensors(
    encoder: &TextEncoder,
    dir: &Path,
) -> Result<TextExportConfig, Error> {
    create_out_dir(dir)?;
    let weights = dir.join(WEIGHTS);
    let bytes = safetensors_bytes(encoder.network(), &weights)?;
    let config = TextExportConfig {
        encoder: encoder.config().clone(),
        vocab_size: encoder.network().vocab_size(),
        max_len: encoder.tokenizer().max_len(),
        embedding_dim: encoder.dim(),
        tokenizer: TOKENIZER.into(),
        tensors: tensor_shapes(&bytes).map_err(|e| Error::export(&weights, e))?,
        source: encoder.source().display().to_string(),
    };
    write(&weights, &bytes)?;
    let tokenizer = dir.join(TOKENIZER);
    let json = encoder
        .tokenizer()
        .to_json()
        .map_err(|e| Error::export(&tokenizer, e))?;
    write(&tokenizer, json.as_bytes())?;
    let json = serde_json::to_vec_pretty(&config).expect("an export config serialises");
    write(&dir.join(CONFIG), &json)?;
    Ok(config)
}

/// Loads a text encoder exported by [`export_text_safetensors`] from `dir`
/// on `device`, with its tokenizer.
pub fn import_text_safetensors(dir: &Path, device: &Device) -> Result<TextEncoder, Error> {
    let config: TextExportConfig = read_config(dir)?;
    let tokenizer = TextTokenizer::load(&dir.join(&config.tokenizer))?;
    if tokenizer.vocab_size() > config.vocab_size {
        return Err(Error::export(
            dir.join(&config.tokenizer),
            format!(
                "has {} tokens but the encoder of config.json takes {}",
                tokenizer.vocab_size(),
                config.vocab_size
            ),
        ));
    }
    let mut network = config
        .encoder
        .init(config.vocab_size, config.max_len, device);
    load_weights(
        &mut network,
        &dir.join(WEIGHTS),
        "a text export holds encoder.safetensors, tokenizer.json and config.json",
    )?;
    Ok(TextEncoder::from_parts(
        network,
        config.encoder,
        tokenizer,
        device,
        dir.to_path_buf(),
    ))
}
