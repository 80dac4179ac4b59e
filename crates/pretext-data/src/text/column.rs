//! How a table's columns are named in a config: by header (`"sentence"`) or
//! by position counted from 1 (`2`), the only way in a file without a header
//! row; the text may be several columns joined (`["title", "description"]`).
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One column of a table: its header, or its position from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column whose header is this.
    Name(String),
    /// The column at this position, the first being 1.
    Position(usize),
}

impl Column {
    /// The column's index in a row of `header` (the header row, or `None`
    /// in a file without one, whose rows have `fields` fields); `key` names
    /// the setting. Errors say why in words, for the caller to prefix with
    /// the file.
    pub(crate) fn index(
        &self,
        key: &str,
        header: Option<&[String]>,
        fields: usize,
    ) -> Result<usize, String> {
        match (self, header) {
            (Column::Position(0), _) => Err(format!("`{key}` = 0: column positions count from 1")),
            (Column::Position(p), _) if *p <= fields => Ok(p - 1),
            (Column::Position(p), _) => Err(format!(
                "no column {p}: the rows have {fields} field{}",
                if fields == 1 { "" } else { "s" }
            )),
            (Column::Name(name), Some(header)) => {
                header.iter().position(|h| h == name).ok_or_else(|| {
                    format!(
                        "no column `{name}`; the columns are {}",
                        crate::listed(header)
                    )
                })
            }
            (Column::Name(name), None) => Err(format!(
                "column `{name}` names a header, but `header = false`: name columns by position, \
                 from 1"
            )),
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Name(name) => write!(f, "`{name}`"),
            Column::Position(p) => write!(f, "{p}"),
        }
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_owned())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl From<usize> for Column {
    fn from(position: usize) -> Self {
        Column::Position(position)
    }
}

impl Serialize for Column {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Column::Name(name) => s.serialize_str(name),
            Column::Position(p) => s.serialize_u64(*p as u64),
        }
    }
}

/// Reads a header (string) or a position (integer from 1).
struct ColumnVisitor;

impl Visitor<'_> for ColumnVisitor {
    type Value = Column;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column header (a string) or position (an integer from 1)")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Column, E> {
        if name.is_empty() {
            return Err(E::custom("a column header cannot be empty"));
        }
        Ok(Column::Name(name.to_owned()))
    }

    // 0 is read, for the loader to refuse naming the key.
    fn visit_u64<E: de::Error>(self, p: u64) -> Result<Column, E> {
        usize::try_from(p)
            .map(Column::Position)
            .map_err(|_| E::custom(format!("no column {p}: too large a position")))
    }

    fn visit_i64<E: de::Error>(self, p: i64) -> Result<Column, E> {
        match u64::try_from(p) {
            Ok(p) => self.visit_u64(p),
            Err(_) => Err(E::custom(format!("column positions count from 1, got {p}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ColumnVisitor)
    }
}

/// The column or columns that hold the text: one (`"text"`, `3`) or several
/// joined in order with a newline between them (`["title", "description"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumns(Vec<Column>);

impl TextColumns {
    /// Several columns, joined in the order given; `None` when there are none.
    pub fn joined(columns: Vec<Column>) -> Option<Self> {
        (!columns.is_empty()).then_some(TextColumns(columns))
    }

    /// The columns, in the order they are joined (never empty).
    pub fn columns(&self) -> &[Column] {
        &self.0
    }
}

impl<C: Into<Column>> From<C> for TextColumns {
    fn from(column: C) -> Self {
        TextColumns(vec![column.into()])
    }
}

impl Serialize for TextColumns {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0[..] {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

/// Reads one column or a non-empty list of them.
struct TextColumnsVisitor;

impl<'de> Visitor<'de> for TextColumnsVisitor {
    type Value = TextColumns;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column header or position, or a list of them to join")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<TextColumns, E> {
        ColumnVisitor.visit_str(name).map(TextColumns::from)
    }

    fn visit_u64<E: de::Error>(self, p: u64) -> Result<TextColumns, E> {
        ColumnVisitor.visit_u64(p).map(TextColumns::from)
    }

    fn visit_i64<E: de::Error>(self, p: i64) -> Result<TextColumns, E> {
        ColumnVisitor.visit_i64(p).map(TextColumns::from)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextColumns, A::Error> {
        let mut columns = Vec::new();
        while let Some(column) = seq.next_element::<Column>()? {
            columns.push(column);
        }
        if columns.is_empty() {
            return Err(de::Error::custom("the list of text columns is empty"));
        }
        Ok(TextColumns(columns))
    }
}

impl<'de> Deserialize<'de> for TextColumns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextColumnsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Keys {
        text_column: TextColumns,
        label_column: Option<Column>,
    }

    fn parse(text: &str) -> Result<Keys, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn columns_are_headers_or_positions_from_one() {
        let k = parse("text_column = \"title\"\nlabel_column = 1").unwrap();
        assert_eq!(k.text_column.columns(), [Column::from("title")]);
        assert_eq!(k.label_column, Some(Column::Position(1)));
        let k = parse("text_column = [2, \"description\"]").unwrap();
        assert_eq!(
            k.text_column.columns(),
            [Column::Position(2), Column::from("description")]
        );
        for (text, expected) in [
            ("text_column = -3", "column positions count from 1, got -3"),
            ("text_column = []", "the list of text columns is empty"),
            ("text_column = \"\"", "a column header cannot be empty"),
            ("text_column = 1.5", "a column header or position"),
            (
                "text_column = 1\nlabel_column = [1]",
                "a column header (a string) or position",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn columns_round_trip_in_the_form_they_were_written() {
        for text in [
            "text_column = \"title\"\nlabel_column = 1\n",
            "text_column = [2, \"description\"]\n",
        ] {
            let k = parse(text).unwrap();
            assert_eq!(toml::to_string(&k).unwrap(), text);
        }
    }

    #[test]
    fn a_column_finds_its_index_or_says_why_not() {
        let header: Vec<String> = ["id", "text"].map(String::from).to_vec();
        let index = |c: Column, header: Option<&[String]>| c.index("text_column", header, 2);
        assert_eq!(index("text".into(), Some(&header)), Ok(1));
        assert_eq!(index(Column::Position(1), Some(&header)), Ok(0));
        assert_eq!(index(Column::Position(2), None), Ok(1));
        assert_eq!(
            index(Column::Position(3), None).unwrap_err(),
            "no column 3: the rows have 2 fields"
        );
        assert_eq!(
            index(Column::Position(0), Some(&header)).unwrap_err(),
            "`text_column` = 0: column positions count from 1"
        );
        assert_eq!(
            index("label".into(), Some(&header)).unwrap_err(),
            "no column `label`; the columns are `id`, `text`"
        );
        assert!(
            index("text".into(), None)
                .unwrap_err()
                .contains("`header = false`")
        );
    }
}
