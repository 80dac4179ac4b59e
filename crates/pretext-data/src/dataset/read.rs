//! Reading a data file whole or in part, gunzipping it transparently when its
//! name ends in `.gz` or its bytes start with the gzip magic `1f 8b`.
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use crate::{DataError, memory};

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened data file, read from the start; its content is the decompressed
/// stream when the file is gzipped.
pub(crate) struct Input {
    path: PathBuf,
    reader: Box<dyn Read>,
    gzipped: bool,
    /// Content bytes not yet read, when known without reading (plain files).
    remaining: Option<u64>,
}

impl Input {
    /// Opens `path`; a zero-byte file is an error.
    pub(crate) fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
        if len == 0 {
            return Err(DataError::format(path, "the file is empty"));
        }
        let mut buffered = BufReader::new(file);
        let head = buffered.fill_buf().map_err(|e| DataError::io(path, e))?;
        let gzipped = head.starts_with(&GZIP_MAGIC) || has_gz_extension(path);
        let reader: Box<dyn Read> = if gzipped {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            gzipped,
            remaining: (!gzipped).then_some(len),
        })
    }

    /// The file this reads.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Content bytes not yet read, when known without reading them: for a
    /// plain file, never for a gzipped one.
    pub(crate) fn known_remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// Reads the next `n` bytes of content, or fewer when the content ends
    /// first. Memory grows with the bytes actually read, never with `n`.
    pub(crate) fn read_up_to(&mut self, n: usize) -> Result<Vec<u8>, DataError> {
        let capacity = self.remaining.map_or(0, |r| r.min(n as u64) as usize);
        let mut buf = Vec::with_capacity(capacity);
        let read = (&mut self.reader)
            .take(n as u64)
            .read_to_end(&mut buf)
            .map_err(|e| {
                if self.gzipped {
                    DataError::format(&self.path, format!("corrupt gzip stream: {e}"))
                } else {
                    DataError::io(&self.path, e)
                }
            })?;
        if let Some(r) = &mut self.remaining {
            *r = r.saturating_sub(read as u64);
        }
        Ok(buf)
    }

    /// Reads the rest of the content, up to half of the memory budget
    /// ([`memory`]): a format without a header that says its size (CSV,
    /// text) can legitimately need no more, and a small gzip file that
    /// unpacks to gigabytes is refused once the bound is passed, naming it.
    pub(crate) fn read_to_end(&mut self) -> Result<Vec<u8>, DataError> {
        let Some(budget) = memory::budget() else {
            return self.read_up_to(usize::MAX);
        };
        let bound = budget.bytes / 2;
        let refuse = |input: &Self, what: &str, size: f64| {
            let why = budget.allows(size, 0.5).err().unwrap_or_default();
            DataError::format(&input.path, format!("{what} {why}"))
        };
        if let Some(r) = self.remaining
            && r > bound
        {
            return Err(refuse(self, "reading the file", r as f64));
        }
        let buf = self.read_up_to(
            usize::try_from(bound)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        )?;
        if buf.len() as u64 > bound {
            return Err(refuse(self, "unpacking the file", buf.len() as f64));
        }
        Ok(buf)
    }
}

/// Reads the whole content of `path`, gunzipped when it is gzip.
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>, DataError> {
    Input::open(path)?.read_to_end()
}

fn has_gz_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_and_gzipped_files_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let plain = dir.path().join("data.bin");
        let gz = dir.path().join("data.bin.gz");
        let gz_unnamed = dir.path().join("data.bin2");
        std::fs::write(&plain, &content).unwrap();
        std::fs::write(&gz, gzip(&content)).unwrap();
        std::fs::write(&gz_unnamed, gzip(&content)).unwrap();
        assert_eq!(read_all(&plain).unwrap(), content);
        assert_eq!(read_all(&gz).unwrap(), content);
        assert_eq!(read_all(&gz_unnamed).unwrap(), content);
    }

    #[test]
    fn partial_reads_track_what_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("data.bin");
        std::fs::write(&plain, [1u8, 2, 3, 4, 5]).unwrap();
        let mut input = Input::open(&plain).unwrap();
        assert_eq!(input.known_remaining(), Some(5));
        assert_eq!(input.read_up_to(2).unwrap(), [1, 2]);
        assert_eq!(input.known_remaining(), Some(3));
        assert_eq!(input.read_up_to(10).unwrap(), [3, 4, 5]);
        assert_eq!(input.known_remaining(), Some(0));
        let gz = dir.path().join("data.gz");
        std::fs::write(&gz, gzip(&[1, 2, 3])).unwrap();
        let mut input = Input::open(&gz).unwrap();
        assert_eq!(input.known_remaining(), None);
        assert_eq!(input.read_up_to(2).unwrap(), [1, 2]);
        assert_eq!(input.read_to_end().unwrap(), [3]);
    }

    #[test]
    fn corrupt_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let mut bytes = gzip(&content);
        let middle = bytes.len() / 2;
        for b in &mut bytes[20..middle] {
            *b ^= 0x5a;
        }
        let path = dir.path().join("broken.gz");
        std::fs::write(&path, &bytes).unwrap();
        let err = read_all(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: corrupt gzip stream", path.display())),
            "{err}"
        );

        let truncated = dir.path().join("truncated.gz");
        std::fs::write(&truncated, &gzip(&content)[..200]).unwrap();
        let err = read_all(&truncated).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: corrupt gzip stream", truncated.display())),
            "{err}"
        );
    }

    #[test]
    fn empty_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, []).unwrap();
        let err = read_all(&empty).unwrap_err().to_string();
        assert_eq!(err, format!("{}: the file is empty", empty.display()));
        let missing = dir.path().join("missing.bin");
        let err = read_all(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: ", missing.display())),
            "{err}"
        );
    }
}
