//! Methods: an encoder, its pretraining heads and a loss wired into one step.
//!
//! A method is one file in this folder: its settings, which implement
//! [`MethodSettings`], and its model, which implements [`MethodModel`]. The
//! registry below lists each method in one line, from which [`MethodConfig`]
//! (what `[method]` reads) and [`Method`] (the model a run trains) are made.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_data::ChannelStats;
use pretext_nn::{Encoder, EncoderConfig, Footprint, InputShape};
use serde::{Deserialize, Serialize};

mod autoencoder;
mod barlow_twins;
mod byol;
pub(crate) mod checks;
mod cluster_head;
mod dcl;
mod mae;
mod moco;
mod model;
mod momentum;
mod nnclr;
mod queue;
mod replica;
mod scan;
mod self_label;
mod settings;
mod simclr;
mod simsiam;
mod two_views;
mod vae;
mod vicreg;

pub use autoencoder::{Autoencoder, AutoencoderConfig, DenoisingAutoencoderConfig, Noise};
pub use barlow_twins::{BarlowTwins, BarlowTwinsConfig};
pub use byol::{Byol, ByolConfig};
pub use dcl::DclConfig;
pub use mae::{Mae, MaeConfig, patchify, unpatchify};
pub use moco::{Moco, MocoConfig};
pub use model::MethodModel;
pub(crate) use model::encoder_field;
pub use momentum::{StepProgress, cosine_momentum, ema_update};
pub use nnclr::{Nnclr, NnclrConfig};
pub use replica::{Replica, StepReplicas, row_ranges};
pub use scan::{Scan, ScanConfig};
pub use self_label::{SelfLabel, SelfLabelConfig};
pub use settings::{Build, MethodSettings, Needs};
pub use simclr::{Simclr, SimclrConfig};
pub use simsiam::{Simsiam, SimsiamConfig};
pub use vae::{Vae, VaeConfig};
pub use vicreg::{Vicreg, VicregConfig};

/// The registry: one line per method, `Variant(Settings) => ModelVariant(Model)`
/// (or `=> ModelVariant` for settings that build another line's model),
/// from which [`MethodConfig`], [`Method`] and their dispatch are made.
macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        $variant:ident($settings:ty) => $model_variant:ident $(($model:ty))?
    ),* $(,)?) => {
        /// Which method to pretrain with: `name = "<method>"`, the variant's
        /// name in snake case (`"simclr"`, `"barlow_twins"`, ...), with the
        /// method's settings beside it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "name", rename_all = "snake_case")]
        pub enum MethodConfig {
            $( $(#[$doc])* $variant($settings), )*
        }

        /// A method of any registered kind.
        // One long-lived value per run, moved once per step: the size of the
        // largest variant (two encoders for the momentum methods) costs
        // nothing worth a box.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum Method {
            $($(
                #[doc = concat!("See [`", stringify!($model), "`].")]
                $model_variant($model),
            )?)*
        }

        impl MethodConfig {
            /// What the method holds beyond its encoder, in floats, for an
            /// encoder of `encoder` footprint and `embed` output length on
            /// `input` images: heads, momentum copies, queues, support sets
            /// and decoders. Counted before anything is built, so that a size
            /// that cannot fit is refused instead of aborting the process; an
            /// estimate, not an exact count.
            pub fn footprint(&self, encoder: Footprint, embed: usize, input: InputShape) -> Footprint {
                match self {
                    $( Self::$variant(c) => c.footprint(encoder, embed, input), )*
                }
            }

            /// The method's name as written in configs.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => <$settings as MethodSettings>::NAME, )*
                }
            }

            /// How many augmented views of each image one step needs.
            pub fn views(&self) -> usize {
                match self {
                    $( Self::$variant(_) => <$settings as MethodSettings>::VIEWS, )*
                }
            }

            /// Checks the settings, naming the offending key.
            pub fn validate(&self) -> Result<(), String> {
                match self {
                    $( Self::$variant(c) => c.validate(), )*
                }
            }

            /// What the method needs from the experiment around it.
            pub fn needs(&self) -> Needs {
                match self {
                    $( Self::$variant(c) => c.needs(), )*
                }
            }

            /// Whether a run of this method may start from a run trained with
            /// `source`; the error says why not.
            pub fn continues_from(&self, source: &MethodConfig) -> Result<(), String> {
                match self {
                    $( Self::$variant(c) => c.continues_from(source), )*
                }
            }

            /// Builds the method around a new encoder (made first, then the
            /// method's heads; a momentum network starts as a copy of it).
            pub fn init(&self, encoder: &EncoderConfig, input: &InputSpec, device: &Device) -> Method {
                let fresh = encoder.init(input.shape, device);
                let at = Build { encoder, input, device };
                match self {
                    $( Self::$variant(c) => Method::$model_variant(c.init_around(fresh, &at)), )*
                }
            }

            /// Builds the method from `source`, the trained method of an
            /// earlier run: self-labelling continues a SCAN model's encoder
            /// and cluster head; every other method takes its encoder with
            /// new heads. The caller checks
            /// [`MethodConfig::continues_from`] first.
            pub fn init_from(
                &self,
                source: Method,
                config: &EncoderConfig,
                input: &InputSpec,
                device: &Device,
            ) -> Method {
                let at = Build { encoder: config, input, device };
                match self {
                    $( Self::$variant(c) => Method::$model_variant(c.init_from(source, &at)), )*
                }
            }

            /// Every method with its default settings, in registry order.
            #[cfg(test)]
            pub(crate) fn every_default() -> Vec<MethodConfig> {
                vec![$( Self::$variant(<$settings>::default()), )*]
            }
        }

        impl Method {
            /// One forward pass over the views of a batch.
            ///
            /// # Shapes
            /// - `views`: as many `[batch, c, h, w]` tensors as [`MethodConfig::views`]
            pub fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
                match self {
                    $($( Self::$model_variant(m) => <$model as MethodModel>::forward(m, views), )?)*
                }
            }

            /// [`Method::forward`] with the batch split by rows over
            /// `replicas`: copies of one method on several devices, the first
            /// on the views' device. Methods whose loss couples the images of
            /// a batch (SimCLR's and NNCLR's negatives, the batch statistics
            /// of Barlow Twins and VICReg, SCAN's entropy of the batch's mean
            /// assignment) gather the projections on the first device, so
            /// the loss is the whole batch's. The others average their
            /// copies' losses weighted by rows, which is the whole batch's
            /// mean loss; MoCo's keys are gathered in batch order. Batch norm
            /// normalises over each copy's rows (as in PyTorch's
            /// DistributedDataParallel without SyncBatchNorm).
            pub fn forward_replicated(
                replicas: StepReplicas<'_, Method>,
                views: &[Tensor<4>],
            ) -> StepOutput {
                if replicas.count == 1 {
                    return replicas.first.model.forward(views);
                }
                match replicas.first.model {
                    $($( Self::$model_variant(_) => <$model as MethodModel>::forward_replicated(
                        replicas.map(|m| match m {
                            Self::$model_variant(x) => x,
                            _ => unreachable!("the replicas of a step are copies of one method"),
                        }),
                        views,
                    ), )?)*
                }
            }

            /// The update that follows each optimiser step: momentum networks
            /// move towards the online ones and queues take `keys` (the
            /// step's [`StepOutput::keys`]). The identity for methods without
            /// such state.
            pub fn after_step(self, keys: Option<Tensor<2>>, progress: StepProgress) -> Self {
                match self {
                    $($( Self::$model_variant(m) => Self::$model_variant(<$model as MethodModel>::after_step(m, keys, progress)), )?)*
                }
            }

            /// The encoder being pretrained.
            pub fn encoder(&self) -> &Encoder {
                match self {
                    $($( Self::$model_variant(m) => <$model as MethodModel>::encoder(m), )?)*
                }
            }

            /// For methods that reconstruct their input (autoencoders), the
            /// reconstruction of a normalised batch as pixels in `[0, 1]`;
            /// `None` for methods that do not.
            ///
            /// # Shapes
            /// `[b, c, h, w]` → `[b, c, h, w]`
            pub fn reconstruct_pixels(&self, x: Tensor<4>) -> Option<Tensor<4>> {
                match self {
                    $($( Self::$model_variant(m) => <$model as MethodModel>::reconstruct_pixels(m, x), )?)*
                }
            }

            /// Consumes the method, keeping only its encoder.
            pub fn into_encoder(self) -> Encoder {
                match self {
                    $($( Self::$model_variant(m) => <$model as MethodModel>::into_encoder(m), )?)*
                }
            }
        }
    };
}

registry! {
    /// SimCLR: two augmented views, a projection head, NT-Xent.
    Simclr(SimclrConfig) => Simclr(Simclr),
    /// DCL: SimCLR with the positive pair out of the loss's denominator
    /// (SimCLR's model, so no model of its own).
    Dcl(DclConfig) => Simclr,
    /// NNCLR: SimCLR with each positive taken from a support set of nearest neighbours.
    Nnclr(NnclrConfig) => Nnclr(Nnclr),
    /// MoCo v2: a momentum key encoder and a queue of negatives, InfoNCE.
    Moco(MocoConfig) => Moco(Moco),
    /// BYOL: an online predictor regresses a momentum target's projection.
    Byol(ByolConfig) => Byol(Byol),
    /// SimSiam: a predictor and a stop-gradient, no momentum network.
    Simsiam(SimsiamConfig) => Simsiam(Simsiam),
    /// Barlow Twins: two views, a projection head, cross-correlation towards the identity.
    BarlowTwins(BarlowTwinsConfig) => BarlowTwins(BarlowTwins),
    /// VICReg: two views, a projection head, variance-invariance-covariance terms.
    Vicreg(VicregConfig) => Vicreg(Vicreg),
    /// SCAN: a linear cluster head; each image and a mined neighbour should
    /// share a confident cluster, the batch spread over all clusters.
    Scan(ScanConfig) => Scan(Scan),
    /// SCAN's self-labelling: continues a SCAN run, training each image's
    /// second view towards the cluster the head is confident of on its first.
    SelfLabel(SelfLabelConfig) => SelfLabel(SelfLabel),
    /// An autoencoder: encoder, convolutional decoder, reconstruction loss.
    Autoencoder(AutoencoderConfig) => Autoencoder(Autoencoder),
    /// A denoising autoencoder: reconstruct the clean image from a corrupted
    /// one (the autoencoder's model, so no model of its own).
    DenoisingAutoencoder(DenoisingAutoencoderConfig) => Autoencoder,
    /// A variational autoencoder: Gaussian latent, reparameterisation, KL term weighted by β.
    Vae(VaeConfig) => Vae(Vae),
    /// A masked autoencoder: a ViT encodes the visible 25% of the patches, a
    /// light decoder predicts the rest.
    Mae(MaeConfig) => Mae(Mae),
}

impl Default for MethodConfig {
    fn default() -> Self {
        MethodConfig::Simclr(SimclrConfig::default())
    }
}

/// What a method needs to know about its input data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Shape of one image.
    pub shape: InputShape,
    /// Channel means used to normalise the input (to undo it for BCE targets).
    pub mean: Vec<f32>,
    /// Channel standard deviations used to normalise the input.
    pub std: Vec<f32>,
}

impl InputSpec {
    /// A spec with identity normalisation.
    pub fn new(shape: InputShape) -> Self {
        Self::normalized(shape, &ChannelStats::identity(shape.channels))
    }

    /// A spec for inputs normalised with `stats`.
    pub fn normalized(shape: InputShape, stats: &ChannelStats) -> Self {
        Self {
            shape,
            mean: stats.mean.clone(),
            std: stats.std.clone(),
        }
    }
}

/// The result of one forward pass of a method.
#[derive(Debug)]
pub struct StepOutput {
    /// The scalar loss to minimise, shape `[1]`.
    pub loss: Tensor<1>,
    /// The encoder's embeddings of the first view, `[batch, out_dim]`, for
    /// monitoring (collapse signal).
    pub embeddings: Tensor<2>,
    /// This step's keys, detached, for a method that queues them after the
    /// optimiser step ([`Method::after_step`]); `None` for the others.
    pub keys: Option<Tensor<2>>,
}

impl StepOutput {
    /// The output of a step that queues nothing: its loss and the
    /// embeddings of the first view.
    pub fn new(loss: Tensor<1>, embeddings: Tensor<2>) -> Self {
        Self {
            loss,
            embeddings,
            keys: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_name_is_the_name_its_config_is_read_by() {
        crate::method::checks::check_registry(MethodConfig::every_default(), MethodConfig::name);
    }
}
