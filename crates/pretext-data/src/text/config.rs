//! Which text dataset to read, as it is written in an experiment file:
//!
//! ```toml
//! [data]
//! format = "table"
//! path = "../shared/datasets/text/sst2-phrases/train.tsv"
//! text_column = "sentence"
//! label_column = "label"
//! ```
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::table::TableOptions;
use super::{Column, TextColumns, TextDataset, TextEncoding, folder, lines, table};
use crate::settings::{is_yes, yes};
use crate::{DataError, test_split};

/// A text dataset on disk and the format it is stored in: the one registry of
/// text formats. Unknown keys are errors.
///
/// Every variant takes `limit` (keep the first `limit` documents; the rest is
/// not read) and `encoding` (`"utf8"`, the default, `"latin1"` or `"utf8_or_latin1"`). Documents
/// are trimmed but keep their case; empty ones are skipped and counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum TextDataConfig {
    /// One document per line, unlabelled.
    Lines {
        /// The file (gzipped or plain).
        path: PathBuf,
        /// Keep the first `limit` documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// How the bytes are read (default UTF-8).
        #[serde(default, skip_serializing_if = "is_utf8")]
        encoding: TextEncoding,
    },
    /// CSV or TSV: `text_column` holds the text, optional `label_column` the
    /// label. A column is named by its header (`"sentence"`) or its position
    /// from 1 (`2`); `text_column` may list several, joined in order by a
    /// newline (`["title", "description"]`). `header = false` reads a file
    /// without a header row, whose columns only positions can name.
    /// Delimiter: `delimiter` if given, else tab for `.tsv` and comma for
    /// `.csv` (any other name needs `delimiter`). Quoted fields may hold
    /// delimiters and newlines.
    Table {
        /// The file (gzipped or plain).
        path: PathBuf,
        /// The column, or columns joined, holding the text.
        text_column: TextColumns,
        /// The column holding the label, if labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label_column: Option<Column>,
        /// Whether the first row is a header (default `true`).
        #[serde(default = "yes", skip_serializing_if = "is_yes")]
        header: bool,
        /// The field delimiter, one ASCII character.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delimiter: Option<char>,
        /// Keep the first `limit` documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// How the bytes are read (default UTF-8).
        #[serde(default, skip_serializing_if = "is_utf8")]
        encoding: TextEncoding,
    },
    /// `LABEL TEXT` lines: the label is everything before the first space or
    /// tab (the Kim-2014 sentence files, SMS Spam's `ham<TAB>text`).
    LabelText {
        /// The file (gzipped or plain).
        path: PathBuf,
        /// Keep the first `limit` documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// How the bytes are read (default UTF-8).
        #[serde(default, skip_serializing_if = "is_utf8")]
        encoding: TextEncoding,
    },
    /// `root/<class>/<file>`, one document per file (the 20 Newsgroups
    /// layout); the class is the folder name.
    TextFolder {
        /// The folder holding one subfolder per class.
        root: PathBuf,
        /// Class folders left out (IMDB's `train/unsup` beside `pos` and
        /// `neg`); each must exist.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exclude: Vec<String>,
        /// Keep the first `limit` documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// How the bytes are read (default UTF-8).
        #[serde(default, skip_serializing_if = "is_utf8")]
        encoding: TextEncoding,
    },
    /// Several text datasets read as one unlabelled corpus, for pretraining:
    /// the documents of every part in order, labels dropped.
    ///
    /// ```toml
    /// [data]
    /// format = "corpus"
    /// [[data.parts]]
    /// data = { format = "lines", path = "a.txt" }
    /// [[data.parts]]          # leaves out the test set of a task that holds
    /// test_fraction = 0.2     # out 20% of this file with seed 0
    /// data = { format = "label_text", path = "rt-polarity.all", encoding = "latin1" }
    /// ```
    Corpus {
        /// The parts, each a dataset of another format.
        parts: Vec<CorpusPart>,
    },
}

/// One source of a [`TextDataConfig::Corpus`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusPart {
    /// The dataset (any format but `corpus`).
    pub data: TextDataConfig,
    /// Leave out the documents a task with this `test_fraction` and `seed`
    /// holds out as its test set (the same keys as the task's), so that
    /// pretraining never reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// The seed of that task (a task's default, 0, when absent).
    #[serde(default)]
    pub seed: u64,
}

impl CorpusPart {
    /// The part's documents, unlabelled, without the left-out test set.
    fn load(&self, base: &Path) -> Result<TextDataset, DataError> {
        if matches!(self.data, TextDataConfig::Corpus { .. }) {
            return Err(DataError::Invalid(
                "a corpus part cannot itself be a corpus".into(),
            ));
        }
        let data = self.data.load(base)?.without_labels();
        match self.test_fraction {
            None => Ok(data),
            Some(f) if f > 0.0 && f < 1.0 => {
                Ok(data.subset(&test_split(data.len(), f, self.seed).0))
            }
            Some(f) => Err(DataError::format(
                data.source(),
                format!("test_fraction must be above 0 and below 1, got {f}"),
            )),
        }
    }
}

fn is_utf8(encoding: &TextEncoding) -> bool {
    *encoding == TextEncoding::Utf8
}

impl TextDataConfig {
    /// The `format` name of every variant.
    pub const FORMATS: [&'static str; 5] =
        ["lines", "table", "label_text", "text_folder", "corpus"];

    /// Reads the dataset; relative paths are resolved against `base` (the
    /// directory of the experiment file, or the working directory).
    pub fn load(&self, base: &Path) -> Result<TextDataset, DataError> {
        if self.limit() == Some(0) {
            return Err(DataError::Invalid(
                "`limit` must be at least 1, got 0".into(),
            ));
        }
        match self.resolved(base) {
            TextDataConfig::Lines {
                path,
                limit,
                encoding,
            } => lines::load_lines(&path, limit, encoding),
            TextDataConfig::Table {
                path,
                text_column,
                label_column,
                header,
                delimiter,
                limit,
                encoding,
            } => table::load(
                &path,
                &TableOptions {
                    text_columns: text_column.columns(),
                    label_column: label_column.as_ref(),
                    header,
                    delimiter,
                    limit,
                    encoding,
                },
            ),
            TextDataConfig::LabelText {
                path,
                limit,
                encoding,
            } => lines::load_label_text(&path, limit, encoding),
            TextDataConfig::TextFolder {
                root,
                exclude,
                limit,
                encoding,
            } => folder::load(&root, &exclude, limit, encoding),
            TextDataConfig::Corpus { parts } => {
                let Some(first) = parts.first() else {
                    return Err(DataError::Invalid("data.parts lists no dataset".into()));
                };
                let (mut docs, mut skipped) = (Vec::new(), 0);
                for part in &parts {
                    let data = part.load(base)?;
                    skipped += data.skipped_empty();
                    docs.extend_from_slice(data.docs());
                }
                let source = match parts.len() {
                    1 => first.data.path().to_path_buf(),
                    n => format!("{} and {} more", first.data.path().display(), n - 1).into(),
                };
                Ok(TextDataset::new(docs, None, Vec::new(), source)?.with_skipped_empty(skipped))
            }
        }
    }

    /// The same config with its path joined onto `base` (an absolute path is
    /// kept as it is) and, where the file exists, made canonical.
    pub fn resolved(&self, base: &Path) -> Self {
        let mut out = self.clone();
        let path = match &mut out {
            TextDataConfig::Lines { path, .. }
            | TextDataConfig::Table { path, .. }
            | TextDataConfig::LabelText { path, .. } => path,
            TextDataConfig::TextFolder { root, .. } => root,
            TextDataConfig::Corpus { parts } => {
                for part in parts.iter_mut() {
                    part.data = part.data.resolved(base);
                }
                return out;
            }
        };
        let joined = base.join(&*path); // `join` keeps an absolute path as is
        *path = std::fs::canonicalize(&joined).unwrap_or(joined);
        out
    }

    /// The file (or, for a text folder, the folder) the data is read from;
    /// for a corpus, its first part's.
    pub fn path(&self) -> &Path {
        match self {
            TextDataConfig::Lines { path, .. }
            | TextDataConfig::Table { path, .. }
            | TextDataConfig::LabelText { path, .. } => path,
            TextDataConfig::TextFolder { root, .. } => root,
            TextDataConfig::Corpus { parts } => {
                parts.first().map_or(Path::new(""), |p| p.data.path())
            }
        }
    }

    /// Whether loading gives labels.
    pub fn is_labelled(&self) -> bool {
        match self {
            TextDataConfig::Lines { .. } | TextDataConfig::Corpus { .. } => false,
            TextDataConfig::Table { label_column, .. } => label_column.is_some(),
            TextDataConfig::LabelText { .. } | TextDataConfig::TextFolder { .. } => true,
        }
    }

    /// The number of documents to keep, if limited.
    pub fn limit(&self) -> Option<usize> {
        match self {
            TextDataConfig::Lines { limit, .. }
            | TextDataConfig::Table { limit, .. }
            | TextDataConfig::LabelText { limit, .. }
            | TextDataConfig::TextFolder { limit, .. } => *limit,
            TextDataConfig::Corpus { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::write;

    fn parse(text: &str) -> Result<TextDataConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn text_config_parses_each_format() {
        let c = parse("format = \"lines\"\npath = \"a.txt\"").unwrap();
        assert_eq!(
            c,
            TextDataConfig::Lines {
                path: "a.txt".into(),
                limit: None,
                encoding: TextEncoding::Utf8,
            }
        );
        assert!(!c.is_labelled());
        let c = parse(
            "format = \"table\"\npath = \"t.tsv\"\ntext_column = \"sentence\"\nlabel_column = \"label\"\ndelimiter = \"|\"",
        )
        .unwrap();
        assert!(c.is_labelled());
        assert!(matches!(
            c,
            TextDataConfig::Table {
                delimiter: Some('|'),
                ..
            }
        ));
        let c = parse("format = \"label_text\"\npath = \"x\"\nencoding = \"latin1\"\nlimit = 5")
            .unwrap();
        assert_eq!((c.limit(), c.path()), (Some(5), Path::new("x")));
        let c = parse("format = \"text_folder\"\nroot = \"news\"").unwrap();
        assert!(c.is_labelled());
        assert_eq!(c.path(), Path::new("news"));
    }

    #[test]
    fn a_header_less_table_with_joined_text_columns_parses_and_round_trips() {
        let text = "format = \"table\"\npath = \"ag.csv\"\ntext_column = [2, 3]\n\
                    label_column = 1\nheader = false\n";
        let c = parse(text).unwrap();
        assert_eq!(
            c,
            TextDataConfig::Table {
                path: "ag.csv".into(),
                text_column: TextColumns::joined(vec![Column::Position(2), Column::Position(3)])
                    .unwrap(),
                label_column: Some(Column::Position(1)),
                header: false,
                delimiter: None,
                limit: None,
                encoding: TextEncoding::Utf8,
            }
        );
        assert!(c.is_labelled());
        assert_eq!(toml::to_string(&c).unwrap(), text);
    }

    #[test]
    fn text_config_rejects_unknown_keys_and_formats() {
        let err = parse("format = \"lines\"\npath = \"a\"\nlabel_column = \"y\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `label_column`"),
            "{err}"
        );
        let err = parse("format = \"jsonl\"\npath = \"a\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant `jsonl`"), "{err}");
        let err = parse("format = \"table\"\npath = \"a.csv\"").unwrap_err();
        assert!(
            err.to_string().contains("missing field `text_column`"),
            "{err}"
        );
    }

    #[test]
    fn text_config_round_trips_through_toml() {
        let c = TextDataConfig::Table {
            path: "t.csv".into(),
            text_column: "text".into(),
            label_column: Some("y".into()),
            header: true,
            delimiter: Some(';'),
            limit: Some(3),
            encoding: TextEncoding::Latin1,
        };
        let text = toml::to_string(&c).unwrap();
        assert_eq!(parse(&text).unwrap(), c);
        let plain = TextDataConfig::Lines {
            path: "a".into(),
            limit: None,
            encoding: TextEncoding::Utf8,
        };
        assert_eq!(
            toml::to_string(&plain).unwrap(),
            "format = \"lines\"\npath = \"a\"\n"
        );
    }

    #[test]
    fn text_config_loads_relative_to_base() {
        // The committed review sentences (datasets/reviews).
        let reviews = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/reviews");
        let c = TextDataConfig::Table {
            path: "train.tsv".into(),
            text_column: "sentence".into(),
            label_column: Some("topic".into()),
            header: true,
            delimiter: None,
            limit: Some(10),
            encoding: TextEncoding::Utf8,
        };
        let d = c.load(&reviews).unwrap();
        assert_eq!(d.len(), 10);
        assert_eq!(d.class_names(), ["film", "food", "gadget", "travel"]);
        assert!(c.resolved(&reviews).path().is_absolute());
        let err = c.load(Path::new("/nonexistent")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        assert!(
            err.to_string().starts_with("/nonexistent/train.tsv: "),
            "{err}"
        );
        let zero = TextDataConfig::Table {
            path: "train.tsv".into(),
            text_column: "sentence".into(),
            label_column: None,
            header: true,
            delimiter: None,
            limit: Some(0),
            encoding: TextEncoding::Utf8,
        };
        assert!(matches!(zero.load(&reviews), Err(DataError::Invalid(_))));
    }

    #[test]
    fn a_missing_file_of_an_external_dataset_names_the_dataset_and_the_guide() {
        let c = TextDataConfig::Table {
            path: "/nowhere/shared/datasets/text/sst2-phrases/train.tsv".into(),
            text_column: "sentence".into(),
            label_column: None,
            header: true,
            delimiter: None,
            limit: None,
            encoding: TextEncoding::Utf8,
        };
        let err = c.load(Path::new(".")).unwrap_err();
        assert!(matches!(err, DataError::Unavailable { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "SST-2 phrases: not found at /nowhere/shared/datasets/text/sst2-phrases/train.tsv; \
             see docs/guide/data.md"
        );
    }

    #[test]
    fn text_config_loads_every_format() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "l.txt", b"one\ntwo\n");
        write(&dir, "t.csv", b"text,y\nhi,a\n");
        write(&dir, "lt.txt", b"a hi\n");
        write(&dir, "f/a/1", b"hi");
        let configs = [
            "format = \"lines\"\npath = \"l.txt\"",
            "format = \"table\"\npath = \"t.csv\"\ntext_column = \"text\"\nlabel_column = \"y\"",
            "format = \"label_text\"\npath = \"lt.txt\"",
            "format = \"text_folder\"\nroot = \"f\"",
            "format = \"corpus\"\n[[parts]]\ndata = { format = \"lines\", path = \"l.txt\" }",
        ];
        for text in configs {
            let c = parse(text).unwrap();
            let format = toml::Value::try_from(&c).unwrap()["format"].clone();
            assert!(TextDataConfig::FORMATS.contains(&format.as_str().unwrap()));
            let d = c.load(dir.path()).unwrap();
            assert_eq!(d.labels().is_some(), c.is_labelled(), "{text}");
            assert!(
                d.docs()
                    .iter()
                    .all(|doc| doc == "hi" || doc == "one" || doc == "two")
            );
        }
    }

    #[test]
    fn corpus_joins_its_parts_and_leaves_out_a_tasks_test_set() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "l.txt", b"one\ntwo\n");
        let labelled: String = (0..20).map(|i| format!("{} doc{i}\n", i % 2)).collect();
        write(&dir, "lt.txt", labelled.as_bytes());
        let c = parse(
            "format = \"corpus\"\n\
             [[parts]]\ndata = { format = \"lines\", path = \"l.txt\" }\n\
             [[parts]]\ntest_fraction = 0.25\nseed = 3\ndata = { format = \"label_text\", path = \"lt.txt\" }",
        )
        .unwrap();
        assert!(!c.is_labelled());
        assert_eq!(c.path(), Path::new("l.txt"));
        let d = c.load(dir.path()).unwrap();
        assert!(d.labels().is_none());
        // The documents a task with the same fraction and seed would test on
        // are exactly the ones missing.
        let (_, test) = test_split(20, 0.25, 3);
        assert_eq!(test.len(), 5);
        let expected: Vec<String> = ["one".to_string(), "two".to_string()]
            .into_iter()
            .chain(
                (0..20)
                    .filter(|i| !test.contains(i))
                    .map(|i| format!("doc{i}")),
            )
            .collect();
        assert_eq!(d.docs(), &expected[..]);
        let resolved = c.resolved(dir.path());
        assert!(resolved.path().is_absolute());
        assert_eq!(resolved.load(Path::new("/nonexistent")).unwrap().len(), 17);
    }

    #[test]
    fn corpus_rejects_bad_parts() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "l.txt", b"one\n");
        let nested =
            parse("format = \"corpus\"\n[[parts]]\ndata = { format = \"corpus\", parts = [] }")
                .unwrap();
        let err = nested.load(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("cannot itself be a corpus"),
            "{err}"
        );
        let empty = parse("format = \"corpus\"\nparts = []").unwrap();
        let err = empty.load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("lists no dataset"), "{err}");
        let bad = parse(
            "format = \"corpus\"\n[[parts]]\ntest_fraction = 1.0\ndata = { format = \"lines\", path = \"l.txt\" }",
        )
        .unwrap();
        let err = bad.load(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("l.txt: test_fraction must be above 0"),
            "{err}"
        );
    }
}
