//! Mined positive partners: for each image of a dataset, the indices of its
//! `k` nearest neighbours under an encoder pretrained before (written by
//! `pretext neighbours <run>`). A run given such a table makes an image's
//! second and later views from one of its neighbours, drawn per epoch, so
//! the positive pair of a two-view method joins two images the first encoder
//! found alike, not only two augmentations of one image: neighbour positives
//! as in NNCLR (Dwibedi et al. 2021) and the neighbour mining of SCAN
//! (Van Gansbeke et al. 2020), mined once from a finished run.
//!
//! The file is little-endian: the 8 bytes `PTXNBR1\n`, the number of images
//! and `k` as `u64`, then `k` image indices (`u32`) per image, nearest first.
use std::path::Path;

use rand::{Rng as _, SeedableRng};

use crate::{DataError, Rng};

/// The first bytes of a partners file.
const MAGIC: &[u8; 8] = b"PTXNBR1\n";

/// Each image's `k` nearest neighbours, as dataset indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partners {
    k: usize,
    /// `k` indices per image, nearest first.
    table: Vec<u32>,
}

impl Partners {
    /// A table of `k` neighbours per image (`table.len()` a multiple of
    /// `k`), each an index below the number of images and not the image
    /// itself.
    pub fn new(k: usize, table: Vec<u32>) -> Result<Self, String> {
        if k == 0 {
            return Err("a partners table needs at least one neighbour per image".into());
        }
        if !table.len().is_multiple_of(k) {
            return Err(format!(
                "{} indices do not divide into rows of {k}",
                table.len()
            ));
        }
        let n = table.len() / k;
        for (i, row) in table.chunks_exact(k).enumerate() {
            if let Some(&j) = row.iter().find(|&&j| j as usize >= n || j as usize == i) {
                return Err(format!(
                    "image {i} has neighbour {j}, which is itself or not one of the {n} images"
                ));
            }
        }
        Ok(Self { k, table })
    }

    /// Neighbours per image.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.table.len() / self.k
    }

    /// Whether the table has no image.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The neighbours of image `i`, nearest first.
    pub fn of(&self, i: usize) -> &[u32] {
        &self.table[i * self.k..(i + 1) * self.k]
    }

    /// One of image `i`'s neighbours, drawn uniformly by `seed`.
    pub fn pick(&self, i: usize, seed: u64) -> usize {
        let row = self.of(i);
        row[Rng::seed_from_u64(seed).random_range(0..row.len())] as usize
    }

    /// The file's bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(24 + 4 * self.table.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&(self.k as u64).to_le_bytes());
        for &j in &self.table {
            bytes.extend_from_slice(&j.to_le_bytes());
        }
        bytes
    }

    /// Reads a partners file; an error names the file and the cause, and a
    /// missing file the command that writes it.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DataError::format(path, missing(path)),
            _ => DataError::io(path, e),
        })?;
        let bad = |reason: String| DataError::format(path, reason);
        if bytes.len() < 24 || &bytes[..8] != MAGIC {
            return Err(bad(
                "not a partners file (write one with `pretext neighbours <run>`)".into(),
            ));
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let (n, k) = (word(8), word(16));
        let want = n
            .checked_mul(k)
            .and_then(|c| c.checked_mul(4))
            .and_then(|c| c.checked_add(24));
        if want != Some(bytes.len() as u64) {
            return Err(bad(format!(
                "{} bytes, but a table of {n} images × {k} neighbours needs {}",
                bytes.len(),
                want.map_or("more than memory holds".into(), |w| w.to_string())
            )));
        }
        let table = bytes[24..]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        Self::new(k as usize, table).map_err(bad)
    }

    /// Checks that the table covers exactly the `images` of the dataset it
    /// is used with; `path` names the table in the error.
    pub fn check_len(&self, images: usize, path: &Path) -> Result<(), DataError> {
        if self.len() != images {
            return Err(DataError::format(
                path,
                format!(
                    "holds neighbours of {} images, but the dataset has {images} (mine them from a run on the same data and data.limit)",
                    self.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Why a partners file is missing and how to write it: `pretext neighbours`
/// writes `<run>/neighbours.bin`, so a file of that name names its run.
fn missing(path: &Path) -> String {
    let run = path
        .parent()
        .filter(|_| path.file_name().is_some_and(|n| n == "neighbours.bin"));
    match run {
        Some(run) => format!(
            "no such file (write it with `pretext neighbours {}` once that run has trained)",
            run.display()
        ),
        None => "no such file (write one with `pretext neighbours <run>`)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Partners {
        // 4 images, 2 neighbours each.
        Partners::new(2, vec![1, 2, 0, 3, 3, 0, 2, 1]).unwrap()
    }

    #[test]
    fn round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.bin");
        std::fs::write(&path, table().to_bytes()).unwrap();
        let back = Partners::read(&path).unwrap();
        assert_eq!(back, table());
        assert_eq!((back.len(), back.k()), (4, 2));
        assert_eq!(back.of(2), [3, 0]);
    }

    #[test]
    fn picks_each_neighbour_and_only_neighbours() {
        let t = table();
        let picked: std::collections::BTreeSet<usize> = (0..200).map(|s| t.pick(1, s)).collect();
        assert_eq!(picked, [0, 3].into_iter().collect());
        assert_eq!(t.pick(1, 7), t.pick(1, 7));
    }

    #[test]
    fn refuses_bad_tables_and_files() {
        assert!(Partners::new(0, vec![]).is_err());
        assert!(Partners::new(2, vec![1, 2, 0]).is_err());
        // Image 1 listed as its own neighbour; an index past the end.
        assert!(Partners::new(1, vec![1, 1]).is_err());
        assert!(Partners::new(1, vec![1, 2]).is_err());

        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs/simclr-mnist");
        let e = Partners::read(&run.join("neighbours.bin"))
            .unwrap_err()
            .to_string();
        let hint = format!(
            "no such file (write it with `pretext neighbours {}`",
            run.display()
        );
        assert!(e.contains("neighbours.bin") && e.contains(&hint), "{e}");
        let path = dir.path().join("n.bin");
        let e = Partners::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("n.bin: no such file (write one with `pretext neighbours <run>`)"),
            "{e}"
        );
        std::fs::write(&path, b"not a table at all, really").unwrap();
        let e = Partners::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("n.bin") && e.contains("not a partners file"),
            "{e}"
        );
        let mut cut = table().to_bytes();
        cut.pop();
        std::fs::write(&path, &cut).unwrap();
        let e = Partners::read(&path).unwrap_err().to_string();
        assert!(e.contains("4 images × 2 neighbours needs 56"), "{e}");
        let e = table().check_len(5, &path).unwrap_err().to_string();
        assert!(e.contains("4 images, but the dataset has 5"), "{e}");
    }
}
