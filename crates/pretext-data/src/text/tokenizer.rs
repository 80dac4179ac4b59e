//! A WordPiece tokenizer trained on the corpus itself, with the Hugging Face
//! `tokenizers` crate: BERT's normaliser (clean control characters, split
//! CJK characters, optionally lower-case and strip accents), BERT's
//! pre-tokeniser (split on whitespace and punctuation), a WordPiece model
//! with `##` continuation pieces.
//!
//! Reference: Devlin et al. 2019 (BERT), section 3 and appendix A.2; Wu et
//! al. 2016 (WordPiece). The saved file is a standard `tokenizer.json` that
//! Python's `tokenizers.Tokenizer.from_file` reads; its truncation length is
//! the `max_len` here.
use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{
    AddedToken, Model, NormalizedString, Normalizer, Tokenizer, TokenizerBuilder, TokenizerImpl,
    TruncationParams,
};

use crate::DataError;

/// The special tokens, in id order: `[PAD]` is 0, ..., `[MASK]` is 4.
const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// How the tokenizer is trained and how long an encoded document may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizerConfig {
    /// Largest vocabulary, special tokens included (default 8000). A small
    /// corpus may give fewer.
    pub vocab_size: usize,
    /// Pieces are merged only from pairs seen this often (default 2).
    pub min_frequency: u64,
    /// Tokens kept per document, the rest is cut (default 64).
    pub max_len: usize,
    /// Lower-case and strip accents, as BERT uncased (default true).
    pub lowercase: bool,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            min_frequency: 2,
            max_len: 64,
            lowercase: true,
        }
    }
}

impl TokenizerConfig {
    /// Checks the settings; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let least = SPECIAL.len() + 1;
        if self.vocab_size < least {
            return Err(format!(
                "tokenizer.vocab_size must be at least {least} (the {} special tokens and one piece), got {}",
                SPECIAL.len(),
                self.vocab_size
            ));
        }
        if self.max_len == 0 {
            return Err("tokenizer.max_len must be at least 1, got 0".into());
        }
        Ok(())
    }
}

/// A trained WordPiece tokenizer and the length documents are cut to.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
}

/// Token ids of many documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The ids of each document, in order; never empty.
    pub ids: Vec<Vec<u32>>,
    /// How many documents were longer than `max_len` and cut.
    pub truncated: usize,
}

impl TextTokenizer {
    /// Padding, never a real token.
    pub const PAD: u32 = 0;
    /// A word no piece of the vocabulary spells.
    pub const UNK: u32 = 1;
    /// Start of a sequence (a summary position for a classifier).
    pub const CLS: u32 = 2;
    /// Separator between sequences.
    pub const SEP: u32 = 3;
    /// A masked token (span masking, masked language modelling).
    pub const MASK: u32 = 4;

    /// Trains a vocabulary on `docs`.
    pub fn train(docs: &[String], config: &TokenizerConfig) -> Result<Self, DataError> {
        config.validate().map_err(DataError::Invalid)?;
        if docs.is_empty() {
            return Err(DataError::Invalid(
                "the tokenizer needs at least one document to train on".into(),
            ));
        }
        let failed = |e: tokenizers::Error| DataError::Invalid(format!("tokenizer training: {e}"));
        let mut tokenizer = untrained(WordPiece::default(), config.lowercase).map_err(failed)?;
        // The trainer numbers the `##c` continuation pieces as it meets them
        // in a randomly seeded hash map, and breaks ties between equally
        // frequent pairs by those numbers, so two runs differ. Registering
        // every `##c` up front, in code-point order, fixes their numbers
        // (the trainer numbers its special tokens first, in order).
        let alphabet = alphabet(&tokenizer, docs).map_err(failed)?;
        let mut trainer = WordPieceTrainerBuilder::default()
            .vocab_size(config.vocab_size)
            .min_frequency(config.min_frequency)
            .show_progress(false)
            .special_tokens(
                SPECIAL
                    .iter()
                    .map(|t| AddedToken::from(*t, true))
                    .chain(
                        alphabet
                            .iter()
                            .map(|c| AddedToken::from(format!("##{c}"), true)),
                    )
                    .collect(),
            )
            .build();
        tokenizer.train(&mut trainer, docs.iter()).map_err(failed)?;
        // A fresh tokenizer around the trained vocabulary, so only the five
        // special tokens are special (the `##c` pieces are ordinary pieces).
        let tokenizer =
            untrained(tokenizer.get_model().clone(), config.lowercase).map_err(failed)?;
        Ok(Self {
            inner: Tokenizer::from(tokenizer),
            max_len: config.max_len,
        })
    }

    /// Writes the tokenizer to `path` as a `tokenizer.json` ([`Self::to_json`]).
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        let json = self.to_json().map_err(|e| DataError::format(path, e))?;
        std::fs::write(path, json).map_err(|e| DataError::io(path, e))
    }

    /// The tokenizer as the text of a `tokenizer.json` (Hugging Face
    /// `tokenizers`), with `max_len` as its truncation length; the error says
    /// why it could not be serialised.
    pub fn to_json(&self) -> Result<String, String> {
        let mut out = self.inner.clone();
        out.with_truncation(Some(TruncationParams {
            max_length: self.max_len,
            ..TruncationParams::default()
        }))
        .map_err(|e| format!("cannot set the truncation length: {e}"))?;
        out.to_string(false)
            .map_err(|e| format!("cannot serialise the tokenizer: {e}"))
    }

    /// Reads a tokenizer written by [`Self::save`].
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let mut inner = Tokenizer::from_bytes(&bytes).map_err(|e| {
            let e = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            DataError::format(path, format!("not a tokenizer file: {e}"))
        })?;
        let max_len = inner
            .get_truncation()
            .map(|t| t.max_length)
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                DataError::format(path, "the tokenizer has no truncation length (max_len)")
            })?;
        for (id, token) in SPECIAL.iter().enumerate() {
            if inner.token_to_id(token) != Some(id as u32) {
                return Err(DataError::format(
                    path,
                    format!("the tokenizer does not have {token} as token {id}"),
                ));
            }
        }
        // Text that spells a special token is plain text (not saved in the file).
        inner.set_encode_special_tokens(true);
        // Documents are cut here, in `encode`, which counts what was cut.
        inner
            .with_truncation(None)
            .map_err(|e| DataError::format(path, e.to_string()))?;
        Ok(Self { inner, max_len })
    }

    /// The number of tokens, special tokens included: ids are below this.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Tokens kept per document.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Token ids of one document, no special tokens, truncated to `max_len`;
    /// the bool says whether it was truncated. A document that gives no
    /// token (only control characters) gives `[UNK]`.
    ///
    /// # Panics
    /// If the tokenizer fails, which a WordPiece tokenizer does not.
    pub fn encode(&self, doc: &str) -> (Vec<u32>, bool) {
        let encoding = self
            .inner
            .encode_fast(doc, false)
            .unwrap_or_else(|e| panic!("the tokenizer failed on a document: {e}"));
        let mut ids = encoding.get_ids().to_vec();
        let truncated = ids.len() > self.max_len;
        ids.truncate(self.max_len);
        if ids.is_empty() {
            ids.push(Self::UNK);
        }
        (ids, truncated)
    }

    /// All documents (in parallel with rayon), and how many were truncated.
    pub fn encode_all(&self, docs: &[String]) -> Encoded {
        let encoded: Vec<(Vec<u32>, bool)> = docs.par_iter().map(|d| self.encode(d)).collect();
        let truncated = encoded.iter().filter(|(_, cut)| *cut).count();
        Encoded {
            ids: encoded.into_iter().map(|(ids, _)| ids).collect(),
            truncated,
        }
    }

    /// The text of `ids`: `##` pieces joined to the piece before, other
    /// tokens separated by a space (so punctuation stands apart); `[PAD]` is
    /// dropped, other special tokens show as `[MASK]` and so on.
    ///
    /// # Panics
    /// If the decoder fails, which the WordPiece decoder does not.
    pub fn decode(&self, ids: &[u32]) -> String {
        let ids: Vec<u32> = ids.iter().copied().filter(|&i| i != Self::PAD).collect();
        self.inner
            .decode(&ids, false)
            .unwrap_or_else(|e| panic!("the tokenizer could not decode {ids:?}: {e}"))
    }
}

/// The tokenizer's type while training: concrete parts, not the wrappers.
type Parts = TokenizerImpl<
    WordPiece,
    BertNormalizer,
    BertPreTokenizer,
    PostProcessorWrapper,
    WordPieceDecoder,
>;

/// A tokenizer around `model` with BERT's normaliser and pre-tokeniser, no
/// post-processor (ids carry no special tokens) and a WordPiece decoder. Once
/// the model has a vocabulary, the five special tokens are registered, and
/// text that spells one (`[MASK]`) is read as plain text, not as the token.
fn untrained(model: WordPiece, lowercase: bool) -> tokenizers::Result<Parts> {
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(model)
        .with_normalizer(Some(BertNormalizer::new(
            true, // clean control characters
            true, // split CJK characters
            None, // strip accents exactly when lower-casing
            lowercase,
        )))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(None::<PostProcessorWrapper>)
        // No clean-up: the reference one rewrites "do not" as "don't".
        .with_decoder(Some(WordPieceDecoder::new("##".into(), false)))
        .build()?;
    if tokenizer.get_model().get_vocab_size() > 0 {
        tokenizer.add_special_tokens(SPECIAL.iter().map(|t| AddedToken::from(*t, true)))?;
        tokenizer.set_encode_special_tokens(true);
    }
    Ok(tokenizer)
}

/// The characters of `docs` after normalisation, whitespace excepted, in
/// code-point order.
fn alphabet(tokenizer: &Parts, docs: &[String]) -> tokenizers::Result<Vec<char>> {
    let normalizer = tokenizer
        .get_normalizer()
        .expect("the tokenizer has a normaliser");
    let sets = docs
        .par_iter()
        .map(|doc| {
            let mut text = NormalizedString::from(doc.as_str());
            normalizer.normalize(&mut text)?;
            Ok(text.get().chars().filter(|c| !c.is_whitespace()).collect())
        })
        .collect::<tokenizers::Result<Vec<BTreeSet<char>>>>()?;
    Ok(sets
        .into_iter()
        .flatten()
        .collect::<BTreeSet<char>>()
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::real;
    use crate::text::{TextDataConfig, TextEncoding};

    /// The SST-2 training sentences (6,920, lower-cased, space-tokenised);
    /// `None` where the external data is absent.
    fn sst2() -> Option<Vec<String>> {
        let config = TextDataConfig::LabelText {
            path: real("sentences/stsa.binary.train")?,
            limit: None,
            encoding: TextEncoding::Utf8,
        };
        Some(config.load(Path::new(".")).unwrap().docs().to_vec())
    }

    fn small() -> TokenizerConfig {
        TokenizerConfig {
            vocab_size: 2000,
            max_len: 16,
            ..TokenizerConfig::default()
        }
    }

    #[test]
    fn text_tokenizer_config_validates_with_key_names() {
        assert_eq!(TokenizerConfig::default().validate(), Ok(()));
        let err = TokenizerConfig {
            vocab_size: 5,
            ..TokenizerConfig::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.starts_with("tokenizer.vocab_size must be at least 6"),
            "{err}"
        );
        let err = TokenizerConfig {
            max_len: 0,
            ..TokenizerConfig::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err, "tokenizer.max_len must be at least 1, got 0");
        let c: TokenizerConfig = toml::from_str("max_len = 32").unwrap();
        assert_eq!((c.max_len, c.vocab_size), (32, 8000));
        assert!(toml::from_str::<TokenizerConfig>("vocab = 3").is_err());
    }

    #[test]
    fn text_tokenizer_round_trip_and_special_ids() {
        let Some(docs) = sst2() else { return };
        let tok = TextTokenizer::train(&docs, &small()).unwrap();
        assert!(
            tok.vocab_size() > 1000 && tok.vocab_size() <= 2000,
            "{}",
            tok.vocab_size()
        );
        for (id, token) in SPECIAL.iter().enumerate() {
            assert_eq!(tok.inner.token_to_id(token), Some(id as u32));
        }
        let (ids, cut) = tok.encode("The Movie  was\tGREAT fun");
        assert!(!cut);
        assert!(
            ids.iter()
                .all(|&i| i > TextTokenizer::MASK && (i as usize) < tok.vocab_size())
        );
        assert_eq!(tok.decode(&ids), "the movie was great fun");
        // A rare word is spelled with ## pieces and decodes whole.
        let (ids, _) = tok.encode("seductive");
        assert!(ids.len() > 1, "{ids:?}");
        assert_eq!(tok.decode(&ids), "seductive");
        // Padding is dropped, other special tokens show.
        let mut masked = ids.clone();
        masked[0] = TextTokenizer::MASK;
        masked.push(TextTokenizer::PAD);
        assert!(
            tok.decode(&masked).starts_with("[MASK]"),
            "{}",
            tok.decode(&masked)
        );
    }

    #[test]
    fn text_tokenizer_unknown_and_empty_give_unk() {
        let Some(docs) = sst2() else { return };
        let tok = TextTokenizer::train(&docs, &small()).unwrap();
        let (ids, _) = tok.encode("good \u{6f22} film");
        assert!(ids.contains(&TextTokenizer::UNK), "{ids:?}");
        assert_eq!(tok.encode("\u{7}\u{7}").0, [TextTokenizer::UNK]);
        assert_eq!(tok.encode("").0, [TextTokenizer::UNK]);
        // Text that spells a special token is not that token.
        let (ids, _) = tok.encode("the [MASK] and [PAD]");
        assert!(
            !ids.contains(&TextTokenizer::MASK) && !ids.contains(&TextTokenizer::PAD),
            "{ids:?}"
        );
    }

    #[test]
    fn text_tokenizer_truncates_and_counts() {
        let Some(docs) = sst2() else { return };
        let tok = TextTokenizer::train(&docs, &small()).unwrap();
        let encoded = tok.encode_all(&docs);
        assert_eq!(encoded.ids.len(), docs.len());
        assert!(
            encoded
                .ids
                .iter()
                .all(|ids| !ids.is_empty() && ids.len() <= 16)
        );
        let long = encoded.ids.iter().filter(|ids| ids.len() == 16).count();
        assert!(
            encoded.truncated > 1000 && encoded.truncated <= long,
            "{}",
            encoded.truncated
        );
        assert_eq!(encoded.ids[3], tok.encode(&docs[3]).0);
    }

    #[test]
    fn text_tokenizer_save_load_keeps_ids_and_max_len() {
        let Some(docs) = sst2() else { return };
        let tok = TextTokenizer::train(&docs[..2000], &small()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tok.save(&path).unwrap();
        let back = TextTokenizer::load(&path).unwrap();
        assert_eq!(back.max_len(), 16);
        assert_eq!(back.vocab_size(), tok.vocab_size());
        assert_eq!(back.encode_all(&docs), tok.encode_all(&docs));
        assert_eq!(back.encode("a [MASK] [PAD]"), tok.encode("a [MASK] [PAD]"));
    }

    #[test]
    fn text_tokenizer_training_is_deterministic() {
        // The trainer's hash maps are seeded at random: without the fixed
        // numbering of `##c` pieces, runs gave different vocabularies.
        let Some(docs) = sst2() else { return };
        let first = TextTokenizer::train(&docs[..3000], &small()).unwrap();
        for _ in 0..3 {
            let again = TextTokenizer::train(&docs[..3000], &small()).unwrap();
            assert_eq!(again.inner.get_vocab(true), first.inner.get_vocab(true));
        }
    }

    #[test]
    fn text_tokenizer_load_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.json");
        let err = TextTokenizer::load(&missing).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        assert!(err.to_string().starts_with(&missing.display().to_string()));
        let junk = dir.path().join("junk.json");
        std::fs::write(&junk, "{ not json").unwrap();
        let err = TextTokenizer::load(&junk).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: not a tokenizer file", junk.display())),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn text_tokenizer_keeps_case_when_asked() {
        let docs: Vec<String> = (0..50).map(|i| format!("Hello hello world {i}")).collect();
        let cased = TokenizerConfig {
            vocab_size: 100,
            lowercase: false,
            ..TokenizerConfig::default()
        };
        let tok = TextTokenizer::train(&docs, &cased).unwrap();
        let (ids, _) = tok.encode("Hello hello");
        assert_ne!(ids[0], ids[ids.len() - 1]);
        assert_eq!(tok.decode(&ids), "Hello hello");
        let err = TextTokenizer::train(&[], &cased).unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)), "{err}");
    }
}
