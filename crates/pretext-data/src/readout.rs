//! What a frozen encoder hands its evaluation heads, as settings: the
//! pooled embedding, or its stages' feature maps average-pooled over a grid
//! of the image (`pretext-nn` computes it; evaluation results record it).
use serde::{Deserialize, Serialize};

/// The most cells a side of the grid may have, and the most stages.
const MOST: usize = 4;

/// How features are read out of a frozen encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Readout {
    /// Each map is average-pooled over a `grid` x `grid` partition of the
    /// image (1: the global average, which for the last stage alone is the
    /// embedding; 2: the four quadrants). At most 4.
    #[serde(default = "one")]
    pub grid: usize,
    /// How many of the last stages' maps are read, earliest first (1: the
    /// last stage only). At most 4, and no more than the encoder has.
    #[serde(default = "one")]
    pub stages: usize,
}

fn one() -> usize {
    1
}

impl Default for Readout {
    fn default() -> Self {
        Self { grid: 1, stages: 1 }
    }
}

impl Readout {
    /// Whether this is the encoder's own embedding.
    pub fn is_embedding(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the settings, naming the key at fault (`readout.grid`,
    /// `readout.stages`).
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [("grid", self.grid), ("stages", self.stages)] {
            if !(1..=MOST).contains(&value) {
                return Err(format!("readout.{key} must be 1 to {MOST}, got {value}"));
            }
        }
        Ok(())
    }

    /// A short name for tables and cache keys: `last 2 stages, 2x2 grid`.
    pub fn describe(&self) -> String {
        let stages = match self.stages {
            1 => "last stage".to_string(),
            n => format!("last {n} stages"),
        };
        format!("{stages}, {g}x{g} grid", g = self.grid)
    }
}
