//! `evaluate`: the run's frozen encoder and every baseline, each head, every
//! label budget and seed, on the task's data; results into `<run>/eval/`.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::transform::derive_seed;
use pretext_data::{AugmentConfig, ChannelStats, ImageDataset, LabelSplit};
use pretext_methods::Method;
use pretext_nn::{Encoder, Readout, random_streams};
use pretext_train::Checkpoint;

use pretext_runs::{EvalResults, Source};

use crate::EvalError;
use crate::embed::{cached, embed_images, is_cached, pixel_features};
use crate::estimate::{self, CostEstimate, PartCost, draw_sizes};
use crate::evaluation::{
    Drawn, Evaluation, RANDOM_INIT_STREAM, absent_classes, absent_line, fnv64, run_task,
    trained_budgets,
};
use crate::features::Features;
use crate::finetune::LabelledImages;
use crate::heads::count;
use crate::kmeans::KmeansFeatures;
use crate::run::EvaluatedRun;
use crate::side::Images;
use crate::task::{Baseline, Head, TaskConfig, TaskImages};

/// The stream of the k-means baseline's seed, derived from a task's seed.
pub(crate) const KMEANS_STREAM: u64 = 0x4B4D_4541;

impl EvaluatedRun {
    /// Where embeddings are cached, shared by every task: `<run>/eval/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("eval").join("cache")
    }

    /// The channel statistics inputs are normalised with.
    pub fn stats(&self) -> ChannelStats {
        ChannelStats {
            mean: self.input().mean.clone(),
            std: self.input().std.clone(),
        }
    }

    /// The whole pretrained method (encoder, and projector or decoder),
    /// loaded on `device`.
    pub fn method(&self, device: &Device) -> Result<Method, EvalError> {
        // Some methods draw as they are built (MoCo's queue), before loading.
        let _streams = random_streams::hold([device]);
        let method: Method = self
            .config
            .method
            .init(&self.config.encoder, self.input(), device);
        Ok(Checkpoint::load_method(&self.trained.dir, method)?)
    }
}

/// The task's labelled pool and test set, checked against the encoder.
struct TaskData {
    pool: Arc<ImageDataset>,
    test: Arc<ImageDataset>,
    /// The pool's classes that have no test image: learned, never scored.
    absent: Vec<String>,
    /// How the test set was held out of the pool, if it was.
    held_out: Option<String>,
}

/// The task's data and the pool's classes, named (by their label values
/// where the data names none).
fn load_task_data(
    task: &TaskConfig,
    run: &EvaluatedRun,
) -> Result<(TaskData, Vec<String>), EvalError> {
    let TaskImages {
        pool,
        test,
        held_out,
    } = task.load_images()?;
    let shape = run.input().shape;
    let want = (shape.channels, shape.height, shape.width);
    for data in [&pool, &test] {
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
    // The test labels are in the pool's classes, matched by name
    // (`load_images`): a test set without one of them keeps its meaning.
    let class_names = pool.named_classes();
    let absent = absent_classes(&class_names, test.labels().expect("checked labelled"));
    let data = TaskData {
        pool: Arc::new(pool),
        test: Arc::new(test),
        absent,
        held_out,
    };
    Ok((data, class_names))
}

/// The seed of the randomly initialised encoder a task compares with.
fn random_init_seed(task: &TaskConfig) -> u64 {
    derive_seed(task.seed, RANDOM_INIT_STREAM)
}

/// Everything an evaluation reads before it writes anything: the run, the
/// task's data, the pretrained encoder and the label draws.
struct Prepared {
    drawn: Drawn<Images>,
    data: TaskData,
    encoder: Encoder,
    /// The normalisation the encoder was trained with.
    stats: ChannelStats,
    /// The augmentation of the labelled images when fine-tuning: the
    /// task's `[finetune.augment]`, else the run's.
    augment: AugmentConfig,
    /// The checkpoint's modification time, part of every cache key.
    model_stamp: String,
}

impl Prepared {
    /// Reads and checks everything; says what it found in `log`.
    fn new(
        run_path: &Path,
        task: &TaskConfig,
        device: &Device,
        log: &mut dyn FnMut(&str),
    ) -> Result<Self, EvalError> {
        let run = EvaluatedRun::open(run_path)?;
        for warning in run.trained.warnings() {
            log(&warning);
        }
        let (data, classes) = load_task_data(task, &run)?;
        if task.compares_with(Baseline::Kmeans) {
            let (_, h, w) = data.pool.shape();
            task.kmeans
                .check_images(h, w)
                .map_err(|reason| EvalError::Task {
                    path: task.path.clone(),
                    reason,
                })?;
        }
        // Loaded before anything is written: a checkpoint that does not fit
        // its experiment fails here, leaving no label splits behind.
        let encoder = run.encoder(device)?;
        encoder
            .readout_dim(task.readout)
            .map_err(|why| EvalError::Task {
                path: task.path.clone(),
                reason: format!("[readout] ({}): {why}", task.readout.describe()),
            })?;
        let labels = |d: &ImageDataset| d.labels().expect("checked labelled").to_vec();
        let drawn = Drawn::new(
            run,
            task,
            (classes, data.pool.class_names().to_vec()),
            (labels(&data.pool), labels(&data.test)),
            data.pool.source(),
        )?;
        log(&format!(
            "task {}: {} labelled / {} test images, {} classes; {} x {}",
            task.name,
            data.pool.len(),
            data.test.len(),
            drawn.classes.len(),
            count(task.budgets.len(), "budget"),
            count(task.seeds, "seed")
        ));
        if let Some(how) = &data.held_out {
            log(&format!(
                "the test set is the pool's images {how} (no [test] in the task)"
            ));
        }
        // A held-out test set shares its folder (and its count) with the pool.
        let read = if data.held_out.is_some() { 1 } else { 2 };
        for d in [&data.pool, &data.test].into_iter().take(read) {
            if let Some(note) = d.reading_note() {
                log(&note);
            }
        }
        if !data.absent.is_empty() {
            log(&absent_line(&data.absent, "images"));
        }
        let model_stamp = drawn.run.trained.model_stamp();
        let stats = drawn.run.stats();
        let augment = task
            .finetune
            .augment
            .clone()
            .unwrap_or_else(|| drawn.run.config.augment.clone());
        Ok(Self {
            drawn,
            data,
            encoder,
            stats,
            augment,
            model_stamp,
        })
    }

    /// The cache file and key of `which` encoder's embedding of `d` (the
    /// pool or the test set). A held-out test set shares its source with
    /// the pool: the key tells the two parts (and their draw) apart.
    fn cache_entry(
        &self,
        name: &str,
        which: &str,
        d: &Arc<ImageDataset>,
        readout: Readout,
    ) -> (PathBuf, String) {
        let part = match &self.data.held_out {
            None => String::new(),
            Some(how) if Arc::ptr_eq(&self.data.test, d) => format!("|test, {how}"),
            Some(how) => format!("|pool, {how}"),
        };
        // Keys of the plain embedding are those of older caches.
        let part = if readout.is_embedding() {
            part
        } else {
            format!("{part}|{}", readout.describe())
        };
        let key = format!(
            "{which}|epoch {}|{}|{}|{}{part}",
            self.drawn.run.trained.state.epoch,
            self.model_stamp,
            d.source().display(),
            d.len()
        );
        let path = self
            .drawn
            .run
            .cache_dir()
            .join(format!("{name}-{:016x}.bin", fnv64(&key)));
        (path, key)
    }

    /// The frozen sources the task compares: `(source, cache name, which
    /// encoder)`, the encoders' first; raw pixels have no encoder.
    fn frozen_sources(&self, task: &TaskConfig) -> Vec<(Source, &'static str, String)> {
        if !task.runs_frozen_heads() {
            return Vec::new();
        }
        let mut sources = vec![(Source::Pretrained, "pretrained", "pretrained".to_string())];
        if task.compares_with(Baseline::RandomInit) {
            let seed = random_init_seed(task);
            sources.push((Source::RandomInit, "random", format!("random seed {seed}")));
        }
        if task.compares_with(Baseline::RawPixels) {
            sources.push((Source::RawPixels, "", String::new()));
        }
        if task.compares_with(Baseline::Kmeans) {
            sources.push((Source::Kmeans, "", String::new()));
        }
        sources
    }

    /// What the task will cost on this machine, part by part.
    fn estimate(&self, task: &TaskConfig, device: &Device) -> CostEstimate {
        let t = Instant::now();
        let data = &self.data;
        let (test, classes) = (data.test.len(), self.drawn.classes.len());
        let stats = &self.stats;
        let mut parts = Vec::new();
        let frozen = draw_sizes(&self.drawn.splits, &task.budgets);
        let mut forward = None;
        let mut forward_rate = |run: &Self| {
            *forward.get_or_insert_with(|| {
                estimate::forward_rate(&run.encoder, &run.data.pool, stats, device)
            })
        };
        let (c, h, w) = data.pool.shape();
        // Speeds depend on the feature size, not on the source: measured once per size.
        let (mut linear_rates, mut knn_rates, mut mlp_rates) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for (source, name, which) in self.frozen_sources(task) {
            let dim = match source {
                Source::RawPixels => c * h * w,
                Source::Kmeans => task.kmeans.dim(),
                _ => self
                    .encoder
                    .readout_dim(task.readout)
                    .unwrap_or(self.encoder.out_dim()),
            };
            let label = Source::name(source);
            if source == Source::Kmeans {
                let k = &task.kmeans;
                let seconds = estimate::kmeans_seconds(&data.pool, test, k, device);
                parts.push(PartCost {
                    part: format!("k-means features ({} centroids)", k.centroids),
                    jobs: 1,
                    typical: seconds,
                    longest: seconds,
                });
            }
            if !matches!(source, Source::RawPixels | Source::Kmeans) {
                let uncached: usize = [&data.pool, &data.test]
                    .into_iter()
                    .filter(|d| {
                        let (path, key) = self.cache_entry(name, &which, d, task.readout);
                        !is_cached(&path, &key)
                    })
                    .map(|d| d.len())
                    .sum();
                if uncached > 0 {
                    let seconds = uncached as f64 * forward_rate(self);
                    parts.push(PartCost {
                        part: format!("embed {uncached} images ({label})"),
                        jobs: 1,
                        typical: seconds,
                        longest: seconds,
                    });
                }
            }
            if task.runs(Head::Linear) {
                let rate = *linear_rates
                    .entry(dim)
                    .or_insert_with(|| estimate::linear_rate(dim, classes, &task.linear));
                let (typical, most) = estimate::grid_iterations(&task.linear);
                let cost = |iterations: f64| -> f64 {
                    frozen
                        .iter()
                        .map(|&(t, v)| iterations * rate.at(t + v))
                        .sum()
                };
                parts.push(PartCost {
                    part: format!("linear probe, {dim} features ({label})"),
                    jobs: frozen.len(),
                    typical: cost(typical),
                    longest: cost(most),
                });
            }
            if task.runs(Head::Knn) {
                let rate = *knn_rates
                    .entry(dim)
                    .or_insert_with(|| estimate::knn_rate(dim, classes, &task.knn));
                let pairs: f64 = frozen.iter().map(|&(t, _)| (t * test) as f64).sum();
                parts.push(PartCost {
                    part: format!("kNN, {dim} features ({label})"),
                    jobs: frozen.len(),
                    typical: rate * pairs,
                    longest: rate * pairs,
                });
            }
            if task.runs(Head::Mlp) {
                let rate = *mlp_rates
                    .entry(dim)
                    .or_insert_with(|| estimate::mlp_rate(dim, classes, &task.mlp, device));
                let (typical, most) =
                    estimate::epochs(task.mlp.max_epochs, task.mlp.patience, true);
                let cost = |epochs: f64| -> f64 {
                    frozen
                        .iter()
                        .map(|&(t, v)| rate.fit(epochs, t, v, test))
                        .sum()
                };
                parts.push(PartCost {
                    part: format!("MLP head, {dim} features ({label})"),
                    jobs: frozen.len(),
                    typical: cost(typical),
                    longest: cost(most),
                });
            }
        }
        let tuned = draw_sizes(&self.drawn.splits, &trained_budgets(task));
        let jobs = [
            (
                task.runs(Head::Finetune),
                "fine-tune the pretrained encoder",
            ),
            (
                task.compares_with(Baseline::Supervised),
                "supervised from scratch",
            ),
        ];
        if !tuned.is_empty() && jobs.iter().any(|(on, _)| *on) {
            let step = estimate::finetune_step_rate(
                self.drawn.run.random_encoder(0, &device.clone().autodiff()),
                &data.pool,
                stats,
                classes,
                &self.augment,
                &task.finetune,
                device,
            );
            let fwd = forward_rate(self);
            let f = &task.finetune;
            let (typical, most) = estimate::epochs(f.max_epochs, f.patience, true);
            for (on, what) in jobs {
                let Some(step) = step.filter(|_| on) else {
                    continue;
                };
                let cost = |epochs: f64| -> f64 {
                    tuned
                        .iter()
                        .map(|&(_, v)| {
                            epochs * (f.steps_per_epoch as f64 * step + v as f64 * fwd)
                                + test as f64 * fwd
                        })
                        .sum()
                };
                parts.push(PartCost {
                    part: what.to_string(),
                    jobs: tuned.len(),
                    typical: cost(typical),
                    longest: cost(most),
                });
            }
        }
        CostEstimate {
            parts,
            calibration_seconds: t.elapsed().as_secs_f64(),
        }
    }
}

/// Reads the run and the task's data, checks them and every label draw, and
/// measures what the evaluation would cost, writing nothing: what
/// `pretext evaluate --dry-run` prints.
pub fn plan_evaluation(
    run_path: &Path,
    task: &TaskConfig,
    device: &Device,
    log: &mut dyn FnMut(&str),
) -> Result<CostEstimate, EvalError> {
    let _streams = random_streams::hold([device]);
    let prepared = Prepared::new(run_path, task, device, log)?;
    Ok(prepared.estimate(task, device))
}

/// Runs the task on the run at `run_path`, writing `eval/<task>/results.json`,
/// `results.md` and the label splits; a rerun of the task merges into its
/// own results (see [`EvalResults::save_merged`]) and leaves other tasks'
/// alone. `log` receives the cost estimate ([`plan_evaluation`]), then one
/// line per step. It holds `device`'s random streams throughout
/// ([`random_streams`]), so its draws follow from the task's seeds whatever
/// else the process runs.
pub fn evaluate(
    run_path: &Path,
    task: &TaskConfig,
    device: &Device,
    log: &mut dyn FnMut(&str),
) -> Result<EvalResults, EvalError> {
    let _streams = random_streams::hold([device]);
    let prepared = Prepared::new(run_path, task, device, log)?;
    for line in prepared.estimate(task, device).lines() {
        log(&line);
    }
    run_task(&prepared, task, device, log)
}

impl Evaluation for Prepared {
    type Side = Images;
    type Labelled<'a> = LabelledImages<'a>;

    fn drawn(&self) -> &Drawn<Images> {
        &self.drawn
    }

    fn frozen_features(
        &self,
        task: &TaskConfig,
        device: &Device,
        log: &mut dyn FnMut(&str),
    ) -> Result<Vec<(Source, Features, Features)>, EvalError> {
        let (run, data, stats) = (&self.drawn.run, &self.data, &self.stats);
        let mut sources: Vec<(Source, Features, Features)> = Vec::new();
        for (source, name, which) in self.frozen_sources(task) {
            let t = Instant::now();
            let embed = |encoder: &Encoder, d: &Arc<ImageDataset>| {
                let (path, key) = self.cache_entry(name, &which, d, task.readout);
                cached(&path, &key, || {
                    embed_images(encoder, d, stats, task.readout, device)
                })
            };
            match source {
                Source::RawPixels => sources.push((
                    Source::RawPixels,
                    pixel_features(&data.pool, stats),
                    pixel_features(&data.test, stats),
                )),
                Source::Kmeans => {
                    let seed = derive_seed(task.seed, KMEANS_STREAM);
                    let fitted = KmeansFeatures::fit(&data.pool, &task.kmeans, seed, device)
                        .map_err(|reason| EvalError::Task {
                            path: task.path.clone(),
                            reason,
                        })?;
                    sources.push((
                        source,
                        fitted.transform(&data.pool, device),
                        fitted.transform(&data.test, device),
                    ));
                    log(&format!(
                        "k-means features: {} centroids fitted on {} patches of the pool, {} \
                         features for {} + {} images ({:.1} s)",
                        task.kmeans.centroids,
                        task.kmeans.patches,
                        fitted.dim(),
                        data.pool.len(),
                        data.test.len(),
                        t.elapsed().as_secs_f64()
                    ));
                }
                Source::Pretrained => {
                    sources.push((
                        source,
                        embed(&self.encoder, &data.pool)?,
                        embed(&self.encoder, &data.test)?,
                    ));
                    log(&format!(
                        "embedded {} + {} images with the pretrained encoder ({:.1} s)",
                        data.pool.len(),
                        data.test.len(),
                        t.elapsed().as_secs_f64()
                    ));
                }
                Source::RandomInit => {
                    let random = run.random_encoder(random_init_seed(task), device);
                    sources.push((
                        source,
                        embed(&random, &data.pool)?,
                        embed(&random, &data.test)?,
                    ));
                }
                Source::Tfidf | Source::Lsa => {
                    unreachable!("frozen_sources gives an image task no text source")
                }
            }
        }
        Ok(sources)
    }

    fn labelled<'a>(&'a self, split: &'a LabelSplit) -> LabelledImages<'a> {
        LabelledImages {
            pool: &self.data.pool,
            train: &split.train,
            val: &split.val,
            test: &self.data.test,
            stats: &self.stats,
            augment: &self.augment,
            classes: self.drawn.classes.len(),
        }
    }
}
