//! The encoder alone, for other programs: `encoder.safetensors` with
//! PyTorch's names and layouts (`stages.0.conv.weight`, batch-norm `weight`
//! and `bias`, linear weights `[out, in]`) and `config.json` describing the
//! architecture, the preprocessing and every tensor's name and shape.
use std::collections::BTreeMap;
use std::path::Path;

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;
use pretext_methods::InputSpec;
use pretext_nn::EncoderConfig;
use serde::{Deserialize, Serialize};

use crate::{Encoder, Error};

/// The weights file of an export.
pub const WEIGHTS: &str = "encoder.safetensors";
/// The description of an export.
pub const CONFIG: &str = "config.json";

/// `config.json`: what a program needs to rebuild and feed the encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportConfig {
    /// The architecture (as in an experiment's `[encoder]` table).
    pub encoder: EncoderConfig,
    /// Input shape `[channels, height, width]` and the per-channel mean and
    /// std applied to pixels in `[0, 1]`: `x = (p / 255 - mean) / std`.
    pub input: InputSpec,
    /// Numbers per embedding.
    pub embedding_dim: usize,
    /// Every tensor of `encoder.safetensors`: name → shape.
    pub tensors: BTreeMap<String, Vec<usize>>,
    /// The checkpoint the weights came from.
    pub source: String,
}

/// Writes `encoder.safetensors` and `config.json` of `encoder` into `dir`
/// (created if needed). Returns the description written.
pub fn export_safetensors(encoder: &Encoder, dir: &Path) -> Result<ExportConfig, Error> {
    create_out_dir(dir)?;
    let weights = dir.join(WEIGHTS);
    let bytes = safetensors_bytes(encoder.network(), &weights)?;
    let config = ExportConfig {
        encoder: encoder.config().clone(),
        input: encoder.input().clone(),
        embedding_dim: encoder.dim(),
        tensors: tensor_shapes(&bytes).map_err(|e| Error::export(&weights, e))?,
        source: encoder.source().display().to_string(),
    };
    write(&weights, &bytes)?;
    let json = serde_json::to_vec_pretty(&config).expect("an export config serialises");
    write(&dir.join(CONFIG), &json)?;
    Ok(config)
}

/// Loads an encoder exported by [`export_safetensors`] from `dir` on `device`.
pub fn import_safetensors(dir: &Path, device: &Device) -> Result<Encoder, Error> {
    let config: ExportConfig = read_config(dir)?;
    let mut network = config.encoder.init(config.input.shape, device);
    load_weights(
        &mut network,
        &dir.join(WEIGHTS),
        "an export holds encoder.safetensors and config.json",
    )?;
    Ok(Encoder::from_parts(
        network,
        config.encoder,
        config.input,
        device,
        dir.to_path_buf(),
    ))
}

/// Creates the export directory `dir` (and its parents); a file in its
/// place is refused by name.
pub(crate) fn create_out_dir(dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::export(
            dir,
            "is a file; an export is written into a directory",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// The `config.json` of the export in `dir`.
pub(crate) fn read_config<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<T, Error> {
    let path = dir.join(CONFIG);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::export(&path, e))
}

/// `module` as safetensors bytes with PyTorch names and layouts; `weights`
/// is the file they are for (named in errors).
pub(crate) fn safetensors_bytes<M: ModuleSnapshot>(
    module: &M,
    weights: &Path,
) -> Result<Vec<u8>, Error> {
    let mut store = SafetensorsStore::from_bytes(None)
        .skip_enum_variants(true)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata("producer", "pretext");
    module
        .save_into(&mut store)
        .map_err(|e| Error::export(weights, e))?;
    store.get_bytes().map_err(|e| Error::export(weights, e))
}

/// Loads `network`'s parameters from the safetensors file `weights` (PyTorch
/// names and layouts); every parameter must be there with its shape.
/// `holds` says what an export holds, for a missing file.
pub(crate) fn load_weights<M: ModuleSnapshot>(
    network: &mut M,
    weights: &Path,
    holds: &str,
) -> Result<(), Error> {
    if !weights.is_file() {
        return Err(Error::export(weights, format!("missing ({holds})")));
    }
    let mut store = SafetensorsStore::from_file(weights)
        .skip_enum_variants(true)
        .with_from_adapter(PyTorchToBurnAdapter);
    let result = network
        .load_from(&mut store)
        .map_err(|e| Error::export(weights, e))?;
    match result
        .errors
        .iter()
        .map(|e| format!("{e:?}"))
        .chain(result.missing.iter().map(|m| format!("missing {m:?}")))
        .next()
    {
        Some(problem) => Err(Error::export(
            weights,
            format!("does not fit the architecture of config.json: {problem}"),
        )),
        None => Ok(()),
    }
}

/// Writes atomically (a temporary file, then rename). The write error names
/// the file already, so it is passed on as it is.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    pretext_train::write_atomic(path, bytes).map_err(|e| Error::Eval(e.into()))
}

/// Name → shape of every tensor in a safetensors file's header (8 bytes of
/// little-endian header length, then JSON).
pub(crate) fn tensor_shapes(bytes: &[u8]) -> Result<BTreeMap<String, Vec<usize>>, String> {
    let len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or("shorter than its header")?;
    let header = bytes.get(8..8 + len).ok_or("header longer than the file")?;
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| e.to_string())?;
    Ok(header
        .into_iter()
        .filter(|(name, _)| name != "__metadata__")
        .map(|(name, v)| {
            let shape = v["shape"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect()
                })
                .unwrap_or_default();
            (name, shape)
        })
        .collect())
}
