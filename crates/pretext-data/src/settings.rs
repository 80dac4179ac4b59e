//! Settings files: TOML with `--set key=value` overrides, read into a serde
//! type with errors as one line naming the key at fault.
use serde::de::DeserializeOwned;

/// `#[serde(default = "yes")]`: a flag that is on unless a file says not.
pub(crate) fn yes() -> bool {
    true
}

/// `#[serde(skip_serializing_if = "is_yes")]`: writes such a flag only when
/// it is off.
pub(crate) fn is_yes(flag: &bool) -> bool {
    *flag
}

/// Parses `text`, applies `key=value` overrides (dotted keys, TOML values; a
/// bare word is a string) and deserialises the result. Errors are one line:
/// `line N: …` for syntax, `a.b: …` for a bad key or value.
pub fn from_toml_with_overrides<T: DeserializeOwned>(
    text: &str,
    overrides: &[String],
) -> Result<T, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| toml_message(&e, text))?;
    for o in overrides {
        apply_override(&mut table, o)?;
    }
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let msg = one_line(e.inner().message());
        if path == "." {
            msg
        } else {
            format!("{path}: {msg}")
        }
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A parse error as one line, with the line number.
fn toml_message(e: &toml::de::Error, text: &str) -> String {
    let msg = one_line(e.message());
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {msg}")
        }
        None => msg,
    }
}

/// Sets `a.b.c = value` in `table`, creating tables as needed.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), String> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("--set {assignment:?}: expected key=value"))?;
    let (key, raw) = (key.trim(), raw.trim());
    if raw.contains(['\n', '\r']) {
        return Err(format!(
            "--set {key}: the value holds a line break, which would drop what follows it; give one key per --set"
        ));
    }
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("--set {assignment:?}: empty key"));
    }
    let mut node = table;
    for part in &parts[..parts.len() - 1] {
        node = node
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("--set {key}: {part} is not a table"))?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}
