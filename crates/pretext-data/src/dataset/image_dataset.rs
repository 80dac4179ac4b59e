//! The in-memory image dataset every reader produces.
use std::path::PathBuf;

use crate::DataError;

/// Images of one size kept as compact `u8` pixels, channel-first per image,
/// with optional integer labels.
#[derive(Debug, Clone)]
pub struct ImageDataset {
    pixels: Vec<u8>,
    len: usize,
    channels: usize,
    height: usize,
    width: usize,
    labels: Option<Vec<u32>>,
    class_names: Vec<String>,
    source: PathBuf,
}

impl ImageDataset {
    /// Builds a dataset from `len` images of `channels x height x width` pixels
    /// stored one after another, channel-first.
    ///
    /// `labels`, when given, has one entry per image; `class_names` may be empty
    /// (classes are then named by their number). `source` names where the data
    /// came from, for messages.
    pub fn new(
        pixels: Vec<u8>,
        (channels, height, width): (usize, usize, usize),
        labels: Option<Vec<u32>>,
        class_names: Vec<String>,
        source: impl Into<PathBuf>,
    ) -> Result<Self, DataError> {
        let source = source.into();
        let per = channels * height * width;
        if per == 0 {
            return Err(DataError::format(&source, "images have zero size"));
        }
        if !pixels.len().is_multiple_of(per) {
            return Err(DataError::format(
                &source,
                format!(
                    "{} pixel bytes is not a whole number of {channels}x{height}x{width} images",
                    pixels.len()
                ),
            ));
        }
        let len = pixels.len() / per;
        if len == 0 {
            return Err(DataError::format(&source, "the dataset holds no images"));
        }
        if let Some(l) = &labels
            && l.len() != len
        {
            return Err(DataError::format(
                &source,
                format!("{} labels for {len} images", l.len()),
            ));
        }
        Ok(Self {
            pixels,
            len,
            channels,
            height,
            width,
            labels,
            class_names,
            source,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the dataset is empty (never true for a constructed dataset).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `(channels, height, width)` of every image.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.channels, self.height, self.width)
    }

    /// The channel-first `u8` pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let per = self.channels * self.height * self.width;
        &self.pixels[i * per..(i + 1) * per]
    }

    /// The label of image `i`, if the dataset is labelled.
    pub fn label(&self, i: usize) -> Option<u32> {
        self.labels.as_ref().map(|l| l[i])
    }

    /// All labels, if the dataset is labelled.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// Number of classes: the largest label plus one, or the number of class names.
    pub fn num_classes(&self) -> Option<usize> {
        let from_labels = self
            .labels
            .as_ref()
            .map(|l| l.iter().copied().max().map_or(0, |m| m as usize + 1))?;
        Some(from_labels.max(self.class_names.len()))
    }

    /// Class names, possibly empty.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Where the data came from.
    pub fn source(&self) -> &std::path::Path {
        &self.source
    }

    /// The same images without labels (the unlabelled mode).
    pub fn without_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// A new dataset holding the images at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let per = self.channels * self.height * self.width;
        let mut pixels = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Self {
            pixels,
            len: indices.len(),
            channels: self.channels,
            height: self.height,
            width: self.width,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
            source: self.source.clone(),
        }
    }

    /// Keeps at most the first `n` images.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len {
            let per = self.channels * self.height * self.width;
            self.pixels.truncate(n * per);
            if let Some(l) = &mut self.labels {
                l.truncate(n);
            }
            self.len = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_and_labels_follow_indices() {
        let px: Vec<u8> = (0..12).collect();
        let d = ImageDataset::new(px, (1, 2, 2), Some(vec![0, 1, 2]), vec![], "mem").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.num_classes(), Some(3));
        let s = d.subset(&[2, 0]);
        assert_eq!(s.image(0), &[8, 9, 10, 11]);
        assert_eq!(s.labels(), Some(&[2, 0][..]));
    }

    #[test]
    fn mismatched_counts_are_errors() {
        let err = ImageDataset::new(vec![0; 10], (1, 2, 2), None, vec![], "x.bin").unwrap_err();
        assert!(err.to_string().starts_with("x.bin: "), "{err}");
        let err = ImageDataset::new(vec![0; 8], (1, 2, 2), Some(vec![1]), vec![], "y").unwrap_err();
        assert!(err.to_string().contains("1 labels for 2 images"), "{err}");
    }
}
