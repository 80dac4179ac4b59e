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
use super::{TextDataset, TextEncoding, folder, lines, table};
use crate::DataError;

/// A text dataset on disk and the format it is stored in: the one registry of
/// text formats. Unknown keys are errors.
///
/// Every variant takes `limit` (keep the first `limit` documents; the rest is
/// not read) and `encoding` (`"utf8"`, the default, or `"latin1"`). Documents
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
    /// CSV or TSV with a header row: `text_column` (name) holds the text,
    /// optional `label_column` the label. Delimiter: `delimiter` if given,
    /// else tab for `.tsv` and comma for `.csv` (any other name needs
    /// `delimiter`). Quoted fields may hold delimiters and newlines.
    Table {
        /// The file (gzipped or plain).
        path: PathBuf,
        /// The header of the column holding the text.
        text_column: String,
        /// The header of the column holding the label, if labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label_column: Option<String>,
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
        /// Keep the first `limit` documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// How the bytes are read (default UTF-8).
        #[serde(default, skip_serializing_if = "is_utf8")]
        encoding: TextEncoding,
    },
}

fn is_utf8(encoding: &TextEncoding) -> bool {
    *encoding == TextEncoding::Utf8
}

impl TextDataConfig {
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
                delimiter,
                limit,
                encoding,
            } => table::load(
                &path,
                &TableOptions {
                    text_column: &text_column,
                    label_column: label_column.as_deref(),
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
                limit,
                encoding,
            } => folder::load(&root, limit, encoding),
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
        };
        let joined = base.join(&*path); // `join` keeps an absolute path as is
        *path = std::fs::canonicalize(&joined).unwrap_or(joined);
        out
    }

    /// The file (or, for a text folder, the folder) the data is read from.
    pub fn path(&self) -> &Path {
        match self {
            TextDataConfig::Lines { path, .. }
            | TextDataConfig::Table { path, .. }
            | TextDataConfig::LabelText { path, .. } => path,
            TextDataConfig::TextFolder { root, .. } => root,
        }
    }

    /// Whether loading gives labels.
    pub fn is_labelled(&self) -> bool {
        match self {
            TextDataConfig::Lines { .. } => false,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::{real, write};

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
        let sentences = real("sentences");
        let c = TextDataConfig::LabelText {
            path: "TREC.train.all".into(),
            limit: Some(10),
            encoding: TextEncoding::Latin1,
        };
        let d = c.load(&sentences).unwrap();
        assert_eq!(d.len(), 10);
        assert!(c.resolved(&sentences).path().is_absolute());
        let err = c.load(Path::new("/nonexistent")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        assert!(
            err.to_string().starts_with("/nonexistent/TREC.train.all: "),
            "{err}"
        );
        let zero = TextDataConfig::LabelText {
            path: "TREC.train.all".into(),
            limit: Some(0),
            encoding: TextEncoding::Utf8,
        };
        assert!(matches!(zero.load(&sentences), Err(DataError::Invalid(_))));
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
        ];
        for text in configs {
            let c = parse(text).unwrap();
            let d = c.load(dir.path()).unwrap();
            assert_eq!(d.labels().is_some(), c.is_labelled(), "{text}");
            assert!(
                d.docs()
                    .iter()
                    .all(|doc| doc == "hi" || doc == "one" || doc == "two")
            );
        }
    }
}
