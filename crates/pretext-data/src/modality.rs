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
