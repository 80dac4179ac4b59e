//! Text evaluation: the run's frozen text encoder and the baselines (TF-IDF
//! with logistic regression, a random encoder, the encoder trained from
//! scratch), each head, every label budget and seed; results into
//! `<run>/eval/<task>/` (a text encoder is usually scored on several sets).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::text::{TextDataset, TextTokenizer};
use pretext_data::transform::derive_seed;
use pretext_data::{Modality, test_split};
use pretext_nn::random_streams;
use pretext_nn::text::TextEncoder;
use pretext_train::{Checkpoint, Experiment, RunDir, TOKENIZER_FILE, TextExperimentConfig};

use crate::EvalError;
use crate::embed::cached;
use crate::evaluate::{HEAD_STREAM, RANDOM_INIT_STREAM, fnv64};
use crate::features::Features;
use crate::heads::{FinetuneJobs, FrozenHeads, Recorder, draw_all, union, write_splits};
use crate::outcome::HeadOutcome;
use crate::results::{EvalResults, Source};
use crate::task::{Baseline, Head};
use crate::text_embed::embed_texts;
use crate::text_finetune::{LabelledTexts, finetune_text};
use crate::text_task::TextTaskConfig;
use crate::tfidf::fit_tfidf_logistic;
use crate::trained_checkpoint::TrainedCheckpoint;

/// A text run ready to be evaluated: its experiment, checkpoint and tokenizer.
pub struct TextRun {
    /// The run directory.
    pub dir: RunDir,
    /// The run's resolved experiment.
    pub config: TextExperimentConfig,
    /// The tokenizer the encoder was trained with.
    pub tokenizer: TextTokenizer,
    /// The checkpoint used (its directory and epoch) and what the user
    /// must be warned of.
    pub trained: TrainedCheckpoint,
}

impl TextRun {
    /// Opens the text run at `path`; it must have a checkpoint.
    pub fn open(path: &Path) -> Result<Self, EvalError> {
        let dir = RunDir::open(path)?;
        let config = match Experiment::load(&dir.config_path(), &[])? {
            Experiment::Text(c) => c,
            Experiment::Image(_) => {
                return Err(EvalError::Run {
                    path: path.to_path_buf(),
                    reason: "is an image run; a text task needs a text run".into(),
                });
            }
        };
        let trained = TrainedCheckpoint::of(&dir)?;
        let tokenizer = TextTokenizer::load(&dir.path().join(TOKENIZER_FILE))?;
        Ok(Self {
            dir,
            config,
            tokenizer,
            trained,
        })
    }

    /// The pretrained encoder, loaded on `device`.
    pub fn encoder(&self, device: &Device) -> Result<TextEncoder, EvalError> {
        let _streams = random_streams::hold([device]);
        let method = self.config.method.init(
            &self.config.encoder,
            self.tokenizer.vocab_size(),
            self.tokenizer.max_len(),
            device,
        );
        Ok(Checkpoint::load_method(&self.trained.dir, method)?.into_encoder())
    }

    /// A randomly initialised encoder of the same architecture.
    pub fn random_encoder(&self, seed: u64, device: &Device) -> TextEncoder {
        let _streams = random_streams::hold_seeded(device, seed);
        self.config.encoder.init(
            self.tokenizer.vocab_size(),
            self.tokenizer.max_len(),
            device,
        )
    }

    /// Where a task's results go: `<run>/eval/<task>`.
    pub fn eval_dir(&self, task: &str) -> PathBuf {
        self.dir.path().join("eval").join(task)
    }
}

/// The task's labelled pool and test set, the test labels expressed in the
/// pool's classes.
pub(crate) fn load_task_data(
    task: &TextTaskConfig,
) -> Result<(TextDataset, TextDataset), EvalError> {
    let pool = task.train.load(Path::new(""))?;
    if pool.labels().is_none() {
        return Err(EvalError::Mismatch {
            path: pool.source().to_path_buf(),
            reason: "has no labels; a task's train and test data must be labelled".into(),
        });
    }
    match &task.test {
        Some(test) => {
            let test = test.load(Path::new(""))?;
            if test.labels().is_none() {
                return Err(EvalError::Mismatch {
                    path: test.source().to_path_buf(),
                    reason: "has no labels; a task's train and test data must be labelled".into(),
                });
            }
            let test = test.with_classes(pool.class_names())?;
            Ok((pool, test))
        }
        None => {
            let (keep, held) = test_split(pool.len(), task.test_fraction, task.seed);
            Ok((pool.subset(&keep), pool.subset(&held)))
        }
    }
}

/// Runs the text task on the run at `run_path`, writing
/// `eval/<task>/results.json`, `results.md` and the label splits. `log`
/// receives one line per step. Holds `device`'s random streams throughout,
/// as the image `evaluate` does.
pub fn evaluate_text(
    run_path: &Path,
    task: &TextTaskConfig,
    device: &Device,
    log: &mut dyn FnMut(&str),
) -> Result<EvalResults, EvalError> {
    let _streams = random_streams::hold([device]);
    let run = TextRun::open(run_path)?;
    for warning in run.trained.warnings() {
        log(&warning);
    }
    let (pool, test) = load_task_data(task)?;
    let classes = pool.num_classes().unwrap_or(0);
    // Loaded before anything is written: a checkpoint that does not fit its
    // experiment fails here, leaving no label splits behind.
    let encoder = run.encoder(device)?;
    let eval_dir = run.eval_dir(&task.name);
    let pool_labels = Arc::new(pool.labels().expect("checked labelled").to_vec());
    let test_labels = test.labels().expect("checked labelled").to_vec();
    let finetune_budgets = task.finetune_budgets();
    let trains_encoders = task.runs(Head::Finetune) || task.compares_with(Baseline::Supervised);
    let all_budgets = union(
        &task.budgets,
        if trains_encoders {
            &finetune_budgets
        } else {
            &[]
        },
    );
    crate::heads::note_rerun(&eval_dir, log);
    let splits = draw_all(
        &pool_labels,
        pool.class_names(),
        &all_budgets,
        &task.seed_list(),
        pool.source(),
    )?;
    write_splits(&splits, &eval_dir)?;
    let pool_encoded = run.tokenizer.encode_all(pool.docs());
    let test_encoded = run.tokenizer.encode_all(test.docs());
    log(&format!(
        "task {}: {} labelled / {} test texts, {} classes; {} budgets x {} seeds; {} texts truncated to {} tokens",
        task.name,
        pool.len(),
        test.len(),
        classes,
        task.budgets.len(),
        task.seeds,
        pool_encoded.truncated + test_encoded.truncated,
        run.tokenizer.max_len()
    ));
    let absent = crate::evaluate::absent_classes(pool.class_names(), &test_labels);
    if !absent.is_empty() {
        log(&crate::evaluate::absent_line(&absent, "texts"));
    }
    let pool_tokens = Arc::new(pool_encoded.ids);
    let test_tokens = test_encoded.ids;

    let frozen = FrozenHeads {
        heads: &task.heads,
        linear: &task.linear,
        knn: &task.knn,
        mlp: &task.mlp,
    };
    let mut sources: Vec<(Source, Features, Features)> = Vec::new();
    if frozen.any() {
        let t = Instant::now();
        let model_stamp = run.trained.model_stamp();
        let embed = |name: &str, which: &str, encoder: &TextEncoder, d: &TextDataset, tokens| {
            let k = format!(
                "{which}|epoch {}|{model_stamp}|{}|{}",
                run.trained.state.epoch,
                d.source().display(),
                d.len()
            );
            let path = eval_dir.join(format!("cache/{name}-{:016x}.bin", fnv64(&k)));
            cached(&path, &k, || embed_texts(encoder, tokens, device))
        };
        sources.push((
            Source::Pretrained,
            embed(
                "pretrained",
                "pretrained pool",
                &encoder,
                &pool,
                &pool_tokens,
            )?,
            embed(
                "pretrained",
                "pretrained test",
                &encoder,
                &test,
                &test_tokens,
            )?,
        ));
        log(&format!(
            "embedded {} + {} texts with the pretrained encoder ({:.1} s)",
            pool.len(),
            test.len(),
            t.elapsed().as_secs_f64()
        ));
        if task.compares_with(Baseline::RandomInit) {
            let seed = derive_seed(task.seed, RANDOM_INIT_STREAM);
            let random = run.random_encoder(seed, device);
            sources.push((
                Source::RandomInit,
                embed(
                    "random",
                    &format!("random {seed} pool"),
                    &random,
                    &pool,
                    &pool_tokens,
                )?,
                embed(
                    "random",
                    &format!("random {seed} test"),
                    &random,
                    &test,
                    &test_tokens,
                )?,
            ));
        }
    }

    let mut record = Recorder::new(&test_labels, classes, log);
    // The pool's documents by index, borrowed: TF-IDF reads them per draw.
    let docs =
        |idx: &[usize]| -> Vec<&str> { idx.iter().map(|&i| pool.docs()[i].as_str()).collect() };
    let test_docs: Vec<&str> = test.docs().iter().map(String::as_str).collect();
    for split in splits.iter().filter(|s| task.budgets.contains(&s.budget)) {
        let head_seed = derive_seed(split.seed, HEAD_STREAM);
        for (source, pool_x, test_x) in &sources {
            frozen.run(
                *source,
                pool_x,
                test_x,
                split,
                &pool_labels,
                classes,
                head_seed,
                device,
                &mut record,
            );
        }
        if task.compares_with(Baseline::Tfidf) {
            let t = Instant::now();
            let (train_docs, val_docs) = (docs(&split.train), docs(&split.val));
            let y = |idx: &[usize]| -> Vec<u32> { idx.iter().map(|&i| pool_labels[i]).collect() };
            let fit = fit_tfidf_logistic(
                &train_docs,
                &y(&split.train),
                &val_docs,
                &y(&split.val),
                classes,
                &task.tfidf,
            );
            let outcome = HeadOutcome {
                test_predictions: fit.predict(&test_docs),
                val_accuracy: Some(fit.val_accuracy),
                best_epoch: Some(fit.best_iteration),
                epochs: Some(fit.iterations),
                curve: fit.curve.clone(),
                detail: Some(format!("l2={}", fit.l2)),
            };
            record.add(
                Source::Tfidf,
                "linear",
                split,
                outcome,
                t.elapsed().as_secs_f64(),
            );
        }
    }

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
            let labelled = LabelledTexts {
                pool: &pool_tokens,
                labels: &pool_labels,
                train: &split.train,
                val: &split.val,
                test: &test_tokens,
                classes,
            };
            finetune_text(
                encoder,
                pretrained,
                &labelled,
                &task.finetune,
                head_seed,
                device,
            )
        },
    )?;

    let rows = record.rows;
    let mut results = EvalResults {
        run: run.dir.name(),
        task: task.name.clone(),
        task_file: task.path.display().to_string(),
        checkpoint_epoch: run.trained.state.epoch,
        classes,
        class_names: pool.class_names().to_vec(),
        modality: Modality::Text,
        pool_size: pool.len(),
        test_size: test.len(),
        budgets: all_budgets,
        readout: pretext_nn::Readout::default(),
        rows,
        summary: Vec::new(),
    };
    results.summarise();
    results.save_merged(&eval_dir, log)?;
    Ok(results)
}
