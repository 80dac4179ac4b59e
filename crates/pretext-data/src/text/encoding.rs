//! The character encoding of a text file: UTF-8, or the single-byte Latin-1
//! family that older corpora use (MR's `rt-polarity.all`, Subj, one line of
//! TREC, 20 Newsgroups).
//!
//! `latin1` decodes as Windows-1252, as the WHATWG Encoding Standard does for
//! every `latin1` / `iso-8859-1` label: bytes 0x80-0x9F are the curly quotes,
//! dashes and ellipsis those files mean by them, not C1 control characters.
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// How the bytes of a text file are read as characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8 (the default); bytes that are not UTF-8 are an error naming the line.
    #[default]
    Utf8,
    /// Latin-1 as Windows-1252: every byte is one character, so decoding never fails.
    Latin1,
    /// Each file (each line, in line-based formats) as UTF-8 where it is
    /// valid UTF-8, else as Windows-1252: for collections that mix the two
    /// (BBC News has one Latin-1 article among 2,225 UTF-8 ones). Never fails.
    Utf8OrLatin1,
}

/// The message for bytes that are not UTF-8, with the way out.
pub(crate) const INVALID_UTF8: &str = "invalid UTF-8 (set `encoding = \"latin1\"` for Latin-1 or Windows-1252 text, or \"utf8_or_latin1\" for a mix)";

/// Windows-1252's characters for bytes 0x80..=0x9F; the five bytes it leaves
/// undefined keep their Latin-1 (C1 control) meaning, as WHATWG maps them.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

impl TextEncoding {
    /// `bytes` without a leading UTF-8 byte-order mark, where this encoding
    /// reads UTF-8 (`utf8`, `utf8_or_latin1`); in Latin-1 those three bytes
    /// are characters, kept.
    pub(crate) fn strip_bom(self, bytes: &[u8]) -> &[u8] {
        match (self, bytes.strip_prefix(b"\xEF\xBB\xBF")) {
            (TextEncoding::Utf8 | TextEncoding::Utf8OrLatin1, Some(rest)) => rest,
            _ => bytes,
        }
    }

    /// `bytes` as text, or `None` when they are not valid in this encoding
    /// (only UTF-8 can fail). Borrows when no conversion is needed.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            TextEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            TextEncoding::Utf8OrLatin1 => TextEncoding::Utf8
                .decode(bytes)
                .or_else(|| TextEncoding::Latin1.decode(bytes)),
            TextEncoding::Latin1 if bytes.is_ascii() => {
                // ASCII bytes are valid UTF-8 and mean the same in Windows-1252.
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            }
            TextEncoding::Latin1 => Some(Cow::Owned(
                bytes
                    .iter()
                    .map(|&b| match b {
                        0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                        _ => char::from(b),
                    })
                    .collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_encoding_utf8_rejects_what_latin1_reads() {
        // "cliché" in Latin-1: é is the single byte 0xE9.
        let latin1 = b"clich\xe9";
        assert_eq!(TextEncoding::Utf8.decode(latin1), None);
        assert_eq!(TextEncoding::Latin1.decode(latin1).unwrap(), "cliché");
        assert_eq!(
            TextEncoding::Utf8.decode("cliché".as_bytes()).unwrap(),
            "cliché"
        );
        assert!(matches!(
            TextEncoding::Latin1.decode(b"plain"),
            Some(Cow::Borrowed("plain"))
        ));
    }

    #[test]
    fn utf8_or_latin1_reads_each_as_what_it_is() {
        let e = TextEncoding::Utf8OrLatin1;
        assert_eq!(e.decode("cliché".as_bytes()).unwrap(), "cliché");
        assert_eq!(e.decode(b"clich\xe9").unwrap(), "cliché");
        // Curly quotes as Windows-1252 bytes.
        assert_eq!(e.decode(b"\x93hi\x94").unwrap(), "\u{201C}hi\u{201D}");
        // A byte-order mark goes where UTF-8 is read, stays in Latin-1.
        assert_eq!(e.strip_bom(b"\xEF\xBB\xBFtext"), b"text");
        assert_eq!(TextEncoding::Utf8.strip_bom(b"\xEF\xBB\xBFtext"), b"text");
        assert_eq!(
            TextEncoding::Latin1.strip_bom(b"\xEF\xBB\xBFt"),
            b"\xEF\xBB\xBFt"
        );
    }

    #[test]
    fn text_encoding_latin1_is_windows_1252() {
        // Subj's en dash (0x96), MR's ellipsis (0x85), curly quotes, the euro.
        let bytes = b"\x96 \x85 \x93a\x94 \x80 \x81 \xff";
        assert_eq!(
            TextEncoding::Latin1.decode(bytes).unwrap(),
            "\u{2013} \u{2026} \u{201C}a\u{201D} \u{20AC} \u{0081} \u{00FF}"
        );
    }

    #[test]
    fn text_encoding_names_in_settings() {
        #[derive(Deserialize)]
        struct S {
            encoding: TextEncoding,
        }
        let s: S = toml::from_str("encoding = \"latin1\"").unwrap();
        assert_eq!(s.encoding, TextEncoding::Latin1);
        let s: S = toml::from_str("encoding = \"utf8\"").unwrap();
        assert_eq!(s.encoding, TextEncoding::Utf8);
        assert!(toml::from_str::<S>("encoding = \"ebcdic\"").is_err());
    }
}
