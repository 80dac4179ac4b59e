//! `evaluate`: the run's frozen encoder and every baseline, each head, every
//! label budget and seed, on the task's data; results into `<run>/eval/`.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::transform::derive_seed;
use pretext_data::{ChannelStats, ImageDataset, LabelSplit, Modality};
use pretext_methods::{InputSpec, Method};
use pretext_nn::{Encoder, InputShape, random_streams};
use pretext_train::{Checkpoint, ExperimentConfig, Needs, RunDir};

use crate::EvalError;
use crate::embed::{cached, embed_images, pixel_features};
use crate::features::Features;
use crate::finetune::{LabelledImages, finetune};
use crate::heads::{FinetuneJobs, FrozenHeads, Recorder, draw_all, union};
use crate::results::{EvalResults, Source};
use crate::task::{Baseline, Head, TaskConfig};

/// Streams of the seeds derived from a task's seed.
pub(crate) const RANDOM_INIT_STREAM: u64 = 0x5241_4E44;
pub(crate) const HEAD_STREAM: u64 = 0x4845_4144;

/// A run ready to be evaluated: its resolved experiment, the checkpoint and
/// the input its encoder expects.
pub struct EvaluatedRun {
    /// The run directory.
    pub dir: RunDir,
    /// The run's resolved experiment.
    pub config: ExperimentConfig,
    /// The checkpoint directory.
    pub checkpoint: PathBuf,
    /// Completed epochs of the checkpoint.
    pub epoch: usize,
    /// Shape and normalisation of the encoder's input.
    pub input: InputSpec,
    /// Why the latest checkpoint was passed over for the previous one, if it was.
    pub warning: Option<String>,
}

impl EvaluatedRun {
    /// Opens the run at `path`; it must have a checkpoint.
    pub fn open(path: &Path) -> Result<Self, EvalError> {
        let dir = RunDir::open(path)?;
        let latest = dir.checkpoint_dir();
        if !latest.join("model.bpk").is_file() && !latest.with_extension("prev").is_dir() {
            return Err(EvalError::Run {
                path: path.to_path_buf(),
                reason: "the run has no checkpoint yet (it writes one after each epoch)".into(),
            });
        }
        let config = ExperimentConfig::load(&dir.config_path(), &[])?;
        let good = Checkpoint::find_good(&latest, Needs::Model)?;
        let (checkpoint, state, warning) = (good.dir, good.state, good.warning);
        let input = match state.input {
            Some(spec) => spec,
            None => {
                // Runs older than `state.input`: recompute from the pretraining data.
                let data = config.data.load(&config.base_dir)?;
                let (c, h, w) = data.shape();
                InputSpec::normalized(InputShape::new(c, h, w), &ChannelStats::of(&data))
            }
        };
        Ok(Self {
            dir,
            config,
            checkpoint,
            epoch: state.epoch,
            input,
            warning,
        })
    }

    /// The evaluation directory, `<run>/eval`.
    pub fn eval_dir(&self) -> PathBuf {
        self.dir.path().join("eval")
    }

    /// The channel statistics inputs are normalised with.
    pub fn stats(&self) -> ChannelStats {
        ChannelStats {
            mean: self.input.mean.clone(),
            std: self.input.std.clone(),
        }
    }

    /// The pretrained encoder, loaded on `device`.
    pub fn encoder(&self, device: &Device) -> Result<Encoder, EvalError> {
        Ok(self.method(device)?.into_encoder())
    }

    /// The whole pretrained method (encoder, and projector or decoder),
    /// loaded on `device`.
    pub fn method(&self, device: &Device) -> Result<Method, EvalError> {
        // Some methods draw as they are built (MoCo's queue), before loading.
        let _streams = random_streams::hold([device]);
        let method: Method = self
            .config
            .method
            .init(&self.config.encoder, &self.input, device);
        Ok(Checkpoint::load_method(&self.checkpoint, method)?)
    }

    /// A randomly initialised encoder of the same architecture.
    pub fn random_encoder(&self, seed: u64, device: &Device) -> Encoder {
        let _streams = random_streams::hold_seeded(device, seed);
        self.config.encoder.init(self.input.shape, device)
    }
}

/// The task's labelled pool and test set, checked against the encoder.
struct TaskData {
    pool: Arc<ImageDataset>,
    test: Arc<ImageDataset>,
    classes: usize,
}

fn load_task_data(task: &TaskConfig, run: &EvaluatedRun) -> Result<TaskData, EvalError> {
    let pool = task.train.load(&task.base_dir)?;
    let test = task.test.load(&task.base_dir)?;
    let shape = run.input.shape;
    let want = (shape.channels, shape.height, shape.width);
    for data in [&pool, &test] {
        if data.labels().is_none() {
            return Err(EvalError::Mismatch {
                path: data.source().to_path_buf(),
                reason: "has no labels; a task's train and test data must be labelled".into(),
            });
        }
        if data.shape() != want {
            let (c, h, w) = data.shape();
            return Err(EvalError::Mismatch {
                path: data.source().to_path_buf(),
                reason: format!(
                    "images are {c}x{h}x{w} but the encoder of run {} takes {}x{}x{}",
                    run.dir.name(),
                    want.0,
                    want.1,
                    want.2
                ),
            });
        }
    }
    let classes = pool.num_classes().unwrap_or(0);
    let test_classes = test.num_classes().unwrap_or(0);
    if test_classes > classes {
        return Err(EvalError::Mismatch {
            path: test.source().to_path_buf(),
            reason: format!(
                "has class {} but the labelled pool {} has only {classes} classes",
                test_classes - 1,
                pool.source().display()
            ),
        });
    }
    Ok(TaskData {
        pool: Arc::new(pool),
        test: Arc::new(test),
        classes,
    })
}

/// Every draw of the task, written to `<eval>/splits/` for anyone to reuse.
fn draw_task_splits(
    task: &TaskConfig,
    data: &TaskData,
    dir: &Path,
) -> Result<Vec<LabelSplit>, EvalError> {
    let extra = if task.runs(Head::Finetune) || task.compares_with(Baseline::Supervised) {
        task.finetune_budgets()
    } else {
        Vec::new()
    };
    draw_all(
        data.pool.labels().expect("checked labelled"),
        data.classes,
        &union(&task.budgets, &extra),
        &task.seed_list(),
        data.pool.source(),
        dir,
    )
}

/// FNV-1a, for cache file names.
pub(crate) fn fnv64(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs the task on the run at `run_path`, writing `eval/results.json`,
/// `eval/results.md` and the label splits. `log` receives one line per step.
/// It holds `device`'s random streams throughout ([`random_streams`]), so
/// its draws follow from the task's seeds whatever else the process runs.
pub fn evaluate(
    run_path: &Path,
    task: &TaskConfig,
    device: &Device,
    log: &mut dyn FnMut(&str),
) -> Result<EvalResults, EvalError> {
    let _streams = random_streams::hold([device]);
    let run = EvaluatedRun::open(run_path)?;
    if let Some(warning) = &run.warning {
        log(&format!("warning: {warning}"));
    }
    let data = load_task_data(task, &run)?;
    // Loaded before anything is written: a checkpoint that does not fit its
    // experiment fails here, leaving no label splits behind.
    let encoder = run.encoder(device)?;
    let eval_dir = run.eval_dir();
    let splits = draw_task_splits(task, &data, &eval_dir)?;
    let stats = run.stats();
    let pool_labels = data.pool.labels().expect("checked labelled").to_vec();
    let test_labels = data.test.labels().expect("checked labelled").to_vec();
    log(&format!(
        "task {}: {} labelled / {} test images, {} classes; {} budgets x {} seeds",
        task.name,
        data.pool.len(),
        data.test.len(),
        data.classes,
        task.budgets.len(),
        task.seeds
    ));

    // Frozen features of each source, for the pool and the test set.
    let model_stamp = std::fs::metadata(run.checkpoint.join("model.bpk"))
        .and_then(|m| m.modified())
        .map(|t| format!("{t:?}"))
        .unwrap_or_default();
    let frozen_heads = task.runs(Head::Linear) || task.runs(Head::Knn) || task.runs(Head::Mlp);
    let mut sources: Vec<(Source, Features, Features)> = Vec::new();
    if frozen_heads {
        let t = Instant::now();
        let key = |which: &str, d: &ImageDataset| {
            format!(
                "{which}|epoch {}|{model_stamp}|{}|{}",
                run.epoch,
                d.source().display(),
                d.len()
            )
        };
        let embed = |name: &str, which: &str, encoder: &Encoder, d: &Arc<ImageDataset>| {
            let k = key(which, d);
            let path = eval_dir.join(format!("cache/{name}-{:016x}.bin", fnv64(&k)));
            cached(&path, &k, || embed_images(encoder, d, &stats, device))
        };
        sources.push((
            Source::Pretrained,
            embed("pretrained", "pretrained", &encoder, &data.pool)?,
            embed("pretrained", "pretrained", &encoder, &data.test)?,
        ));
        log(&format!(
            "embedded {} + {} images with the pretrained encoder ({:.1} s)",
            data.pool.len(),
            data.test.len(),
            t.elapsed().as_secs_f64()
        ));
        if task.compares_with(Baseline::RandomInit) {
            let seed = derive_seed(task.seed, RANDOM_INIT_STREAM);
            let random = run.random_encoder(seed, device);
            let which = format!("random seed {seed}");
            sources.push((
                Source::RandomInit,
                embed("random", &which, &random, &data.pool)?,
                embed("random", &which, &random, &data.test)?,
            ));
        }
        if task.compares_with(Baseline::RawPixels) {
            sources.push((
                Source::RawPixels,
                pixel_features(&data.pool, &stats),
                pixel_features(&data.test, &stats),
            ));
        }
    }

    let mut record = Recorder::new(&test_labels, data.classes, log);
    let frozen = FrozenHeads {
        heads: &task.heads,
        linear: &task.linear,
        knn: &task.knn,
        mlp: &task.mlp,
    };
    for split in splits.iter().filter(|s| task.budgets.contains(&s.budget)) {
        let head_seed = derive_seed(split.seed, HEAD_STREAM);
        for (source, pool, test) in &sources {
            frozen.run(
                *source,
                pool,
                test,
                split,
                &pool_labels,
                data.classes,
                head_seed,
                device,
                &mut record,
            );
        }
    }

    let finetune_budgets = task.finetune_budgets();
    let augment = task
        .finetune
        .augment
        .clone()
        .unwrap_or_else(|| run.config.augment.clone());
    let train_device = device.clone().autodiff();
    FinetuneJobs {
        budgets: &finetune_budgets,
        pretrained: task.runs(Head::Finetune),
        supervised: task.compares_with(Baseline::Supervised),
        task_path: &task.path,
    }
    .run(
        &splits,
        &mut record,
        |source, seed| match source {
            Source::Pretrained => run.encoder(&train_device),
            _ => Ok(run.random_encoder(seed, &train_device)),
        },
        |encoder, pretrained, split, head_seed| {
            let labelled = LabelledImages {
                pool: &data.pool,
                train: &split.train,
                val: &split.val,
                test: &data.test,
                stats: &stats,
                classes: data.classes,
            };
            finetune(
                encoder,
                pretrained,
                &labelled,
                &augment,
                &task.finetune,
                head_seed,
                device,
            )
        },
    )?;

    let budgets = union(&task.budgets, &finetune_budgets);
    let rows = record.rows;
    let mut results = EvalResults {
        run: run.dir.name(),
        task: task.name.clone(),
        task_file: task.path.display().to_string(),
        checkpoint_epoch: run.epoch,
        classes: data.classes,
        class_names: Vec::new(),
        modality: Modality::Image,
        pool_size: data.pool.len(),
        test_size: data.test.len(),
        budgets,
        rows,
        summary: Vec::new(),
    };
    results.summarise();
    results.save_merged(&eval_dir, log)?;
    Ok(results)
}
