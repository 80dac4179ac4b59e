//! IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number
//! (`0x00000803` for `u8` images of three dimensions, `0x00000801` for `u8`
//! labels of one), one big-endian `u32` per dimension, then the items.
//!
//! Format: <http://yann.lecun.com/exdb/mnist/> ("file formats" at the bottom).
use std::path::Path;

use super::ImageDataset;
use super::read::Input;
use crate::DataError;

/// Magic number of an IDX file of `u8` images: `[n, height, width]`.
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` labels: `[n]`.
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads the images at `images` and, when given, their labels at `labels`,
/// keeping the first `limit` images. The pixels past `limit` are never read.
pub(crate) fn load(
    images: &Path,
    labels: Option<&Path>,
    limit: Option<usize>,
) -> Result<ImageDataset, DataError> {
    let mut input = Input::open(images)?;
    let dims = read_header(&mut input, IMAGES_MAGIC)?;
    let [n, height, width] = [dims[0], dims[1], dims[2]].map(|d| d as usize);
    let per = height * width; // two u32 fit a 64-bit usize
    if per == 0 {
        return Err(DataError::format(
            images,
            format!("header says images of {height}x{width}, which hold no pixels"),
        ));
    }
    let too_short = |held: u64| {
        DataError::format(
            images,
            format!(
                "header says {n} images of {height}x{width} but the file holds {held} bytes of pixels, \
                 enough for {} images",
                held / per as u64
            ),
        )
    };
    // Compare the claim with the file size before reading (plain files); a
    // gzipped file is checked after reading, which only grows with real data.
    if let Some(held) = input.known_remaining()
        && (n as u64).saturating_mul(per as u64) > held
    {
        return Err(too_short(held));
    }
    let keep = limit.map_or(n, |l| l.min(n));
    let needed = keep.checked_mul(per).ok_or_else(|| too_short(0))?;
    let pixels = input.read_up_to(needed)?;
    if pixels.len() < needed {
        return Err(too_short(pixels.len() as u64));
    }

    let labels = match labels {
        Some(path) => Some(load_labels(path, n, images, keep)?),
        None => None,
    };
    ImageDataset::new(pixels, (1, height, width), labels, Vec::new(), images)
}

/// Reads the first `keep` of the labels at `path`, whose header must count the
/// same `n` items as the images file `images`.
fn load_labels(path: &Path, n: usize, images: &Path, keep: usize) -> Result<Vec<u32>, DataError> {
    let mut input = Input::open(path)?;
    let dims = read_header(&mut input, LABELS_MAGIC)?;
    let count = dims[0] as usize;
    if count != n {
        return Err(DataError::format(
            path,
            format!(
                "header says {count} labels but {} holds {n} images",
                images.display()
            ),
        ));
    }
    let too_short = |held: u64| {
        DataError::format(
            path,
            format!("header says {count} labels but the file holds {held}"),
        )
    };
    if let Some(held) = input.known_remaining()
        && count as u64 > held
    {
        return Err(too_short(held));
    }
    let bytes = input.read_up_to(keep)?;
    if bytes.len() < keep {
        return Err(too_short(bytes.len() as u64));
    }
    Ok(bytes.into_iter().map(u32::from).collect())
}

/// Reads the magic number, checks it is `magic`, and returns the dimensions.
fn read_header(input: &mut Input, magic: u32) -> Result<Vec<u32>, DataError> {
    let what = |m| {
        if m == IMAGES_MAGIC {
            "images"
        } else {
            "labels"
        }
    };
    let short =
        |input: &Input| DataError::format(input.path(), "the file is too short for an idx header");
    let head = input.read_up_to(4)?;
    let found = u32::from_be_bytes(head.try_into().map_err(|_| short(input))?);
    if found != magic {
        let hint = if found == IMAGES_MAGIC || found == LABELS_MAGIC {
            format!(" (this is an idx {} file)", what(found))
        } else {
            String::new()
        };
        return Err(DataError::format(
            input.path(),
            format!(
                "magic number is 0x{found:08x}, expected 0x{magic:08x} for idx {}{hint}",
                what(magic)
            ),
        ));
    }
    let ndim = (magic & 0xff) as usize;
    let bytes = input.read_up_to(4 * ndim)?;
    if bytes.len() < 4 * ndim {
        return Err(short(input));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    use std::path::PathBuf;

    const MNIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/mnist");

    fn idx_bytes(magic: u32, dims: &[u32], items: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(items);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn mnist_test_set_loads() {
        let data = load(
            &Path::new(MNIST).join("t10k-images-idx3-ubyte.gz"),
            Some(&Path::new(MNIST).join("t10k-labels-idx1-ubyte.gz")),
            None,
        )
        .unwrap();
        assert_eq!(data.len(), 10_000);
        assert_eq!(data.shape(), (1, 28, 28));
        assert_eq!(data.label(0), Some(7));
        assert_eq!(data.num_classes(), Some(10));
        // The digit sits in the middle; the corners are background.
        assert_eq!(data.image(0)[0], 0);
        assert!(data.image(0).contains(&255));
    }

    #[test]
    fn limit_reads_a_prefix_of_the_training_set() {
        let data = load(
            &Path::new(MNIST).join("train-images-idx3-ubyte.gz"),
            Some(&Path::new(MNIST).join("train-labels-idx1-ubyte.gz")),
            Some(100),
        )
        .unwrap();
        assert_eq!(data.len(), 100);
        assert_eq!(data.label(0), Some(5)); // the first MNIST training digit is a 5
    }

    #[test]
    fn generated_files_round_trip_raw_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| i as u8 * 10).collect();
        let images = idx_bytes(IMAGES_MAGIC, &[3, 2, 4], &pixels);
        let labels = idx_bytes(LABELS_MAGIC, &[3], &[4, 0, 9]);
        for gz in [false, true] {
            let (img, lab) = if gz {
                (
                    write(dir.path(), "img.idx.gz", &gzip(&images)),
                    write(dir.path(), "lab.idx.gz", &gzip(&labels)),
                )
            } else {
                (
                    write(dir.path(), "img.idx", &images),
                    write(dir.path(), "lab.idx", &labels),
                )
            };
            let data = load(&img, Some(&lab), None).unwrap();
            assert_eq!(data.len(), 3);
            assert_eq!(data.shape(), (1, 2, 4));
            assert_eq!(data.image(1), &pixels[8..16]);
            assert_eq!(data.labels(), Some(&[4, 0, 9][..]));
            let two = load(&img, Some(&lab), Some(2)).unwrap();
            assert_eq!(two.len(), 2);
            assert_eq!(two.labels(), Some(&[4, 0][..]));
            assert!(load(&img, None, None).unwrap().labels().is_none());
        }
    }

    #[test]
    fn truncated_file_is_an_error_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(IMAGES_MAGIC, &[60_000, 28, 28], &[0; 1234]);
        for (name, content) in [("short.idx", bytes.clone()), ("short.idx.gz", gzip(&bytes))] {
            let path = write(dir.path(), name, &content);
            let err = load(&path, None, None).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "{}: header says 60000 images of 28x28 but the file holds 1234 bytes of pixels, \
                     enough for 1 images",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn a_header_claiming_two_to_the_31_images_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(IMAGES_MAGIC, &[1 << 31, 28, 28], &[7; 784 * 2]);
        for (name, content) in [("huge.idx", bytes.clone()), ("huge.idx.gz", gzip(&bytes))] {
            let path = write(dir.path(), name, &content);
            let err = load(&path, None, None).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "{}: header says 2147483648 images of 28x28 but the file holds 1568 bytes",
                    path.display()
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn wrong_magic_and_short_header_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let labels = write(
            dir.path(),
            "labels.idx",
            &idx_bytes(LABELS_MAGIC, &[1], &[3]),
        );
        let err = load(&labels, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: magic number is 0x00000801, expected 0x00000803 for idx images \
                 (this is an idx labels file)",
                labels.display()
            )
        );
        let junk = write(dir.path(), "junk.idx", b"hello world, not idx");
        let err = load(&junk, None, None).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: magic number is 0x68656c6c", junk.display())),
            "{err}"
        );
        let short = write(dir.path(), "short.idx", &[0, 0, 8, 3, 0, 0]);
        let err = load(&short, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: the file is too short for an idx header",
                short.display()
            )
        );
        let zero = write(
            dir.path(),
            "zero.idx",
            &idx_bytes(IMAGES_MAGIC, &[5, 0, 28], &[]),
        );
        let err = load(&zero, None, None).unwrap_err().to_string();
        assert!(err.contains("hold no pixels"), "{err}");
    }

    #[test]
    fn label_count_must_match_image_count() {
        let dir = tempfile::tempdir().unwrap();
        let images = write(
            dir.path(),
            "img.idx",
            &idx_bytes(IMAGES_MAGIC, &[2, 1, 1], &[1, 2]),
        );
        let labels = write(
            dir.path(),
            "lab.idx",
            &idx_bytes(LABELS_MAGIC, &[3], &[0, 1, 2]),
        );
        let err = load(&images, Some(&labels), None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: header says 3 labels but {} holds 2 images",
                labels.display(),
                images.display()
            )
        );
        let short = write(
            dir.path(),
            "short.idx",
            &idx_bytes(LABELS_MAGIC, &[2], &[0]),
        );
        let err = load(&images, Some(&short), None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: header says 2 labels but the file holds 1",
                short.display()
            )
        );
        let empty = write(
            dir.path(),
            "empty.idx",
            &idx_bytes(IMAGES_MAGIC, &[0, 28, 28], &[]),
        );
        let err = load(&empty, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: the dataset holds no images", empty.display())
        );
    }
}
