//! What a run's samples are, for the words its logs and tables use.
use serde::{Deserialize, Serialize};

/// The kind of sample a run trains or evaluates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Images.
    #[default]
    Image,
    /// Texts: sentences or documents.
    Text,
}

impl Modality {
    /// What the experiment in TOML `text` trains on, after `key=value`
    /// overrides: text when its `data.format` is one of
    /// [`TextDataConfig::FORMATS`](crate::TextDataConfig::FORMATS), images
    /// otherwise (also when the text does not parse: reading it as an image
    /// experiment then names the fault).
    pub fn of_experiment(text: &str, overrides: &[String]) -> Self {
        match experiment_format(text, overrides) {
            Some(f) if crate::TextDataConfig::FORMATS.contains(&f.as_str()) => Modality::Text,
            _ => Modality::Image,
        }
    }

    /// The plural noun for its samples: `images`, `texts`.
    pub fn samples(self) -> &'static str {
        match self {
            Modality::Image => "images",
            Modality::Text => "texts",
        }
    }

    /// The short unit of a throughput: `img/s`, `texts/s`.
    pub fn rate_unit(self) -> &'static str {
        match self {
            Modality::Image => "img/s",
            Modality::Text => "texts/s",
        }
    }
}

/// The `data.format` of the experiment in TOML `text`, after `key=value`
/// overrides, if it has one.
pub fn experiment_format(text: &str, overrides: &[String]) -> Option<String> {
    let value: toml::Value = crate::from_toml_with_overrides(text, overrides).ok()?;
    Some(value.get("data")?.get("format")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_experiment_is_text_when_its_format_is_a_text_format() {
        let text = "[data]\nformat = \"lines\"\n";
        assert_eq!(Modality::of_experiment(text, &[]), Modality::Text);
        let overridden = Modality::of_experiment(text, &["data.format=idx".into()]);
        assert_eq!(overridden, Modality::Image);
        assert_eq!(Modality::of_experiment("[data]\n", &[]), Modality::Image);
        assert_eq!(Modality::of_experiment("not toml [", &[]), Modality::Image);
        assert_eq!(experiment_format(text, &[]).as_deref(), Some("lines"));
    }
}
