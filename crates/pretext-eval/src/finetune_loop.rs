//! The fine-tuning loop images and text share: an encoder and a linear head,
//! each under its own AdamW and learning rate, trained for a fixed number of
//! steps per epoch, with early stopping on validation accuracy and the best
//! epoch's weights kept. What a batch is and how predictions are made stays
//! with each modality ([`Labelled`]: `finetune.rs`, `text/finetune.rs`).
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use pretext_data::LoaderConfig;
use pretext_nn::text::TextEncoder;
use pretext_nn::{ClassifierHead, ClassifierHeadConfig, Encoder, random_streams};
use pretext_train::{EarlyStopping, OptimizerConfig, OptimizerKind, Verdict};

use crate::finetune::FinetuneConfig;
use crate::outcome::{HeadOutcome, labels_tensor};
use crate::side::Side;
use pretext_runs::EpochPoint;

/// An encoder fine-tuning can train: a module with an embedding size.
pub trait Tunable: Module {
    /// Numbers per embedding.
    fn out_dim(&self) -> usize;
}

impl Tunable for Encoder {
    fn out_dim(&self) -> usize {
        Encoder::out_dim(self)
    }
}

impl Tunable for TextEncoder {
    fn out_dim(&self) -> usize {
        TextEncoder::out_dim(self)
    }
}

/// The encoder a fine-tuning on `D` trains: its kind of data's.
pub type TunedOf<D> = <<D as Labelled>::Side as Side>::Encoder;

/// Which labelled samples a fine-tuned model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The validation labels of the draw.
    Val,
    /// The test set.
    Test,
}

/// The labelled data one fine-tuning sees, images
/// ([`LabelledImages`](crate::finetune::LabelledImages)) or text
/// ([`LabelledTexts`](crate::text::finetune::LabelledTexts)): what
/// [`finetune`] is written against.
pub trait Labelled {
    /// The kind of data, whose `[finetune]` settings apply and whose
    /// encoder is trained.
    type Side: Side;
    /// What serves the training batches.
    type Loader;
    /// One training batch, as the loader assembles it.
    type Batch;

    /// Number of classes.
    fn classes(&self) -> usize;
    /// Pool indices of the training labels.
    fn train(&self) -> &[usize];
    /// True classes of the validation labels, in order.
    fn val_labels(&self) -> Vec<u32>;
    /// The loader of the training labels, batched by `settings`.
    fn loader(&self, settings: LoaderConfig) -> Result<Self::Loader, String>;
    /// The training batches of `epoch`.
    fn epoch(loader: &Self::Loader, epoch: usize) -> impl Iterator<Item = Self::Batch> + '_;
    /// The logits of `batch` (its tensors moved to `device`, the autodiff
    /// device) and its labels.
    fn step(
        encoder: &TunedOf<Self>,
        head: &ClassifierHead,
        batch: Self::Batch,
        device: &Device,
    ) -> (Tensor<2>, Vec<u32>);
    /// Predicted classes of the validation labels or of the test set, in
    /// order, without augmentation.
    fn predict(
        &self,
        encoder: &TunedOf<Self>,
        head: &ClassifierHead,
        part: Part,
        device: &Device,
    ) -> Vec<u32>;
}

/// Fine-tunes `encoder` (which must live on `device`'s autodiff twin) under
/// a new linear head on `data`'s training labels, with `seed`'s random
/// streams and batches. `pretrained` picks the learning rates: the encoder
/// at `encoder_lr` when pretrained, at `lr` when trained from scratch (the
/// supervised baseline). Early stopping on the validation labels; the test
/// set is scored with the best epoch's weights.
pub fn finetune<D: Labelled>(
    encoder: TunedOf<D>,
    pretrained: bool,
    data: &D,
    settings: &FinetuneConfig<D::Side>,
    seed: u64,
    device: &Device,
) -> Result<HeadOutcome, String> {
    let loader = data.loader(settings.loader(data.train().len(), seed))?;
    let train_device = &device.clone().autodiff();
    let _streams = random_streams::hold_seeded(train_device, seed);
    let mut encoder = encoder;
    let mut head =
        ClassifierHeadConfig::linear().init(encoder.out_dim(), data.classes(), train_device);
    let mut batches = (0..).flat_map(|e| D::epoch(&loader, e));
    let validation = data.val_labels();
    let predict = |encoder: &TunedOf<D>, head: &ClassifierHead, part| {
        data.predict(encoder, head, part, device)
    };
    let adamw = |lr| {
        OptimizerConfig {
            kind: OptimizerKind::Adamw,
            lr,
            weight_decay: settings.weight_decay,
            ..OptimizerConfig::default()
        }
        .init(None)
    };
    let encoder_lr = if pretrained {
        settings.encoder_lr
    } else {
        settings.lr
    };
    let (mut opt_encoder, mut opt_head) = (adamw(encoder_lr), adamw(settings.lr));
    let loss_fn = CrossEntropyLossConfig::new().init(train_device);
    let mut stopper = EarlyStopping::new(settings.patience);
    let mut best = (encoder.valid(), head.valid());
    let mut curve = Vec::new();
    for epoch in 1..=settings.max_epochs {
        let mut loss_sum = 0f64;
        for _ in 0..settings.steps_per_epoch {
            let batch = batches.next().expect("an endless stream of batches");
            let (logits, labels) = D::step(&encoder, &head, batch, train_device);
            let loss = loss_fn.forward(logits, labels_tensor(&labels, train_device));
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(format!(
                    "the fine-tuning loss became {value} at epoch {epoch}; try a lower finetune.lr"
                ));
            }
            loss_sum += value as f64;
            let mut grads = loss.backward();
            let g_encoder = GradientsParams::from_module(&mut grads, &encoder);
            let g_head = GradientsParams::from_module(&mut grads, &head);
            encoder = opt_encoder.step(encoder_lr, encoder, g_encoder);
            head = opt_head.step(settings.lr, head, g_head);
        }
        let current = (encoder.valid(), head.valid());
        let val_accuracy =
            crate::features::accuracy(&predict(&current.0, &current.1, Part::Val), &validation);
        curve.push(EpochPoint {
            epoch,
            train_loss: (loss_sum / settings.steps_per_epoch as f64) as f32,
            val_accuracy,
        });
        match stopper.update(epoch, val_accuracy) {
            Verdict::Improved => best = current,
            Verdict::Continue => {}
            Verdict::Stop => break,
        }
    }
    Ok(HeadOutcome {
        test_predictions: predict(&best.0, &best.1, Part::Test),
        val_accuracy: Some(stopper.best_score()),
        best_epoch: Some(stopper.best_epoch()),
        epochs: Some(curve.len()),
        curve,
        detail: Some(format!("encoder_lr={encoder_lr}")),
    })
}
