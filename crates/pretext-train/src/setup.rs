//! The image side of a run: loaders of augmented views, normalisation and
//! step counts, all derived from the experiment (so a resumed run rebuilds
//! them exactly).
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::{BatchLoader, ChannelStats, LoaderConfig, Modality, Partners};
use pretext_methods::{InputSpec, Method, StepOutput, StepProgress, StepReplicas};
use pretext_nn::InputShape;

use crate::fits::check_fits;
use crate::monitor::MonitorPlan;
use crate::pretraining::{Counts, Pretraining, loaders, split_for_training};
use crate::{ExperimentConfig, Observer, TrainError};
use pretext_runs::KnnReading;

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
        let (train_idx, val_idx) =
            split_for_training(data.len(), t, config.seed, data.source(), "images")?;
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
        let loader = |indices: Vec<usize>, settings: LoaderConfig| {
            BatchLoader::new(
                data.clone(),
                indices,
                views.clone(),
                stats.clone(),
                settings,
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
        let (mut train_loader, val_loader, counts) =
            loaders((train_idx, val_idx), t, config.seed, loader);
        if let Some(path) = &config.partners {
            let partners = Partners::read(path)?;
            partners.check_len(data.len(), path)?;
            train_loader = train_loader.with_partners(Arc::new(partners));
        }
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

    /// Epoch 0's views every time, so that epochs compare alike.
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
