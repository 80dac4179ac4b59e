//! CSV or TSV (GLUE's `train.tsv`, a spreadsheet export, AG News' header-less
//! `train.csv`): one column holds the text, or several joined, another
//! optionally the label. Columns are named by header, or by position from 1
//! (the only way when the file has no header row). Quoted fields may hold
//! delimiters, doubled quotes and newlines (RFC 4180, via the `csv` crate);
//! every row must have as many fields as the header (or the first row).
use std::path::Path;

use super::encoding::INVALID_UTF8;
use super::{Column, TextDataset, TextEncoding, class_names_of};
use crate::DataError;
use crate::dataset::read::read_all;

/// Which columns to read; see [`super::TextDataConfig::Table`].
pub(crate) struct TableOptions<'a> {
    /// The column or columns holding the text, joined in order by a newline.
    pub text_columns: &'a [Column],
    /// The column holding the label, if labelled.
    pub label_column: Option<&'a Column>,
    /// Whether the first row is a header (else every row is data).
    pub header: bool,
    /// The field delimiter; `None`: tab for `.tsv`, comma for `.csv`.
    pub delimiter: Option<char>,
    /// Keep the first `limit` documents.
    pub limit: Option<usize>,
    /// How the bytes are read.
    pub encoding: TextEncoding,
}

/// Reads the text (and label) columns of the table at `path`.
pub(crate) fn load(path: &Path, options: &TableOptions) -> Result<TextDataset, DataError> {
    let delimiter = delimiter(path, options.delimiter)?;
    let bytes = read_all(path)?;
    let content = options.encoding.strip_bom(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(options.header)
        .from_reader(content);
    let field = |raw: &[u8], line: u64| -> Result<String, DataError> {
        options
            .encoding
            .decode(raw)
            .map(|s| s.trim().to_owned())
            .ok_or_else(|| DataError::format(path, format!("line {line}: {INVALID_UTF8}")))
    };
    // Without a header, `byte_headers` is the first row, left to be read.
    let first: Vec<String> = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e, options.header))?
        .iter()
        .map(|h| field(h, 1))
        .collect::<Result<_, _>>()?;
    if first.is_empty() || first == [""] {
        return Err(DataError::format(path, "the table is empty"));
    }
    let header = options.header.then_some(&first[..]);
    let index = |key: &str, c: &Column| {
        c.index(key, header, first.len())
            .map_err(|e| DataError::format(path, e))
    };
    let text_at: Vec<usize> = options
        .text_columns
        .iter()
        .map(|c| index("text_column", c))
        .collect::<Result<_, _>>()?;
    let label_at = options
        .label_column
        .map(|c| index("label_column", c).map(|at| (at, c)))
        .transpose()?;

    let mut docs = Vec::new();
    let mut names = Vec::new();
    let mut skipped = 0;
    let mut record = csv::ByteRecord::new();
    while options.limit.is_none_or(|n| docs.len() < n)
        && reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(path, e, options.header))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        let mut parts = Vec::with_capacity(text_at.len());
        for &at in &text_at {
            let part = field(&record[at], line)?;
            if !part.is_empty() {
                parts.push(part);
            }
        }
        let label = match label_at {
            Some((at, column)) => {
                let label = field(&record[at], line)?;
                if label.is_empty() {
                    return Err(DataError::format(
                        path,
                        format!("line {line}: empty label in column {column}"),
                    ));
                }
                Some(label)
            }
            None => None,
        };
        if parts.is_empty() {
            skipped += 1;
            continue;
        }
        docs.push(parts.join("\n"));
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

/// A `csv` error as a one-line error of `path`.
fn csv_error(path: &Path, e: csv::Error, header: bool) -> DataError {
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
            format!(
                "line {line}: {len} fields where the {} has {expected_len}",
                if header { "header" } else { "first row" }
            ),
        ),
        _ => DataError::format(path, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::{real, write};

    fn options<'a>(text: &'a [Column], label: Option<&'a Column>) -> TableOptions<'a> {
        TableOptions {
            text_columns: text,
            label_column: label,
            header: true,
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
        let d = load(&path, &options(&["sentence".into()], Some(&"label".into()))).unwrap();
        assert_eq!(d.len(), 67_349);
        assert_eq!(d.class_names(), ["0", "1"]);
        assert_eq!(d.docs()[0], "hide new secretions from the parental units");
        assert_eq!(d.labels().unwrap()[..3], [0, 0, 1]);
        let unlabelled = load(
            &path,
            &TableOptions {
                limit: Some(100),
                ..options(&["sentence".into()], None)
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
        let err = load(
            &path,
            &options(&["sentence".into()], Some(&"labels".into())),
        )
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
        let d = load(&path, &options(&["text".into()], Some(&"label".into()))).unwrap();
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
        let err = load(&path, &options(&["text".into()], Some(&"label".into())))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: line 5: invalid UTF-8", path.display())),
            "{err}"
        );
        let path = write(&dir, "b.csv", b"text,label\nok,1\nno label,\n");
        let err = load(&path, &options(&["text".into()], Some(&"label".into())))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("line 3: empty label in column `label`"),
            "{err}"
        );
        let path = write(&dir, "c.csv", b"text,label\nok,1\ntoo,many,fields\n");
        let err = load(&path, &options(&["text".into()], Some(&"label".into())))
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
        let err = load(&path, &options(&["text".into()], Some(&"label".into())))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("set `delimiter`"), "{err}");
        let d = load(
            &path,
            &TableOptions {
                delimiter: Some(';'),
                ..options(&["text".into()], Some(&"label".into()))
            },
        )
        .unwrap();
        assert_eq!(d.docs(), ["bonjour", "hello"]);
        assert_eq!(d.class_names(), ["en", "fr"]);
        let err = load(
            &path,
            &TableOptions {
                delimiter: Some('→'),
                ..options(&["text".into()], None)
            },
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)), "{err}");
    }

    #[test]
    fn a_table_without_header_names_columns_by_position_and_joins_text_columns() {
        // AG News' layout: no header, class 1-4, title, description.
        let dir = tempfile::tempdir().unwrap();
        let csv = "\"3\",\"Wall St. Bears Claw Back\",\"Short-sellers are seeing green again.\"\n\
                   \"4\",\"New chip\",\"\"\n\
                   \"1\",\"\",\"\"\n\
                   \"2\",\"\",\"A late goal, then extra time.\"\n\
                   \"10\",\"Ten\",\"Tenth class\"\n";
        let path = write(&dir, "train.csv", csv.as_bytes());
        let columns = [Column::Position(2), Column::Position(3)];
        let label = Column::Position(1);
        let headerless = TableOptions {
            header: false,
            ..options(&columns, Some(&label))
        };
        let d = load(&path, &headerless).unwrap();
        assert_eq!(
            d.docs(),
            [
                "Wall St. Bears Claw Back\nShort-sellers are seeing green again.",
                "New chip",
                "A late goal, then extra time.",
                "Ten\nTenth class",
            ]
        );
        assert_eq!(d.skipped_empty(), 1);
        // Numeric labels from 1 keep their numeric order: "10" after "4".
        assert_eq!(d.class_names(), ["2", "3", "4", "10"]);
        assert_eq!(d.labels(), Some(&[1, 2, 0, 3][..]));

        // A header row is data when `header = false`: nothing is dropped.
        let path = write(&dir, "h.csv", b"text,label\nhi,a\n");
        let headerless = TableOptions {
            header: false,
            ..options(&[Column::Position(1)], None)
        };
        assert_eq!(load(&path, &headerless).unwrap().docs(), ["text", "hi"]);
    }

    #[test]
    fn columns_by_position_also_work_under_a_header_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "t.csv", b"id,title,body,y\n1,A,a a,x\n2,B,b b,y\n");
        let columns = ["title".into(), Column::Position(3)];
        let d = load(&path, &options(&columns, Some(&Column::Position(4)))).unwrap();
        assert_eq!(d.docs(), ["A\na a", "B\nb b"]);
        assert_eq!(d.class_names(), ["x", "y"]);

        let headerless = |text: &[Column], label: Option<&Column>| {
            load(
                &path,
                &TableOptions {
                    header: false,
                    ..options(text, label)
                },
            )
            .unwrap_err()
            .to_string()
        };
        let err = headerless(&["title".into()], None);
        assert_eq!(
            err,
            format!(
                "{}: column `title` names a header, but `header = false`: name columns by \
                 position, from 1",
                path.display()
            )
        );
        let err = headerless(&[Column::Position(2)], Some(&Column::Position(5)));
        assert!(
            err.ends_with(": no column 5: the rows have 4 fields"),
            "{err}"
        );
        let ragged = write(&dir, "r.csv", b"a,b\nc,d,e\n");
        let err = load(
            &ragged,
            &TableOptions {
                header: false,
                ..options(&[Column::Position(1)], None)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with("line 2: 3 fields where the first row has 2"),
            "{err}"
        );
        let blank = write(&dir, "e.csv", b"\n\n");
        let err = load(&blank, &options(&["text".into()], None))
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("{}: the table is empty", blank.display()));
    }
}
