//! Self-labelling (Van Gansbeke et al., 2020, "SCAN: Learning to Classify
//! Images without Labels", step 3): continues a SCAN run's encoder and
//! cluster head. Where the head is confident about the first view of an
//! image, its cluster becomes the label the second view is trained
//! towards; the rest of the batch is left out. Still no labels: the
//! clusters are the head's own.
//!
//! It starts from a `scan` run (the experiment's `init`), whose `clusters`
//! and `hidden_dim` it repeats so that its head has the same shape.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::{Encoder, Footprint, InputShape};
use serde::{Deserialize, Serialize};

use super::checks::check_clusters;
use super::cluster_head::ClusterHead;
use super::scan::Scan;
use super::settings::{Build, MethodSettings, Needs};
use super::two_views::{TwoViewMethod, TwoViews};
use crate::loss::self_label;
use crate::{Method, MethodConfig, StepOutput};

/// Settings of [`SelfLabel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfLabelConfig {
    /// Clusters of the head: the SCAN run's.
    pub clusters: usize,
    /// Width of the head's hidden layer: the SCAN run's (0 for a linear head).
    pub hidden_dim: usize,
    /// The probability above which the head's cluster becomes a label (0.99 in the paper).
    pub threshold: f32,
}

impl Default for SelfLabelConfig {
    fn default() -> Self {
        Self {
            clusters: 10,
            hidden_dim: 0,
            threshold: 0.99,
        }
    }
}

impl SelfLabelConfig {
    /// Builds the method around `encoder` with a new head: the shape a
    /// checkpoint is loaded into.
    pub fn init(&self, encoder: Encoder, device: &Device) -> SelfLabel {
        SelfLabel {
            head: ClusterHead::new(encoder.out_dim(), self.hidden_dim, self.clusters, device),
            encoder,
            threshold: self.threshold as f64,
        }
    }

    /// Continues a trained SCAN model: its encoder and cluster head.
    pub fn continue_scan(&self, scan: Scan) -> SelfLabel {
        let (encoder, head) = scan.into_parts();
        SelfLabel {
            encoder,
            head,
            threshold: self.threshold as f64,
        }
    }
}

/// A self-labelling model: encoder plus cluster head.
#[derive(Module, Debug)]
pub struct SelfLabel {
    /// The encoder being trained.
    pub encoder: Encoder,
    head: ClusterHead,
    threshold: f64,
}

impl TwoViewMethod for SelfLabel {
    const LABEL: &'static str = "self_label";

    type Head = ClusterHead;

    fn towers(&self) -> (&Encoder, &ClusterHead) {
        (&self.encoder, &self.head)
    }

    fn into_encoder(self) -> Encoder {
        self.encoder
    }

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput::new(self_label(v.z1, v.z2, self.threshold as f32), v.h1)
    }
}

impl MethodSettings for SelfLabelConfig {
    type Model = SelfLabel;

    const NAME: &'static str = "self_label";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_clusters(self.clusters)?;
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(format!(
                "method.threshold must be in (0, 1), got {}",
                self.threshold
            ));
        }
        Ok(())
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        Footprint::linear(embed, self.hidden_dim.max(1))
            + Footprint::linear(self.hidden_dim.max(1), self.clusters)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> SelfLabel {
        self.init(encoder, at.device)
    }

    fn needs(&self) -> Needs {
        Needs {
            init: Some("continues a scan run"),
            ..Needs::default()
        }
    }

    /// Only a SCAN run with the same cluster head (`clusters`, `hidden_dim`).
    fn continues_from(&self, source: &MethodConfig) -> Result<(), String> {
        match source {
            MethodConfig::Scan(scan)
                if (scan.clusters, scan.hidden_dim) == (self.clusters, self.hidden_dim) =>
            {
                Ok(())
            }
            MethodConfig::Scan(scan) => Err(format!(
                "its cluster head has clusters = {}, hidden_dim = {}, but this experiment's has {}, {}; self_label continues the same head",
                scan.clusters, scan.hidden_dim, self.clusters, self.hidden_dim
            )),
            other => Err(format!(
                "is a {} run; self_label continues a scan run",
                other.name()
            )),
        }
    }

    /// A SCAN model's encoder and cluster head, continued.
    fn init_from(&self, source: Method, at: &Build<'_>) -> SelfLabel {
        match source {
            Method::Scan(scan) => self.continue_scan(scan),
            other => self.init_around(other.into_encoder(), at),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, Tensor};
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;
    use crate::method::ScanConfig;

    #[test]
    fn refuses_a_threshold_outside_zero_to_one() {
        for threshold in [0.0, 1.0, f32::NAN] {
            let c = SelfLabelConfig {
                threshold,
                ..SelfLabelConfig::default()
            };
            assert!(c.validate().unwrap_err().contains("method.threshold"));
        }
    }

    #[test]
    fn continues_the_scan_models_head() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 3);
        let shape = InputShape::new(1, 28, 28);
        let scan = ScanConfig {
            hidden_dim: 16,
            ..ScanConfig::default()
        };
        let model = scan.init(EncoderConfig::default().init(shape, &device), &device);
        let x = Tensor::<4>::random([4, 1, 28, 28], Distribution::Default, &device);
        let (encoder, head) = model.clone().into_parts();
        use super::super::two_views::ViewHead;
        let before = head.forward(encoder.forward(x.clone()));
        let continued = SelfLabelConfig {
            hidden_dim: 16,
            ..SelfLabelConfig::default()
        }
        .continue_scan(model);
        let after = continued.head.forward(continued.encoder.forward(x));
        before.into_data().assert_eq(&after.into_data(), true);
    }
}
