//! CIFAR-10 and CIFAR-100 in their binary versions: fixed-size records of the
//! label byte(s) followed by 3072 pixel bytes of a 32x32 RGB image, already
//! channel-first (1024 red, 1024 green, 1024 blue, each row-major).
//!
//! CIFAR-10 records carry 1 label byte; CIFAR-100 records carry 2 (the coarse
//! superclass, then the fine class, which is the one kept).
//! Format: <https://www.cs.toronto.edu/~kriz/cifar.html> ("binary version").
use std::path::{Path, PathBuf};

use super::ImageDataset;
use super::read::Input;
use crate::DataError;

/// Side of a CIFAR image.
const SIDE: usize = 32;
/// Pixel bytes of one record.
const PIXELS: usize = 3 * SIDE * SIDE;

/// The CIFAR-10 class names in label order (`batches.meta.txt`).
const CIFAR10_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Reads the records of `files` in order, for `classes` 10 or 100, keeping the
/// first `limit` images; files past the limit are not opened.
pub(crate) fn load(
    files: &[PathBuf],
    classes: usize,
    limit: Option<usize>,
) -> Result<ImageDataset, DataError> {
    let label_bytes = match classes {
        10 => 1,
        100 => 2,
        _ => {
            return Err(DataError::Invalid(format!(
                "cifar `classes` must be 10 or 100, got {classes}"
            )));
        }
    };
    let Some(first) = files.first() else {
        return Err(DataError::Invalid("cifar `files` is empty".into()));
    };
    let record = label_bytes + PIXELS;
    let limit = limit.unwrap_or(usize::MAX);
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for path in files {
        if labels.len() >= limit {
            break;
        }
        let mut input = Input::open(path)?;
        let not_whole = |len: u64| {
            DataError::format(
                path,
                format!(
                    "{len} bytes is not a whole number of {record}-byte cifar-{classes} records"
                ),
            )
        };
        if let Some(len) = input.known_remaining()
            && !len.is_multiple_of(record as u64)
        {
            return Err(not_whole(len));
        }
        let wanted = (limit - labels.len()).saturating_mul(record);
        let bytes = input.read_up_to(wanted)?;
        if !bytes.len().is_multiple_of(record) {
            return Err(not_whole(bytes.len() as u64));
        }
        for (i, rec) in bytes.chunks_exact(record).enumerate() {
            let label = rec[label_bytes - 1];
            if label as usize >= classes {
                return Err(DataError::format(
                    path,
                    format!(
                        "record {i} has label {label}, outside 0..={} of cifar-{classes}",
                        classes - 1
                    ),
                ));
            }
            labels.push(u32::from(label));
            pixels.extend_from_slice(&rec[label_bytes..]);
        }
    }
    ImageDataset::new(
        pixels,
        (3, SIDE, SIDE),
        Some(labels),
        class_names(first, classes),
        first,
    )
}

/// The class names from the names file shipped beside `first`
/// (`batches.meta.txt` or `fine_label_names.txt`), else the known CIFAR-10
/// names, else none (classes are then named by number).
fn class_names(first: &Path, classes: usize) -> Vec<String> {
    let file = if classes == 10 {
        "batches.meta.txt"
    } else {
        "fine_label_names.txt"
    };
    let beside = first.parent().map(|dir| dir.join(file));
    if let Some(text) = beside.and_then(|p| std::fs::read_to_string(p).ok()) {
        let names: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if names.len() == classes {
            return names;
        }
    }
    if classes == 10 {
        CIFAR10_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record whose red plane is all `r`, green all `g`, blue all `b`.
    fn record(labels: &[u8], [r, g, b]: [u8; 3]) -> Vec<u8> {
        let mut rec = labels.to_vec();
        for v in [r, g, b] {
            rec.extend(std::iter::repeat_n(v, SIDE * SIDE));
        }
        rec
    }

    #[test]
    fn two_cifar10_records_load_planar_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data_batch_1.bin");
        let mut bytes = record(&[3], [10, 20, 30]);
        bytes.extend(record(&[9], [40, 50, 60]));
        bytes[1 + 5] = 99; // red plane, row 0, column 5 of the first image
        std::fs::write(&path, &bytes).unwrap();
        let data = load(std::slice::from_ref(&path), 10, None).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.shape(), (3, 32, 32));
        assert_eq!(data.labels(), Some(&[3, 9][..]));
        assert_eq!(data.class_names()[3], "cat");
        let first = data.image(0);
        assert_eq!(
            (first[0], first[5], first[1024], first[2048]),
            (10, 99, 20, 30)
        );
        let second = data.image(1);
        assert_eq!((second[1023], second[1024], second[3071]), (40, 50, 60));
        assert_eq!(load(&[path], 10, Some(1)).unwrap().len(), 1);
    }

    #[test]
    fn cifar100_keeps_the_fine_label_and_reads_several_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.bin");
        let b = dir.path().join("b.bin");
        std::fs::write(&a, record(&[19, 87], [1, 2, 3])).unwrap();
        std::fs::write(&b, record(&[0, 4], [4, 5, 6])).unwrap();
        let data = load(&[a.clone(), b.clone()], 100, None).unwrap();
        assert_eq!(data.labels(), Some(&[87, 4][..]));
        assert_eq!(data.image(1)[0], 4);
        // The second file is never opened when the limit is reached.
        let missing = dir.path().join("missing.bin");
        assert_eq!(load(&[a, missing], 100, Some(1)).unwrap().len(), 1);
    }

    #[test]
    fn wrong_length_and_bad_labels_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.bin");
        // The error of reading `bytes` as the file at `path`, after its path.
        let error_of = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            let err = load(std::slice::from_ref(&path), 10, None)
                .unwrap_err()
                .to_string();
            let prefix = format!("{}: ", path.display());
            err.strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{err:?} does not start with {prefix:?}"))
                .to_string()
        };
        let mut bytes = record(&[1], [0, 0, 0]);
        bytes.push(7);
        assert_eq!(
            error_of(&bytes),
            "3074 bytes is not a whole number of 3073-byte cifar-10 records"
        );
        // A CIFAR-100 record read as CIFAR-10 has a label of 10 or more.
        assert_eq!(
            error_of(&record(&[12], [0, 0, 0])),
            "record 0 has label 12, outside 0..=9 of cifar-10"
        );
        assert!(load(std::slice::from_ref(&path), 20, None).is_err());
        assert!(load(&[], 10, None).is_err());
        std::fs::write(&path, []).unwrap();
        let err = load(std::slice::from_ref(&path), 10, None)
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("{}: the file is empty", path.display()));
    }
}
