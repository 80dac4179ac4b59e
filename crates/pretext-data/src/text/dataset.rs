//! The in-memory text dataset every text reader produces: documents, their
//! optional labels, and the class names the labels index.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::DataError;

/// Documents (trimmed, non-empty, case kept) with optional integer labels.
///
/// Label `l` names class `class_names[l]`. Readers order the classes by
/// [`class_names_of`]: numerically when every name is an integer, else
/// lexicographically.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDataset {
    docs: Vec<String>,
    labels: Option<Vec<u32>>,
    class_names: Vec<String>,
    source: PathBuf,
    skipped_empty: usize,
}

impl TextDataset {
    /// A dataset of `docs`; `labels`, when given, has one entry per document,
    /// each below `class_names.len()`. `source` names where the data came
    /// from, for messages.
    pub fn new(
        docs: Vec<String>,
        labels: Option<Vec<u32>>,
        class_names: Vec<String>,
        source: impl Into<PathBuf>,
    ) -> Result<Self, DataError> {
        let source = source.into();
        crate::classes::check_len(&source, docs.len(), labels.as_deref(), "documents")?;
        if let Some(labels) = &labels
            && let Some(&bad) = labels.iter().find(|&&l| l as usize >= class_names.len())
        {
            return Err(DataError::format(
                &source,
                format!("label {bad} but only {} classes", class_names.len()),
            ));
        }
        Ok(Self {
            docs,
            labels,
            class_names,
            source,
            skipped_empty: 0,
        })
    }

    /// Records how many empty documents the reader skipped.
    pub(crate) fn with_skipped_empty(mut self, skipped: usize) -> Self {
        self.skipped_empty = skipped;
        self
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the dataset holds no document (only after an empty [`Self::subset`]).
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The documents.
    pub fn docs(&self) -> &[String] {
        &self.docs
    }

    /// The label of each document, if labelled.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// The class names; label `l` is `class_names()[l]`. Kept when the labels
    /// are dropped.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of classes, if labelled.
    pub fn num_classes(&self) -> Option<usize> {
        self.labels.as_ref().map(|_| self.class_names.len())
    }

    /// Where the data came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Empty or whitespace-only documents skipped while reading.
    pub fn skipped_empty(&self) -> usize {
        self.skipped_empty
    }

    /// The same documents without labels (the unlabelled mode).
    pub fn without_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// A new dataset holding the documents at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            docs: indices.iter().map(|&i| self.docs[i].clone()).collect(),
            labels: crate::classes::select(self.labels.as_deref(), indices),
            class_names: self.class_names.clone(),
            source: self.source.clone(),
            skipped_empty: self.skipped_empty,
        }
    }

    /// Re-expresses the labels in another class list, matching classes by
    /// name (e.g. a test set mapped onto the training pool's classes). Every
    /// class of this dataset that some document uses and that is missing from
    /// `class_names` is named in one error for the file.
    pub fn with_classes(mut self, class_names: &[String]) -> Result<Self, DataError> {
        if let Some(labels) = &mut self.labels {
            let map =
                crate::classes::class_map(&self.class_names, labels, class_names, &self.source)?;
            labels.iter_mut().for_each(|l| *l = map[*l as usize]);
        }
        self.class_names = class_names.to_vec();
        Ok(self)
    }
}

/// The class list of `names` (one label string per document) and each
/// document's label: the distinct names sorted numerically when every one
/// parses as an integer, else lexicographically; a label is the index of its
/// name in that list.
pub fn class_names_of<S: AsRef<str>>(names: &[S]) -> (Vec<String>, Vec<u32>) {
    let mut classes: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    classes.sort_unstable();
    classes.dedup();
    let numbers: Option<Vec<i128>> = classes.iter().map(|c| c.parse().ok()).collect();
    if let Some(numbers) = numbers {
        let mut by_number: Vec<(i128, &str)> = numbers.into_iter().zip(classes).collect();
        by_number.sort_unstable(); // ties ("1", "01") fall back to the string
        classes = by_number.into_iter().map(|(_, c)| c).collect();
    }
    let index: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i as u32))
        .collect();
    let labels = names.iter().map(|n| index[n.as_ref()]).collect();
    (classes.into_iter().map(str::to_owned).collect(), labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn labelled(labels: &[&str]) -> TextDataset {
        let (classes, ids) = class_names_of(labels);
        let docs = (0..labels.len()).map(|i| format!("doc {i}")).collect();
        TextDataset::new(docs, Some(ids), classes, "test.txt").unwrap()
    }

    #[test]
    fn text_class_names_sort_numerically_or_lexicographically() {
        let (classes, labels) = class_names_of(&["10", "2", "-1", "2"]);
        assert_eq!(classes, ["-1", "2", "10"]);
        assert_eq!(labels, [2, 1, 0, 1]);
        let (classes, labels) = class_names_of(&["spam", "ham", "10", "ham"]);
        assert_eq!(classes, ["10", "ham", "spam"]);
        assert_eq!(labels, [2, 1, 0, 1]);
    }

    #[test]
    fn text_dataset_checks_lengths_and_labels() {
        let docs = strings(&["a", "b"]);
        let err = TextDataset::new(docs.clone(), Some(vec![0]), strings(&["x"]), "f.tsv")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "f.tsv: 1 labels for 2 documents");
        let err = TextDataset::new(docs.clone(), Some(vec![0, 2]), strings(&["x", "y"]), "f")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "f: label 2 but only 2 classes");
        let err = TextDataset::new(vec![], None, vec![], "f").unwrap_err();
        assert_eq!(err.to_string(), "f: the dataset holds no documents");
        let d = TextDataset::new(docs, None, vec![], "f").unwrap();
        assert_eq!((d.len(), d.num_classes(), d.skipped_empty()), (2, None, 0));
    }

    #[test]
    fn text_subset_and_without_labels() {
        let d = labelled(&["b", "a", "b"]);
        assert_eq!(d.num_classes(), Some(2));
        let s = d.subset(&[2, 1]);
        assert_eq!(s.docs(), ["doc 2", "doc 1"]);
        assert_eq!(s.labels(), Some(&[1, 0][..]));
        assert!(d.subset(&[]).is_empty());
        let u = d.without_labels();
        assert_eq!((u.labels(), u.num_classes()), (None, None));
        assert_eq!(u.class_names(), ["a", "b"]);
    }

    #[test]
    fn text_with_classes_maps_onto_a_larger_list() {
        // A test set that holds only classes 1 and 3 of the training pool's 0..=4.
        let test = labelled(&["3", "1", "3"]);
        assert_eq!(test.class_names(), ["1", "3"]);
        let pool = strings(&["0", "1", "2", "3", "4"]);
        let mapped = test.with_classes(&pool).unwrap();
        assert_eq!(mapped.labels(), Some(&[3, 1, 3][..]));
        assert_eq!(mapped.num_classes(), Some(5));
        assert_eq!(mapped.class_names(), pool);
    }

    #[test]
    fn text_with_classes_names_the_unknown_class() {
        let test = labelled(&["ham", "spam", "eggs"]);
        let err = test
            .with_classes(&strings(&["ham", "spam"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "test.txt: class `eggs` is not among the 2 classes `ham`, `spam`"
        );
        // A class no document uses does not need a place in the new list.
        let d = labelled(&["a", "b"]).subset(&[1]);
        let mapped = d.with_classes(&strings(&["b"])).unwrap();
        assert_eq!(mapped.labels(), Some(&[0][..]));
        // Unlabelled data only takes the names.
        let u = labelled(&["a"]).without_labels();
        assert_eq!(
            u.with_classes(&strings(&["z"])).unwrap().class_names(),
            ["z"]
        );
    }
}
