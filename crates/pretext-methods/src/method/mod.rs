//! Methods: an encoder, its pretraining heads and a loss wired into one step.
//!
//! [`MethodConfig`] is the one registry: adding a method is a file in this
//! folder, a variant in [`MethodConfig`] and one in [`Method`].
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
mod mae;
mod moco;
mod momentum;
mod nnclr;
mod queue;
mod replica;
mod scan;
mod self_label;
mod simclr;
mod simsiam;
mod two_views;

use two_views::forward_two_views_replicated;
mod vae;
mod vicreg;

pub use autoencoder::{Autoencoder, AutoencoderConfig, DenoisingAutoencoderConfig, Noise};
pub use barlow_twins::{BarlowTwins, BarlowTwinsConfig};
pub use byol::{Byol, ByolConfig};
pub use mae::{Mae, MaeConfig, patchify, unpatchify};
pub use moco::{Moco, MocoConfig};
pub use momentum::{StepProgress, cosine_momentum, ema_update};
pub use nnclr::{Nnclr, NnclrConfig};
pub use replica::{Replica, StepReplicas, row_ranges};
pub use scan::{Scan, ScanConfig};
pub use self_label::{SelfLabel, SelfLabelConfig};
pub use simclr::{Simclr, SimclrConfig};
pub use simsiam::{Simsiam, SimsiamConfig};
pub use vae::{Vae, VaeConfig};
pub use vicreg::{Vicreg, VicregConfig};

/// Which method to pretrain with (`name = "simclr" | "nnclr" | "moco" | "byol" | "simsiam" | "barlow_twins" | "vicreg" | "scan" | "self_label" | "autoencoder" | "denoising_autoencoder" | "vae" | "mae"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum MethodConfig {
    /// SimCLR: two augmented views, a projection head, NT-Xent.
    Simclr(SimclrConfig),
    /// NNCLR: SimCLR with each positive taken from a support set of nearest neighbours.
    Nnclr(NnclrConfig),
    /// MoCo v2: a momentum key encoder and a queue of negatives, InfoNCE.
    Moco(MocoConfig),
    /// BYOL: an online predictor regresses a momentum target's projection.
    Byol(ByolConfig),
    /// SimSiam: a predictor and a stop-gradient, no momentum network.
    Simsiam(SimsiamConfig),
    /// Barlow Twins: two views, a projection head, cross-correlation towards the identity.
    BarlowTwins(BarlowTwinsConfig),
    /// VICReg: two views, a projection head, variance-invariance-covariance terms.
    Vicreg(VicregConfig),
    /// SCAN: a linear cluster head; each image and a mined neighbour should
    /// share a confident cluster, the batch spread over all clusters.
    Scan(ScanConfig),
    /// SCAN's self-labelling: continues a SCAN run, training each image's
    /// second view towards the cluster the head is confident of on its first.
    SelfLabel(SelfLabelConfig),
    /// An autoencoder: encoder, convolutional decoder, reconstruction loss.
    Autoencoder(AutoencoderConfig),
    /// A denoising autoencoder: reconstruct the clean image from a corrupted one.
    DenoisingAutoencoder(DenoisingAutoencoderConfig),
    /// A variational autoencoder: Gaussian latent, reparameterisation, KL term weighted by β.
    Vae(VaeConfig),
    /// A masked autoencoder: a ViT encodes the visible 25% of the patches, a
    /// light decoder predicts the rest.
    Mae(MaeConfig),
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

impl MethodConfig {
    /// What the method holds beyond its encoder, in floats, for an encoder
    /// of `encoder` footprint and `embed` output length on `input` images:
    /// heads, momentum copies, queues, support sets and decoders. Counted
    /// before anything is built, so that a size that cannot fit is refused
    /// instead of aborting the process; an estimate, not an exact count.
    pub fn footprint(&self, encoder: Footprint, embed: usize, input: InputShape) -> Footprint {
        let params_only = |f: Footprint| Footprint::new(f.params, 0.0);
        let rows = |n: usize, d: usize| Footprint::new(n as f64 * d as f64, 0.0);
        let decoder = |widths: &[usize]| {
            let convs: f64 = widths
                .windows(2)
                .map(|w| 9.0 * w[0] as f64 * w[1] as f64)
                .sum();
            let first = widths.first().copied().unwrap_or(1) as f64;
            // A linear layer from the embedding to the first map, then
            // convolutions up to the image: about the encoder's maps again.
            Footprint::new(embed as f64 * first * 16.0 + convs, encoder.activations)
        };
        match self {
            MethodConfig::Simclr(c) => c.projection.footprint(embed),
            MethodConfig::BarlowTwins(c) => c.projection.footprint(embed),
            MethodConfig::Vicreg(c) => c.projection.footprint(embed),
            MethodConfig::Nnclr(c) => {
                c.projection.footprint(embed) + rows(c.support_size, c.projection.out_dim)
            }
            MethodConfig::Moco(c) => {
                let head = c.projection.footprint(embed);
                head + params_only(encoder + head) + rows(c.queue_size, c.projection.out_dim)
            }
            MethodConfig::Byol(c) => {
                let head = c.projection.footprint(embed);
                head + c.predictor.footprint(c.projection.out_dim) + params_only(encoder + head)
            }
            MethodConfig::Simsiam(c) => {
                c.projection.footprint(embed) + c.predictor.footprint(c.projection.out_dim)
            }
            MethodConfig::Scan(c) => {
                let one = Footprint::linear(embed, c.hidden_dim.max(1))
                    + Footprint::linear(c.hidden_dim.max(1), c.clusters);
                Footprint::new(
                    one.params * c.heads as f64,
                    one.activations * c.heads as f64,
                )
            }
            MethodConfig::SelfLabel(c) => {
                Footprint::linear(embed, c.hidden_dim.max(1))
                    + Footprint::linear(c.hidden_dim.max(1), c.clusters)
            }
            MethodConfig::Autoencoder(c) => decoder(&c.decoder.widths),
            MethodConfig::DenoisingAutoencoder(c) => decoder(&c.decoder.widths),
            MethodConfig::Vae(c) => {
                decoder(&c.decoder.widths)
                    + Footprint::linear(embed, c.latent_dim)
                    + Footprint::linear(embed, c.latent_dim)
            }
            MethodConfig::Mae(c) => {
                // Patches of 4x4 as a guess at the encoder's; the decoder's
                // blocks are what grows with its settings.
                let n = (input.height * input.width) as f64 / 16.0;
                let d = c.decoder_dim as f64;
                let depth = c.decoder_depth as f64;
                let heads = c.decoder_heads as f64;
                Footprint::new(
                    depth * 12.0 * d * d + n * d + embed as f64 * d,
                    depth * (18.0 * n * d + 2.0 * heads * n * n),
                )
            }
        }
    }

    /// The method's name as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            MethodConfig::Simclr(_) => "simclr",
            MethodConfig::Nnclr(_) => "nnclr",
            MethodConfig::Moco(_) => "moco",
            MethodConfig::Byol(_) => "byol",
            MethodConfig::Simsiam(_) => "simsiam",
            MethodConfig::BarlowTwins(_) => "barlow_twins",
            MethodConfig::Vicreg(_) => "vicreg",
            MethodConfig::Scan(_) => "scan",
            MethodConfig::SelfLabel(_) => "self_label",
            MethodConfig::Autoencoder(_) => "autoencoder",
            MethodConfig::DenoisingAutoencoder(_) => "denoising_autoencoder",
            MethodConfig::Vae(_) => "vae",
            MethodConfig::Mae(_) => "mae",
        }
    }

    /// How many augmented views of each image one step needs.
    pub fn views(&self) -> usize {
        match self {
            MethodConfig::Simclr(_)
            | MethodConfig::Nnclr(_)
            | MethodConfig::Moco(_)
            | MethodConfig::Byol(_)
            | MethodConfig::Simsiam(_)
            | MethodConfig::BarlowTwins(_)
            | MethodConfig::Vicreg(_)
            | MethodConfig::Scan(_)
            | MethodConfig::SelfLabel(_) => 2,
            MethodConfig::Autoencoder(_)
            | MethodConfig::DenoisingAutoencoder(_)
            | MethodConfig::Vae(_)
            | MethodConfig::Mae(_) => 1,
        }
    }

    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            MethodConfig::Simclr(c) => c.validate(),
            MethodConfig::Nnclr(c) => c.validate(),
            MethodConfig::Moco(c) => c.validate(),
            MethodConfig::Byol(c) => c.validate(),
            MethodConfig::Simsiam(c) => c.validate(),
            MethodConfig::BarlowTwins(c) => c.validate(),
            MethodConfig::Vicreg(c) => c.validate(),
            MethodConfig::Scan(c) => c.validate(),
            MethodConfig::SelfLabel(c) => c.validate(),
            MethodConfig::Autoencoder(c) => c.validate(),
            MethodConfig::DenoisingAutoencoder(c) => c.validate(),
            MethodConfig::Vae(c) => c.validate(),
            MethodConfig::Mae(c) => c.validate(),
        }
    }

    /// Builds the method around a new encoder.
    pub fn init(&self, encoder: &EncoderConfig, input: &InputSpec, device: &Device) -> Method {
        self.init_around(encoder.init(input.shape, device), encoder, input, device)
    }

    /// Builds the method from `source`, the trained method of an earlier run:
    /// self-labelling continues a SCAN model's encoder and cluster head;
    /// every other method takes its encoder, as [`MethodConfig::init_around`].
    /// The caller checks that a self-labelling run continues a SCAN run of
    /// the same head.
    pub fn init_from(
        &self,
        source: Method,
        config: &EncoderConfig,
        input: &InputSpec,
        device: &Device,
    ) -> Method {
        match (self, source) {
            (MethodConfig::SelfLabel(c), Method::Scan(scan)) => {
                Method::SelfLabel(c.continue_scan(scan))
            }
            (_, source) => self.init_around(source.into_encoder(), config, input, device),
        }
    }

    /// Builds the method around `encoder`, an encoder of architecture
    /// `config` (new, or trained by an earlier run): its heads are new, and
    /// a momentum network (MoCo's, BYOL's) starts as a copy of it.
    pub fn init_around(
        &self,
        encoder: Encoder,
        config: &EncoderConfig,
        input: &InputSpec,
        device: &Device,
    ) -> Method {
        match self {
            MethodConfig::Simclr(c) => Method::Simclr(c.init(encoder, device)),
            MethodConfig::Nnclr(c) => Method::Nnclr(c.init(encoder, device)),
            MethodConfig::Moco(c) => {
                let key = config.init(input.shape, device);
                Method::Moco(c.init(encoder, key, device))
            }
            MethodConfig::Byol(c) => {
                let target = config.init(input.shape, device);
                Method::Byol(c.init(encoder, target, device))
            }
            MethodConfig::Simsiam(c) => Method::Simsiam(c.init(encoder, device)),
            MethodConfig::BarlowTwins(c) => Method::BarlowTwins(c.init(encoder, device)),
            MethodConfig::Vicreg(c) => Method::Vicreg(c.init(encoder, device)),
            MethodConfig::Scan(c) => Method::Scan(c.init(encoder, device)),
            MethodConfig::SelfLabel(c) => Method::SelfLabel(c.init(encoder, device)),
            MethodConfig::Autoencoder(c) => Method::Autoencoder(c.init(encoder, input, device)),
            MethodConfig::DenoisingAutoencoder(c) => {
                Method::Autoencoder(c.init(encoder, input, device))
            }
            MethodConfig::Vae(c) => Method::Vae(c.init(encoder, input, device)),
            MethodConfig::Mae(c) => Method::Mae(c.init(encoder, input, device)),
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

/// A method of any registered kind.
// One long-lived value per run, moved once per step: the size of the largest
// variant (two encoders for the momentum methods) costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Method {
    /// See [`Simclr`].
    Simclr(Simclr),
    /// See [`Nnclr`].
    Nnclr(Nnclr),
    /// See [`Moco`].
    Moco(Moco),
    /// See [`Byol`].
    Byol(Byol),
    /// See [`Simsiam`].
    Simsiam(Simsiam),
    /// See [`BarlowTwins`].
    BarlowTwins(BarlowTwins),
    /// See [`Vicreg`].
    Vicreg(Vicreg),
    /// See [`Scan`].
    Scan(Scan),
    /// See [`SelfLabel`].
    SelfLabel(SelfLabel),
    /// See [`Autoencoder`] (plain or denoising).
    Autoencoder(Autoencoder),
    /// See [`Vae`].
    Vae(Vae),
    /// See [`Mae`].
    Mae(Mae),
}

impl Method {
    /// One forward pass over the views of a batch.
    ///
    /// # Shapes
    /// - `views`: as many `[batch, c, h, w]` tensors as [`MethodConfig::views`]
    pub fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        match self {
            Method::Simclr(m) => m.forward(views),
            Method::Nnclr(m) => m.forward(views),
            Method::Moco(m) => m.forward(views),
            Method::Byol(m) => m.forward(views),
            Method::Simsiam(m) => m.forward(views),
            Method::BarlowTwins(m) => m.forward(views),
            Method::Vicreg(m) => m.forward(views),
            Method::Scan(m) => m.forward(views),
            Method::SelfLabel(m) => m.forward(views),
            Method::Autoencoder(m) => m.forward(views),
            Method::Vae(m) => m.forward(views),
            Method::Mae(m) => m.forward(views),
        }
    }

    /// [`Method::forward`] with the batch split by rows over `replicas`:
    /// copies of one method on several devices, the first on the views'
    /// device. Methods whose loss couples the images of a batch (SimCLR's and
    /// NNCLR's negatives, the batch statistics of Barlow Twins and VICReg,
    /// SCAN's entropy of the batch's mean assignment) gather the
    /// projections on the first device, so the loss is the whole batch's. The
    /// others average their copies' losses weighted by rows, which is the
    /// whole batch's mean loss; MoCo's keys are gathered in batch order.
    /// Batch norm normalises over each copy's rows (as in PyTorch's
    /// DistributedDataParallel without SyncBatchNorm).
    pub fn forward_replicated(
        replicas: StepReplicas<'_, Method>,
        views: &[Tensor<4>],
    ) -> StepOutput {
        if replicas.count == 1 {
            return replicas.first.model.forward(views);
        }
        match replicas.first.model {
            Method::Simclr(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::Simclr(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            Method::Nnclr(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::Nnclr(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            Method::BarlowTwins(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::BarlowTwins(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            Method::Vicreg(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::Vicreg(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            Method::Scan(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::Scan(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            Method::SelfLabel(_) => forward_two_views_replicated(
                replicas.map(|m| match m {
                    Method::SelfLabel(x) => x,
                    _ => unreachable!("the replicas of a step are copies of one method"),
                }),
                views,
            ),
            _ => forward_each(replicas, views),
        }
    }

    /// The update that follows each optimiser step: momentum networks move
    /// towards the online ones and queues take `keys` (the step's
    /// [`StepOutput::keys`]). The identity for methods without such state.
    pub fn after_step(self, keys: Option<Tensor<2>>, progress: StepProgress) -> Self {
        match self {
            Method::Moco(m) => Method::Moco(m.after_step(keys)),
            Method::Nnclr(m) => Method::Nnclr(m.after_step(keys)),
            Method::Byol(m) => Method::Byol(m.after_step(progress)),
            other => other,
        }
    }

    /// The encoder being pretrained.
    pub fn encoder(&self) -> &Encoder {
        match self {
            Method::Simclr(m) => &m.encoder,
            Method::Nnclr(m) => &m.encoder,
            Method::Moco(m) => &m.encoder,
            Method::Byol(m) => &m.encoder,
            Method::Simsiam(m) => &m.encoder,
            Method::BarlowTwins(m) => &m.encoder,
            Method::Vicreg(m) => &m.encoder,
            Method::Scan(m) => &m.encoder,
            Method::SelfLabel(m) => &m.encoder,
            Method::Autoencoder(m) => &m.encoder,
            Method::Vae(m) => &m.encoder,
            Method::Mae(m) => &m.encoder,
        }
    }

    /// For methods that reconstruct their input (autoencoders), the
    /// reconstruction of a normalised batch as pixels in `[0, 1]`; `None`
    /// for methods that do not.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h, w]`
    pub fn reconstruct_pixels(&self, x: Tensor<4>) -> Option<Tensor<4>> {
        match self {
            Method::Simclr(_)
            | Method::Nnclr(_)
            | Method::Moco(_)
            | Method::Byol(_)
            | Method::Simsiam(_)
            | Method::BarlowTwins(_)
            | Method::Vicreg(_)
            | Method::Scan(_)
            | Method::SelfLabel(_) => None,
            Method::Autoencoder(m) => Some(m.reconstruct_pixels(x)),
            Method::Vae(m) => Some(m.reconstruct_pixels(x)),
            Method::Mae(m) => Some(m.reconstruct_pixels(x)),
        }
    }

    /// Consumes the method, keeping only its encoder.
    pub fn into_encoder(self) -> Encoder {
        match self {
            Method::Simclr(m) => m.encoder,
            Method::Nnclr(m) => m.encoder,
            Method::Moco(m) => m.encoder,
            Method::Byol(m) => m.encoder,
            Method::Simsiam(m) => m.encoder,
            Method::BarlowTwins(m) => m.encoder,
            Method::Vicreg(m) => m.encoder,
            Method::Scan(m) => m.encoder,
            Method::SelfLabel(m) => m.encoder,
            Method::Autoencoder(m) => m.encoder,
            Method::Vae(m) => m.encoder,
            Method::Mae(m) => m.encoder,
        }
    }
}

/// Each replica runs the whole method on its rows: for losses that are a mean
/// over images, the rows-weighted mean of the replicas' losses is the batch's.
fn forward_each(replicas: StepReplicas<'_, Method>, views: &[Tensor<4>]) -> StepOutput {
    let home = views[0].device();
    let [b, ..] = views[0].dims();
    let parts = replicas.each_rows(b, |r, rows| {
        let shard: Vec<_> = views
            .iter()
            .map(|v| replica::rows_on(v, rows, r.device))
            .collect();
        r.model.forward(&shard)
    });
    let (mut loss, mut embeddings, mut keys) = (None, Vec::new(), Vec::new());
    for (out, rows) in parts {
        let part = replica::moved(out.loss, &home).mul_scalar(rows.1 as f64 / b as f64);
        loss = Some(match loss {
            None => part,
            Some(sum) => sum + part,
        });
        embeddings.push(out.embeddings);
        keys.extend(out.keys);
    }
    let parts = embeddings.len();
    StepOutput {
        loss: loss.expect("a batch has rows"),
        embeddings: replica::gather(embeddings, &home),
        keys: (keys.len() == parts).then(|| replica::gather(keys, &home)),
    }
}
