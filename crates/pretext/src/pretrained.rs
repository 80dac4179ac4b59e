//! A pretrained encoder as other programs hold it, images or text: the
//! network, its architecture and the preprocessing it was trained with,
//! loaded from a run (its last good checkpoint) or an export, with what
//! loading warned of. [`Encoder`](crate::Encoder) and
//! [`TextEncoder`](crate::TextEncoder) are this type for each kind of data
//! (the [`Side`]); how each embeds its inputs lives in `encoder.rs` and
//! `text/encoder.rs`.
use std::fmt;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pretext_eval::finetune::Tunable;
use pretext_eval::{Run, Side};

use crate::Error;

/// A frozen encoder with the preprocessing it was trained with; see
/// [`Encoder`](crate::Encoder) and [`TextEncoder`](crate::TextEncoder).
pub struct Pretrained<K: Side> {
    pub(crate) network: K::Encoder,
    pub(crate) config: K::EncoderConfig,
    pub(crate) preprocessing: K::Preprocessing,
    pub(crate) device: Device,
    source: PathBuf,
    warnings: Vec<String>,
}

impl<K: Side> fmt::Debug for Pretrained<K>
where
    K::Preprocessing: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match K::MODALITY {
            pretext_data::Modality::Image => "Encoder",
            pretext_data::Modality::Text => "TextEncoder",
        };
        f.debug_struct(name)
            .field("config", &self.config)
            .field("preprocessing", &self.preprocessing)
            .field("device", &self.device)
            .field("source", &self.source)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl<K: Side> Pretrained<K> {
    /// Loads the encoder of the run at `run` (its last good checkpoint), and
    /// a text run's `tokenizer.json`, on `device`. When the latest checkpoint
    /// is damaged and the one before it is used, or the run is still
    /// training, it says so in one line on stderr, and
    /// [`Pretrained::warnings`] holds the lines; [`Pretrained::load_strict`]
    /// refuses a damaged checkpoint instead.
    pub fn load(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, false)
    }

    /// Loads the encoder of the run at `run` as [`Pretrained::load`] does,
    /// but fails when its latest checkpoint is damaged rather than use an
    /// older one.
    pub fn load_strict(run: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        Self::load_checked(run.as_ref(), device, true)
    }

    fn load_checked(run: &Path, device: &Device, strict: bool) -> Result<Self, Error> {
        let run = Run::<K>::open(run)?;
        let warnings = crate::stale::check(&run.trained, strict)?;
        let mut encoder = Self::from_parts(
            run.encoder(device)?,
            K::encoder_config(&run.config).clone(),
            run.preprocessing.clone(),
            device,
            run.trained.dir.clone(),
        );
        encoder.warnings = warnings;
        Ok(encoder)
    }

    /// An encoder from its parts (a run's, or an import's).
    pub(crate) fn from_parts(
        network: K::Encoder,
        config: K::EncoderConfig,
        preprocessing: K::Preprocessing,
        device: &Device,
        source: PathBuf,
    ) -> Self {
        Self {
            network,
            config,
            preprocessing,
            device: device.clone(),
            source,
            warnings: Vec::new(),
        }
    }

    /// Numbers per embedding.
    pub fn dim(&self) -> usize {
        self.network.out_dim()
    }

    /// The architecture (an experiment's `[encoder]` table).
    pub fn config(&self) -> &K::EncoderConfig {
        &self.config
    }

    /// The network itself.
    pub fn network(&self) -> &K::Encoder {
        &self.network
    }

    /// Where the weights came from (a checkpoint or an export directory).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// What loading warned of, one line each: a damaged latest checkpoint
    /// passed over for the previous one, a run still training. Empty when
    /// the latest checkpoint of a finished run was loaded.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
