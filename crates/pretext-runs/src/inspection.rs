//! What `inspect` hands a report: a sample of the data seen through a run's
//! encoder, as plain data (the embeddings already computed).
use std::path::PathBuf;

use pretext_data::Image;

use crate::Features;

/// A sample of a dataset seen through a run's encoder.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The file the images come from.
    pub source: PathBuf,
    /// The sampled images (pixels in `[0, 1]`).
    pub images: Vec<Image>,
    /// Their labels, when the dataset has them.
    pub labels: Option<Vec<u32>>,
    /// Class names (may be empty: classes are then named by number).
    pub class_names: Vec<String>,
    /// The encoder's embedding of each sampled image, in order.
    pub embeddings: Features,
    /// Previewed images, each followed by its augmented views (empty when
    /// the run does not augment).
    pub augmented: Vec<(Image, Vec<Image>)>,
    /// Inputs and their reconstructions (autoencoders; empty otherwise).
    pub reconstructions: Vec<(Image, Image)>,
}

/// A sample of texts seen through a text run's encoder.
#[derive(Debug, Clone)]
pub struct TextInspection {
    /// The file the texts come from.
    pub source: PathBuf,
    /// The sampled texts.
    pub texts: Vec<String>,
    /// Their labels, when the data has them.
    pub labels: Option<Vec<u32>>,
    /// Class names (may be empty: classes are then named by number).
    pub class_names: Vec<String>,
    /// The encoder's embedding of each sampled text, in order.
    pub embeddings: Features,
}
