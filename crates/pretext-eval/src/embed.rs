//! Embeddings of a whole dataset by a frozen encoder, and the raw-pixel
//! features of the baseline, both normalised as the encoder's inputs were.
//! Embeddings are cached per run and dataset (see [`cached`]).
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::{BatchLoader, ChannelStats, ImageDataset};
use pretext_nn::{Encoder, Readout};

use crate::EvalError;
use crate::features::Features;

/// The encoder's embedding of every image of `data`, in order, computed in
/// batches on `device` (plain, not autodiff: nothing is trained here), read
/// out as `readout` says ([`Encoder::forward_readout`]; the default is the
/// embedding itself).
///
/// # Panics
/// When the encoder has no such readout (check [`Encoder::readout_dim`]
/// first).
pub fn embed_images(
    encoder: &Encoder,
    data: &Arc<ImageDataset>,
    stats: &ChannelStats,
    readout: Readout,
    device: &Device,
) -> Features {
    let loader = plain_loader(data, (0..data.len()).collect(), stats);
    let dim = encoder
        .readout_dim(readout)
        .expect("the readout was checked against the encoder");
    let mut values = Vec::with_capacity(data.len() * dim);
    for batch in loader.epoch(0) {
        let x = batch.into_view_tensors(device).remove(0); // [b, c, h, w]
        let h = encoder.forward_readout(x, readout); // [b, dim]
        values.extend(
            h.into_data()
                .try_into_vec::<f32>()
                .expect("embeddings are float tensors"),
        );
    }
    Features::new(data.len(), dim, values)
}

/// Batches of the images `indices` of `data` in order, normalised with
/// `stats` and not augmented (see [`BatchLoader::plain`]).
pub(crate) fn plain_loader(
    data: &Arc<ImageDataset>,
    indices: Vec<usize>,
    stats: &ChannelStats,
) -> BatchLoader {
    BatchLoader::plain(data.clone(), indices, stats.clone())
}

/// Every image of `data` as a flat vector of normalised pixels.
pub fn pixel_features(data: &ImageDataset, stats: &ChannelStats) -> Features {
    let (c, h, w) = data.shape();
    let plane = h * w;
    let mut values = Vec::with_capacity(data.len() * c * plane);
    for i in 0..data.len() {
        for (ch, pixels) in data.image(i).chunks_exact(plane).enumerate() {
            let (m, s) = (stats.mean[ch], stats.std[ch]);
            values.extend(pixels.iter().map(|&p| (p as f32 / 255.0 - m) / s));
        }
    }
    Features::new(data.len(), c * plane, values)
}

const MAGIC: &[u8; 8] = b"PTXEMB1\n";

/// Features cached in `path` under `key` (a description of the encoder
/// weights and the dataset): read back when the file holds the same key,
/// otherwise computed by `compute` and written (atomically). A cache file
/// that cannot be read is recomputed, never trusted.
pub fn cached(
    path: &Path,
    key: &str,
    compute: impl FnOnce() -> Features,
) -> Result<Features, EvalError> {
    if let Some(features) = read_cache(path, key) {
        return Ok(features);
    }
    let features = compute();
    write_cache(path, key, &features)?;
    Ok(features)
}

/// Whether `path` holds features cached under `key` (read from its header
/// alone; a damaged body is found, and recomputed, when it is read).
pub(crate) fn is_cached(path: &Path, key: &str) -> bool {
    let read = || -> Option<bool> {
        let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
        let mut head = [0u8; 16];
        file.read_exact(&mut head).ok()?;
        let key_len = u64::from_le_bytes(head[8..].try_into().ok()?) as usize;
        if &head[..8] != MAGIC || key_len != key.len() {
            return Some(false);
        }
        let mut stored = vec![0u8; key_len];
        file.read_exact(&mut stored).ok()?;
        Some(stored == key.as_bytes())
    };
    read().unwrap_or(false)
}

fn read_cache(path: &Path, key: &str) -> Option<Features> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut magic = [0u8; 8];
    file.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let mut word = [0u8; 8];
    let mut next = |file: &mut std::io::BufReader<std::fs::File>| -> Option<u64> {
        file.read_exact(&mut word).ok()?;
        Some(u64::from_le_bytes(word))
    };
    let key_len = next(&mut file)? as usize;
    if key_len != key.len() {
        return None;
    }
    let mut stored = vec![0u8; key_len];
    file.read_exact(&mut stored).ok()?;
    if stored != key.as_bytes() {
        return None;
    }
    let rows = next(&mut file)? as usize;
    let dim = next(&mut file)? as usize;
    let expected = rows.checked_mul(dim)?.checked_mul(4)?;
    let file_len = std::fs::metadata(path).ok()?.len() as usize;
    if file_len != 8 + 8 + key_len + 16 + expected {
        return None;
    }
    let mut bytes = vec![0u8; expected];
    file.read_exact(&mut bytes).ok()?;
    let values = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(Features::new(rows, dim, values))
}

fn write_cache(path: &Path, key: &str, features: &Features) -> Result<(), EvalError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        file.write_all(MAGIC)?;
        file.write_all(&(key.len() as u64).to_le_bytes())?;
        file.write_all(key.as_bytes())?;
        file.write_all(&(features.rows as u64).to_le_bytes())?;
        file.write_all(&(features.dim as u64).to_le_bytes())?;
        for v in &features.data {
            file.write_all(&v.to_le_bytes())?;
        }
        file.flush()
    };
    write().map_err(|e| EvalError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| EvalError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_returns_what_was_stored_under_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c/emb.bin");
        let f = Features::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        let mut calls = 0;
        let got = cached(&path, "k1", || {
            calls += 1;
            f.clone()
        })
        .unwrap();
        assert_eq!(got, f);
        let again = cached(&path, "k1", || panic!("must come from the cache")).unwrap();
        assert_eq!(again, f);
        let other = Features::new(1, 1, vec![9.0]);
        let got = cached(&path, "k2", || other.clone()).unwrap();
        assert_eq!((got, calls), (other, 1));
        // A truncated file is recomputed.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        let got = cached(&path, "k2", || Features::new(1, 1, vec![7.0])).unwrap();
        assert_eq!(got.data, [7.0]);
    }

    #[test]
    fn pixel_features_are_normalised_pixels() {
        let data =
            ImageDataset::new(vec![0, 255, 51, 102], (1, 2, 2), None, vec![], "mem").unwrap();
        let stats = ChannelStats {
            mean: vec![0.5],
            std: vec![0.5],
        };
        let f = pixel_features(&data, &stats);
        assert_eq!((f.rows, f.dim), (1, 4));
        let expected = [-1.0, 1.0, -0.6, -0.2];
        for (a, b) in f.data.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{:?}", f.data);
        }
    }
}
