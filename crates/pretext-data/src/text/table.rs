//! CSV or TSV with a header row (GLUE's `train.tsv`, a spreadsheet export):
//! one column holds the text, another optionally the label. Quoted fields may
//! hold delimiters, doubled quotes and newlines (RFC 4180, via the `csv`
//! crate); every row must have as many fields as the header.
use std::path::Path;

use super::encoding::INVALID_UTF8;
use super::{TextDataset, TextEncoding, class_names_of};
use crate::DataError;
use crate::dataset::read::read_all;

/// Which columns to read; see [`super::TextDataConfig::Table`].
pub(crate) struct TableOptions<'a> {
    /// The header of the text column.
    pub text_column: &'a str,
    /// The header of the label column, if labelled.
    pub label_column: Option<&'a str>,
    /// The field delimiter; `None`: tab for `.tsv`, comma for `.csv`.
    pub delimiter: Option<char>,
    /// Keep the first `limit` documents.
    pub limit: Option<usize>,
    /// How the bytes are read.
    pub encoding: TextEncoding,
}

/// Reads the text (and label) column of the table at `path`.
pub(crate) fn load(path: &Path, options: &TableOptions) -> Result<TextDataset, DataError> {
    let delimiter = delimiter(path, options.delimiter)?;
    let bytes = read_all(path)?;
    let content = match (options.encoding, bytes.strip_prefix(b"\xEF\xBB\xBF")) {
        (TextEncoding::Utf8, Some(rest)) => rest, // a byte-order mark
        _ => &bytes[..],
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(content);
    let field = |raw: &[u8], line: u64| -> Result<String, DataError> {
        options
            .encoding
            .decode(raw)
            .map(|s| s.trim().to_owned())
            .ok_or_else(|| DataError::format(path, format!("line {line}: {INVALID_UTF8}")))
    };
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| field(h, 1))
        .collect::<Result<_, _>>()?;
    let text_at = column(path, &header, options.text_column)?;
    let label_at = options
        .label_column
        .map(|name| column(path, &header, name))
        .transpose()?;

    let mut docs = Vec::new();
    let mut names = Vec::new();
    let mut skipped = 0;
    let mut record = csv::ByteRecord::new();
    while options.limit.is_none_or(|n| docs.len() < n)
        && reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(path, e))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        let text = field(&record[text_at], line)?;
        let label = match label_at {
            Some(at) => {
                let label = field(&record[at], line)?;
                if label.is_empty() {
                    return Err(DataError::format(
                        path,
                        format!("line {line}: empty label in column `{}`", header[at]),
                    ));
                }
                Some(label)
            }
            None => None,
        };
        if text.is_empty() {
            skipped += 1;
            continue;
        }
        docs.push(text);
        names.extend(label);
    }
    let dataset = if label_at.is_some() {
        let (classes, labels) = class_names_of(&names);
        TextDataset::new(docs, Some(labels), classes, path)?
    } else {
        TextDataset::new(docs, None, vec![], path)?
    };
    Ok(dataset.with_skipped_empty(skipped))
}

/// The delimiter byte: the one given, else chosen by the file extension
/// (a `.gz` suffix is looked through).
fn delimiter(path: &Path, given: Option<char>) -> Result<u8, DataError> {
    if let Some(c) = given {
        return u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            DataError::Invalid(format!(
                "table `delimiter` must be one ASCII character, got {c:?}"
            ))
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".tsv") {
        Ok(b'\t')
    } else if name.ends_with(".csv") {
        Ok(b',')
    } else {
        Err(DataError::format(
            path,
            "cannot tell the delimiter from the file name (neither .csv nor .tsv); set `delimiter`",
        ))
    }
}

/// The index of column `name` in `header`, or an error listing the columns.
fn column(path: &Path, header: &[String], name: &str) -> Result<usize, DataError> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        let columns: Vec<String> = header.iter().map(|h| format!("`{h}`")).collect();
        DataError::format(
            path,
            format!("no column `{name}`; the columns are {}", columns.join(", ")),
        )
    })
}

/// A `csv` error as a one-line error of `path`.
fn csv_error(path: &Path, e: csv::Error) -> DataError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = e
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => DataError::format(
            path,
            format!("line {line}: {len} fields where the header has {expected_len}"),
        ),
        _ => DataError::format(path, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::{real, write};

    fn options<'a>(text: &'a str, label: Option<&'a str>) -> TableOptions<'a> {
        TableOptions {
            text_column: text,
            label_column: label,
            delimiter: None,
            limit: None,
            encoding: TextEncoding::Utf8,
        }
    }

    #[test]
    fn text_table_reads_sst2_phrases() {
        let Some(path) = real("sst2-phrases/train.tsv") else {
            return;
        };
        let d = load(&path, &options("sentence", Some("label"))).unwrap();
        assert_eq!(d.len(), 67_349);
        assert_eq!(d.class_names(), ["0", "1"]);
        assert_eq!(d.docs()[0], "hide new secretions from the parental units");
        assert_eq!(d.labels().unwrap()[..3], [0, 0, 1]);
        let unlabelled = load(
            &path,
            &TableOptions {
                limit: Some(100),
                ..options("sentence", None)
            },
        )
        .unwrap();
        assert_eq!((unlabelled.len(), unlabelled.labels()), (100, None));
    }

    #[test]
    fn text_table_missing_column_lists_the_columns() {
        let Some(path) = real("sst2-phrases/train.tsv") else {
            return;
        };
        let err = load(&path, &options("sentence", Some("labels")))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: no column `labels`; the columns are `label`, `sentence`",
                path.display()
            )
        );
    }

    #[test]
    fn text_table_quoted_fields_hold_commas_and_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "id,text,label\n\
                   1,\"Hello, world\",pos\n\
                   2,\"two\nlines, \"\"quoted\"\"\",neg\n\
                   3,  ,pos\n\
                   4,plain,pos\n";
        let path = write(&dir, "t.csv", csv.as_bytes());
        let d = load(&path, &options("text", Some("label"))).unwrap();
        assert_eq!(
            d.docs(),
            ["Hello, world", "two\nlines, \"quoted\"", "plain"]
        );
        assert_eq!(d.class_names(), ["neg", "pos"]);
        assert_eq!(d.labels(), Some(&[1, 0, 1][..]));
        assert_eq!(d.skipped_empty(), 1);
    }

    #[test]
    fn text_table_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "a.csv",
            b"text,label\nok,1\n\"multi\nline\",0\nbad\xff,1\n",
        );
        let err = load(&path, &options("text", Some("label")))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: line 5: invalid UTF-8", path.display())),
            "{err}"
        );
        let path = write(&dir, "b.csv", b"text,label\nok,1\nno label,\n");
        let err = load(&path, &options("text", Some("label")))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("line 3: empty label in column `label`"),
            "{err}"
        );
        let path = write(&dir, "c.csv", b"text,label\nok,1\ntoo,many,fields\n");
        let err = load(&path, &options("text", Some("label")))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("line 3: 3 fields where the header has 2"),
            "{err}"
        );
    }

    #[test]
    fn text_table_delimiter_from_name_or_setting() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "data.txt", b"text;label\nbonjour;fr\nhello;en\n");
        let err = load(&path, &options("text", Some("label")))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("set `delimiter`"), "{err}");
        let d = load(
            &path,
            &TableOptions {
                delimiter: Some(';'),
                ..options("text", Some("label"))
            },
        )
        .unwrap();
        assert_eq!(d.docs(), ["bonjour", "hello"]);
        assert_eq!(d.class_names(), ["en", "fr"]);
        let err = load(
            &path,
            &TableOptions {
                delimiter: Some('→'),
                ..options("text", None)
            },
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)), "{err}");
    }
}
