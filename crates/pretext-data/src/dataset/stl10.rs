//! STL-10 in its binary version: 96x96 RGB images of 27648 bytes each, every
//! channel plane stored column-major (the transpose of row-major), and an
//! optional labels file of one byte per image holding 1..=10. The unlabelled
//! split (`unlabeled_X.bin`) simply has no labels file.
//!
//! Format: <https://cs.stanford.edu/~acoates/stl10/> and its reference reader
//! `stl10_input.py`, which reads `(-1, 3, 96, 96)` then swaps the two image axes.
use std::path::Path;

use super::ImageDataset;
use super::read::{Input, read_all};
use crate::DataError;

/// Side of an STL-10 image.
const SIDE: usize = 96;
/// Bytes of one channel plane.
const PLANE: usize = SIDE * SIDE;
/// Bytes of one image.
const IMAGE: usize = 3 * PLANE;

/// The STL-10 class names in label order (`class_names.txt`).
const NAMES: [&str; 10] = [
    "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
];

/// Reads the images at `images` (transposed to row-major planes) and, when
/// given, the labels at `labels` (shifted to 0..=9), keeping the first `limit`
/// images; the images past `limit` are never read.
pub(crate) fn load(
    images: &Path,
    labels: Option<&Path>,
    limit: Option<usize>,
) -> Result<ImageDataset, DataError> {
    let mut input = Input::open(images)?;
    let not_whole = |len: u64| {
        DataError::format(
            images,
            format!("{len} bytes is not a whole number of 96x96x3 images ({IMAGE} bytes each)"),
        )
    };
    let known_total = input.known_remaining();
    if let Some(len) = known_total
        && !len.is_multiple_of(IMAGE as u64)
    {
        return Err(not_whole(len));
    }
    let raw = input.read_up_to(limit.unwrap_or(usize::MAX).saturating_mul(IMAGE))?;
    if !raw.len().is_multiple_of(IMAGE) {
        return Err(not_whole(raw.len() as u64));
    }
    let n = raw.len() / IMAGE;
    // The number of images in the whole file, when known.
    let total = match (known_total, limit) {
        (Some(len), _) => Some((len / IMAGE as u64) as usize),
        (None, None) => Some(n),
        (None, Some(_)) => None,
    };

    let mut pixels = vec![0u8; raw.len()];
    for (src, dst) in raw.chunks_exact(PLANE).zip(pixels.chunks_exact_mut(PLANE)) {
        for (y, row) in dst.chunks_exact_mut(SIDE).enumerate() {
            for (x, p) in row.iter_mut().enumerate() {
                *p = src[x * SIDE + y];
            }
        }
    }

    let labels = match labels {
        Some(path) => Some(load_labels(path, images, n, total)?),
        None => None,
    };
    let names = NAMES.iter().map(|s| s.to_string()).collect();
    ImageDataset::new(pixels, (3, SIDE, SIDE), labels, names, images)
}

/// Reads the labels at `path`, one per image of `images` (`total` of them when
/// known), and returns the first `n`, shifted from 1..=10 to 0..=9.
fn load_labels(
    path: &Path,
    images: &Path,
    n: usize,
    total: Option<usize>,
) -> Result<Vec<u32>, DataError> {
    let bytes = read_all(path)?;
    let mismatch = |count: usize| {
        DataError::format(
            path,
            format!(
                "{} labels but {} holds {count} images",
                bytes.len(),
                images.display()
            ),
        )
    };
    match total {
        Some(t) if bytes.len() != t => return Err(mismatch(t)),
        None if bytes.len() < n => return Err(mismatch(n)),
        _ => {}
    }
    bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| match b {
            1..=10 => Ok(u32::from(b - 1)),
            _ => Err(DataError::format(
                path,
                format!("label {b} of image {i} is outside 1..=10"),
            )),
        })
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    /// The value stored at row `y`, column `x` of channel `c` in the test image.
    fn value(c: usize, y: usize, x: usize) -> u8 {
        ((c * 31 + y * 7 + x * 3) % 256) as u8
    }

    /// One image in the file layout: each channel column-major.
    fn stl_image() -> Vec<u8> {
        let mut bytes = vec![0u8; IMAGE];
        for c in 0..3 {
            for y in 0..SIDE {
                for x in 0..SIDE {
                    bytes[c * PLANE + x * SIDE + y] = value(c, y, x);
                }
            }
        }
        bytes
    }

    #[test]
    fn one_image_loads_transposed_to_row_major() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("train_X.bin");
        let labels = dir.path().join("train_y.bin");
        std::fs::write(&images, stl_image()).unwrap();
        std::fs::write(&labels, [10u8]).unwrap();
        let data = load(&images, Some(&labels), None).unwrap();
        assert_eq!(data.len(), 1);
        assert_eq!(data.shape(), (3, 96, 96));
        assert_eq!(data.labels(), Some(&[9][..]));
        assert_eq!(data.class_names()[9], "truck");
        let img = data.image(0);
        // Row 2, column 5 of the green plane.
        assert_eq!(img[PLANE + 2 * SIDE + 5], value(1, 2, 5));
        assert_ne!(value(1, 2, 5), value(1, 5, 2));
        for c in 0..3 {
            for y in 0..SIDE {
                for x in 0..SIDE {
                    assert_eq!(img[c * PLANE + y * SIDE + x], value(c, y, x));
                }
            }
        }
    }

    #[test]
    fn unlabelled_gzipped_split_loads_with_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("unlabeled_X.bin.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        for _ in 0..3 {
            enc.write_all(&stl_image()).unwrap();
        }
        std::fs::write(&images, enc.finish().unwrap()).unwrap();
        let data = load(&images, None, Some(2)).unwrap();
        assert_eq!(data.len(), 2);
        assert!(data.labels().is_none());
        assert_eq!(data.image(1)[3 * SIDE + 4], value(0, 3, 4));
    }

    #[test]
    fn bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("x.bin");
        let labels = dir.path().join("y.bin");
        std::fs::write(&images, &stl_image()[..1000]).unwrap();
        let err = load(&images, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: 1000 bytes is not a whole number of 96x96x3 images (27648 bytes each)",
                images.display()
            )
        );
        std::fs::write(&images, stl_image()).unwrap();
        std::fs::write(&labels, [0u8]).unwrap();
        let err = load(&images, Some(&labels), None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: label 0 of image 0 is outside 1..=10", labels.display())
        );
        std::fs::write(&labels, [1u8, 2]).unwrap();
        let err = load(&images, Some(&labels), None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: 2 labels but {} holds 1 images",
                labels.display(),
                images.display()
            )
        );
    }
}
