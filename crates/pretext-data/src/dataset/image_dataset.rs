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
    skipped_files: usize,
    converted_grey: usize,
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
        crate::classes::check_len(&source, len, labels.as_deref(), "images")?;
        Ok(Self {
            pixels,
            len,
            channels,
            height,
            width,
            labels,
            class_names,
            source,
            skipped_files: 0,
            converted_grey: 0,
        })
    }

    /// The same dataset, noting `n` files the reader skipped as not images.
    pub fn with_skipped_files(mut self, n: usize) -> Self {
        self.skipped_files = n;
        self
    }

    /// The same dataset, noting `n` grey images the reader converted to
    /// colour because others in the folder have colour.
    pub fn with_converted_grey(mut self, n: usize) -> Self {
        self.converted_grey = n;
        self
    }

    /// One line on what reading the folder changed or left out, if anything:
    /// files skipped as not images (broken links among them), grey images
    /// converted to colour.
    pub fn reading_note(&self) -> Option<String> {
        let mut parts = Vec::new();
        let n = self.skipped_files;
        if n > 0 {
            parts.push(format!(
                "skipped {n} {} not a PNG or JPEG image (or a broken link)",
                if n == 1 {
                    "file that is"
                } else {
                    "files that are"
                }
            ));
        }
        let g = self.converted_grey;
        if g > 0 {
            parts.push(format!(
                "converted {g} grey {} to colour (the folder has colour images; set `channels = 1` to read every image as grey)",
                if g == 1 { "image" } else { "images" }
            ));
        }
        (!parts.is_empty()).then(|| format!("{}: {}", self.source.display(), parts.join("; ")))
    }

    /// Grey images converted to colour on reading (0 for formats of one file).
    pub fn converted_grey(&self) -> usize {
        self.converted_grey
    }

    /// Files in the dataset's folders that were skipped because they are not
    /// PNG or JPEG images, broken links among them (0 for formats of one
    /// file).
    pub fn skipped_files(&self) -> usize {
        self.skipped_files
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

    /// The class names, or where the dataset has none (IDX, CIFAR batches,
    /// the digits) the label values `"0"`, `"1"`, … up to
    /// [`ImageDataset::num_classes`]; empty when unlabelled.
    pub fn named_classes(&self) -> Vec<String> {
        crate::classes::named(&self.class_names, self.num_classes().unwrap_or(0))
    }

    /// Re-expresses the labels in another class list, matching classes by
    /// name ([`ImageDataset::named_classes`]): a test set mapped onto its
    /// labelled pool's classes. Every class some image uses that is missing
    /// from `class_names` is named in one error for the dataset's source.
    pub fn with_classes(mut self, class_names: &[String]) -> Result<Self, DataError> {
        if let Some(labels) = &self.labels {
            let map = crate::classes::class_map(
                &self.named_classes(),
                labels,
                class_names,
                &self.source,
            )?;
            let labels = self.labels.as_mut().expect("labelled");
            labels.iter_mut().for_each(|l| *l = map[*l as usize]);
        }
        self.class_names = class_names.to_vec();
        Ok(self)
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
            labels: crate::classes::select(self.labels.as_deref(), indices),
            class_names: self.class_names.clone(),
            source: self.source.clone(),
            skipped_files: self.skipped_files,
            converted_grey: self.converted_grey,
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
    fn with_classes_matches_by_name_and_unnamed_classes_by_value() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let test = ImageDataset::new(
            vec![0; 12],
            (1, 2, 2),
            Some(vec![0, 1, 1]),
            names(&["cat", "dog"]),
            "t",
        )
        .unwrap();
        let pool = names(&["BACKGROUND", "cat", "dog"]);
        let mapped = test.with_classes(&pool).unwrap();
        assert_eq!(mapped.labels(), Some(&[1, 2, 2][..]));
        assert_eq!(
            (mapped.class_names(), mapped.num_classes()),
            (&pool[..], Some(3))
        );
        // IDX labels carry no names: matched by value.
        let idx = ImageDataset::new(vec![0; 8], (1, 2, 2), Some(vec![2, 0]), vec![], "i").unwrap();
        assert_eq!(idx.named_classes(), ["0", "1", "2"]);
        let mapped = idx
            .clone()
            .with_classes(&names(&["0", "1", "2", "3"]))
            .unwrap();
        assert_eq!(mapped.labels(), Some(&[2, 0][..]));
        let err = idx
            .with_classes(&names(&["0", "1"]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "i: class `2` is not among the 2 classes `0`, `1`");
    }

    #[test]
    fn mismatched_counts_are_errors() {
        let err = ImageDataset::new(vec![0; 10], (1, 2, 2), None, vec![], "x.bin").unwrap_err();
        assert!(err.to_string().starts_with("x.bin: "), "{err}");
        let err = ImageDataset::new(vec![0; 8], (1, 2, 2), Some(vec![1]), vec![], "y").unwrap_err();
        assert!(err.to_string().contains("1 labels for 2 images"), "{err}");
    }
}
