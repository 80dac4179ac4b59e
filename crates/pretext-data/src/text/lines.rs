//! Line formats: one document per line, unlabelled (`lines`), or `LABEL TEXT`
//! per line (`label_text`: the Kim-2014 sentence benchmarks, SMS Spam's
//! `ham<TAB>text`).
//!
//! Lines end in `\n` or `\r\n`; a gzipped file is read through. Documents are
//! trimmed; blank lines, and labelled lines whose text is blank, are skipped
//! and counted in [`TextDataset::skipped_empty`].
use std::path::Path;

use super::encoding::INVALID_UTF8;
use super::{TextDataset, TextEncoding, class_names_of};
use crate::DataError;
use crate::dataset::read::read_all;

/// Reads one document per line.
pub(crate) fn load_lines(
    path: &Path,
    limit: Option<usize>,
    encoding: TextEncoding,
) -> Result<TextDataset, DataError> {
    let mut docs = Vec::new();
    let mut skipped = 0;
    for_each_line(path, encoding, |_, line| {
        let doc = line.trim();
        if doc.is_empty() {
            skipped += 1;
        } else {
            docs.push(doc.to_owned());
        }
        Ok(limit.is_none_or(|n| docs.len() < n))
    })?;
    Ok(TextDataset::new(docs, None, vec![], path)?.with_skipped_empty(skipped))
}

/// Reads `LABEL TEXT` lines: the label is everything before the first space
/// or tab.
pub(crate) fn load_label_text(
    path: &Path,
    limit: Option<usize>,
    encoding: TextEncoding,
) -> Result<TextDataset, DataError> {
    let mut docs = Vec::new();
    let mut names = Vec::new();
    let mut skipped = 0;
    for_each_line(path, encoding, |number, line| {
        if line.trim().is_empty() {
            skipped += 1;
            return Ok(true);
        }
        let (label, text) = match line.find([' ', '\t']) {
            Some(0) => {
                return Err(format!(
                    "line {number}: missing label (the line starts with a space or tab; `LABEL TEXT` expected)"
                ));
            }
            Some(at) => (&line[..at], line[at + 1..].trim()),
            None => (line, ""),
        };
        if text.is_empty() {
            skipped += 1; // a label with no text: CR and MPQA hold a few
        } else {
            docs.push(text.to_owned());
            names.push(label.to_owned());
        }
        Ok(limit.is_none_or(|n| docs.len() < n))
    })?;
    let (classes, labels) = class_names_of(&names);
    Ok(TextDataset::new(docs, Some(labels), classes, path)?.with_skipped_empty(skipped))
}

/// Calls `visit(line number, line)` for each line of `path` (1-based, line
/// ending removed) until it returns `Ok(false)`. A `visit` error is a format
/// error of `path`.
fn for_each_line(
    path: &Path,
    encoding: TextEncoding,
    mut visit: impl FnMut(usize, &str) -> Result<bool, String>,
) -> Result<(), DataError> {
    let bytes = read_all(path)?;
    let content = encoding.strip_bom(&bytes);
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    for (i, raw) in content.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let number = i + 1;
        let line = encoding
            .decode(raw)
            .ok_or_else(|| DataError::format(path, format!("line {number}: {INVALID_UTF8}")))?;
        if !visit(number, &line).map_err(|reason| DataError::format(path, reason))? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::{real, write};

    #[test]
    fn text_label_text_reads_sst2_train() {
        let Some(path) = real("sentences/stsa.binary.train") else {
            return;
        };
        let d = load_label_text(&path, None, TextEncoding::Utf8).unwrap();
        assert_eq!(d.len(), 6920);
        assert_eq!(d.class_names(), ["0", "1"]);
        assert_eq!(d.skipped_empty(), 0);
        assert_eq!(
            d.docs()[0],
            "a stirring , funny and finally transporting re-imagining of beauty and the beast and 1930s horror films"
        );
        assert_eq!(d.labels().unwrap()[..2], [1, 0]);
        let counts = d.labels().unwrap().iter().filter(|&&l| l == 1).count();
        assert_eq!(counts, 3610);
    }

    #[test]
    fn text_label_text_reads_trec_as_latin1() {
        let Some(path) = real("sentences/TREC.train.all") else {
            return;
        };
        // Line 66 holds one Latin-1 byte.
        let err = load_label_text(&path, None, TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: line 66: invalid UTF-8", path.display())),
            "{err}"
        );
        let d = load_label_text(&path, None, TextEncoding::Latin1).unwrap();
        assert_eq!(d.len(), 5452);
        assert_eq!(d.class_names(), ["0", "1", "2", "3", "4", "5"]);
        // TREC keeps its case.
        assert_eq!(
            d.docs()[0],
            "How did serfdom develop in and then leave Russia ?"
        );
        assert!(
            d.docs()[65].contains("sister\u{f0}city"),
            "{}",
            d.docs()[65]
        );
    }

    #[test]
    fn text_label_text_reads_sms_spam_tabs() {
        let Some(path) = real("sms-spam/SMSSpamCollection") else {
            return;
        };
        let d = load_label_text(&path, None, TextEncoding::Utf8).unwrap();
        assert_eq!(d.len(), 5574);
        assert_eq!(d.class_names(), ["ham", "spam"]);
        let spam = d.labels().unwrap().iter().filter(|&&l| l == 1).count();
        assert_eq!((d.len() - spam, spam), (4827, 747));
        assert_eq!(d.docs()[1], "Ok lar... Joking wif u oni...");
    }

    #[test]
    fn text_label_text_skips_labels_without_text() {
        // CR holds four lines that are a label alone ("0 ").
        let Some(path) = real("sentences/custrev.all") else {
            return;
        };
        let d = load_label_text(&path, None, TextEncoding::Utf8).unwrap();
        assert_eq!((d.len(), d.skipped_empty()), (3771, 4));
    }

    #[test]
    fn text_label_text_reads_every_sentence_benchmark() {
        // (file, encoding, documents, skipped, classes)
        let cases = [
            ("rt-polarity.all", TextEncoding::Latin1, 10_662, 0, 2),
            ("subj.all", TextEncoding::Latin1, 10_000, 0, 2),
            ("mpqa.all", TextEncoding::Utf8, 10_603, 3, 2),
            ("stsa.fine.train", TextEncoding::Utf8, 8_544, 0, 5),
            ("TREC.test.all", TextEncoding::Utf8, 500, 0, 6),
        ];
        for (file, encoding, len, skipped, classes) in cases {
            let Some(path) = real(&format!("sentences/{file}")) else {
                return;
            };
            let d = load_label_text(&path, None, encoding).unwrap();
            assert_eq!(
                (d.len(), d.skipped_empty(), d.num_classes()),
                (len, skipped, Some(classes)),
                "{file}"
            );
        }
    }

    #[test]
    fn text_lines_skip_and_count_empty_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "docs.txt",
            b"\xEF\xBB\xBFfirst doc\r\n\n   \n  Second Doc  \nthird\n",
        );
        let d = load_lines(&path, None, TextEncoding::Utf8).unwrap();
        assert_eq!(d.docs(), ["first doc", "Second Doc", "third"]);
        assert_eq!((d.skipped_empty(), d.labels()), (2, None));
        let d = load_lines(&path, Some(2), TextEncoding::Utf8).unwrap();
        assert_eq!(d.docs(), ["first doc", "Second Doc"]);
        let blank = write(&dir, "blank.txt", b"\n \n\t\n");
        let err = load_lines(&blank, None, TextEncoding::Utf8).unwrap_err();
        assert!(
            err.to_string().ends_with("the dataset holds no documents"),
            "{err}"
        );
    }

    #[test]
    fn text_invalid_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "bad.txt", b"1 fine\n\n0 caf\xe9 noir\n1 fine\n");
        for result in [
            load_lines(&path, None, TextEncoding::Utf8),
            load_label_text(&path, None, TextEncoding::Utf8),
        ] {
            let err = result.unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "{}: line 3: invalid UTF-8 (set `encoding = \"latin1\"` for Latin-1 or Windows-1252 text, or \"utf8_or_latin1\" for a mix)",
                    path.display()
                )
            );
        }
        let d = load_label_text(&path, None, TextEncoding::Latin1).unwrap();
        assert_eq!(d.docs()[1], "café noir");
        // Lines past the limit are not read.
        assert_eq!(
            load_lines(&path, Some(1), TextEncoding::Utf8)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn text_missing_label_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "l.txt", b"pos good\n neg no label here\n");
        let err = load_label_text(&path, None, TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: line 2: missing label", path.display())),
            "{err}"
        );
        let missing = dir.path().join("absent.txt");
        let err = load_lines(&missing, None, TextEncoding::Utf8).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err}");
    }
}
