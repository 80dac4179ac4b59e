//! The image side of a run: loaders of augmented views, normalisation and
//! step counts, all derived from the experiment (so a resumed run rebuilds
//! them exactly).
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::{BatchLoader, ChannelStats, LoaderConfig, Modality, Partners, train_val_split};
use pretext_methods::{InputSpec, Method, StepOutput, StepProgress, StepReplicas};
use pretext_nn::InputShape;

use crate::fits::check_fits;
use crate::monitor::{KnnReading, MonitorPlan};
use crate::pretraining::{Counts, Pretraining};
use crate::{ExperimentConfig, Observer, TrainError};

/// Loaders and input spec of an image run.
pub(crate) struct ImageSetup {
    train_loader: BatchLoader,
    val_loader: Option<BatchLoader>,
    /// Shape and normalisation of the encoder's input.
    pub spec: InputSpec,
    counts: Counts,
    monitor: MonitorPlan,
}

impl ImageSetup {
    /// Reads the data and plans the loaders; what reading skipped or
    /// converted is reported to `observer`.
    pub fn new(config: &ExperimentConfig, observer: &mut dyn Observer) -> Result<Self, TrainError> {
        let t = &config.train;
        let loaded = config.data.load(&config.base_dir)?;
        if let Some(note) = loaded.reading_note() {
            observer.on_message(&note);
        }
        // Labels are kept for the monitor's slice alone; the loaders never see them.
        let labels = loaded.labels().map(<[u32]>::to_vec);
        let data = Arc::new(loaded.without_labels());
        let (channels, height, width) = data.shape();
        config
            .encoder
            .check_input(InputShape::new(channels, height, width))
            .map_err(|reason| TrainError::Config {
                path: data.source().to_path_buf(),
                reason,
            })?;
        check_fits(config, InputShape::new(channels, height, width))?;
        let (train_idx, val_idx) = train_val_split(data.len(), t.val_fraction, config.seed);
        if train_idx.len() < t.batch_size {
            return Err(TrainError::Config {
                path: data.source().to_path_buf(),
                reason: format!(
                    "train.batch_size ({}) is larger than the training split ({} images)",
                    t.batch_size,
                    train_idx.len()
                ),
            });
        }
        let stats = ChannelStats::of(&data);
        let views = Arc::new(
            config
                .augment
                .multi_view((height, width), config.method.views())
                .map_err(|reason| TrainError::Config {
                    path: config.base_dir.join("augment"),
                    reason,
                })?,
        );
        let loader = |indices: Vec<usize>, shuffle: bool, drop_last: bool| {
            BatchLoader::new(
                data.clone(),
                indices,
                views.clone(),
                stats.clone(),
                LoaderConfig {
                    batch_size: t.batch_size,
                    shuffle,
                    drop_last,
                    seed: config.seed,
                    prefetch: 2,
                },
            )
        };
        let monitor = MonitorPlan::new(
            &config.monitor,
            &data,
            labels.as_deref(),
            &val_idx,
            t.val_fraction,
            &stats,
            config.seed,
        )
        .map_err(|reason| TrainError::Config {
            path: data.source().to_path_buf(),
            reason,
        })?;
        let (train_samples, val_samples) = (train_idx.len(), val_idx.len());
        let mut train_loader = loader(train_idx, true, true);
        if let Some(path) = &config.partners {
            let partners = Partners::read(path)?;
            partners.check_len(data.len(), path)?;
            train_loader = train_loader.with_partners(Arc::new(partners));
        }
        // Validation views are drawn once (epoch 0's seed) so epochs compare alike;
        // a last batch of one image would break batch statistics, so keep it only if ≥ 2.
        let val_loader = (val_samples >= 2).then(|| loader(val_idx, false, false));
        let counts = Counts::new(
            train_samples,
            val_samples,
            train_loader.batches_per_epoch(),
            t.max_steps_per_epoch,
            t.epochs,
        );
        Ok(Self {
            train_loader,
            val_loader,
            spec: InputSpec::normalized(InputShape::new(channels, height, width), &stats),
            counts,
            monitor,
        })
    }
}

impl Pretraining for ImageSetup {
    const MODALITY: Modality = Modality::Image;
    type Model = Method;
    type Batch = pretext_data::Batch;

    fn counts(&self) -> Counts {
        self.counts
    }

    fn train_batches(&self, epoch: usize) -> Box<dyn Iterator<Item = Self::Batch> + '_> {
        Box::new(self.train_loader.epoch(epoch))
    }

    fn val_batches(&self) -> Option<Box<dyn Iterator<Item = Self::Batch> + '_>> {
        self.val_loader
            .as_ref()
            .map(|l| Box::new(l.epoch(0)) as Box<dyn Iterator<Item = Self::Batch>>)
    }

    fn batch_len(batch: &Self::Batch) -> usize {
        batch.len()
    }

    fn forward(model: &Method, batch: Self::Batch, device: &Device) -> StepOutput {
        model.forward(&batch.into_view_tensors(device))
    }

    fn forward_replicated(replicas: StepReplicas<'_, Method>, batch: Self::Batch) -> StepOutput {
        let views = batch.into_view_tensors(replicas.first.device);
        Method::forward_replicated(replicas, &views)
    }

    fn after_step(model: Method, keys: Option<Tensor<2>>, progress: StepProgress) -> Method {
        model.after_step(keys, progress)
    }

    fn input(&self) -> Option<InputSpec> {
        Some(self.spec.clone())
    }

    fn monitor_note(&self) -> Option<String> {
        match &self.monitor {
            MonitorPlan::On(m) => Some(format!(
                "monitor: kNN on {} labelled validation images, every {} epoch(s)",
                m.len(),
                m.every()
            )),
            MonitorPlan::Off(why) => why.clone(),
        }
    }

    fn score_monitor(
        &self,
        model: &Method,
        epoch: usize,
        last: usize,
        device: &Device,
    ) -> Option<Vec<KnnReading>> {
        match &self.monitor {
            MonitorPlan::On(m) if m.due(epoch, last) => Some(m.score(model.encoder(), device)),
            _ => None,
        }
    }
}
