//! Text evaluation: the run's frozen text encoder and the baselines (TF-IDF
//! with logistic regression, LSA, a random encoder, the encoder trained from
//! scratch), each head, every label budget and seed; results into
//! `<run>/eval/<task>/` (a text encoder is usually scored on several sets).
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::text::TextDataset;
use pretext_data::transform::derive_seed;
use pretext_data::{LabelSplit, test_split};
use pretext_nn::random_streams;
use pretext_nn::text::TextEncoder;

use pretext_runs::{EvalResults, Source};

use crate::EvalError;
use crate::embed::cached;
use crate::evaluation::{
    Drawn, Evaluation, RANDOM_INIT_STREAM, absent_classes, absent_line, fnv64, run_task,
};
use crate::features::Features;
use crate::heads::{Recorder, count};
use crate::run::TextRun;
use crate::side::Texts;
use crate::task::{Baseline, TextTaskConfig};
use crate::text::embed::embed_texts;
use crate::text::finetune::LabelledTexts;
use crate::text::{Lsa, LsaFit, fit_tfidf_logistic};

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
            let fraction = task
                .held_out_fraction()
                .expect("a task without test data holds a share of its pool out");
            let (keep, held) = test_split(pool.len(), fraction, task.seed);
            Ok((pool.subset(&keep), pool.subset(&held)))
        }
    }
}

/// The stream of the LSA baseline's random test matrix, from the task's seed.
const LSA_STREAM: u64 = 0x4C53_4121;

/// A text run and a task's documents, tokenized, with the label draws.
struct TextEvaluation {
    drawn: Drawn<Texts>,
    pool: TextDataset,
    test: TextDataset,
    encoder: TextEncoder,
    pool_tokens: Arc<Vec<Vec<u32>>>,
    test_tokens: Vec<Vec<u32>>,
    /// The LSA baseline's features of the pool and of the test set, fitted
    /// on the documents `[lsa] fit_on` names (when the task compares with it
    /// and runs frozen heads).
    lsa: Option<(Features, Features)>,
}

impl TextEvaluation {
    /// Reads and checks everything; says what it found in `log`.
    fn new(
        run_path: &Path,
        task: &TextTaskConfig,
        device: &Device,
        log: &mut dyn FnMut(&str),
    ) -> Result<Self, EvalError> {
        let run = TextRun::open(run_path)?;
        for warning in run.trained.warnings() {
            log(&warning);
        }
        let (pool, test) = load_task_data(task)?;
        let classes = pool.num_classes().unwrap_or(0);
        // Fitted before anything is said or written: more dimensions than
        // the pool gives is an error in the task, found here.
        let (lsa, lsa_line) = if task.compares_with(Baseline::Lsa) && task.runs_frozen_heads() {
            let t = Instant::now();
            let seed = derive_seed(task.seed, LSA_STREAM);
            let corpus = match task.lsa.fit_on {
                LsaFit::Pool => None,
                LsaFit::Corpus => Some(run.config.data.load(&run.config.base_dir)?),
            };
            let (docs, whose) = match &corpus {
                None => (pool.docs(), "the pool's"),
                Some(c) => (c.docs(), "the run's corpus's"),
            };
            let (lsa, fitted) =
                Lsa::fit(docs, &task.tfidf, &task.lsa, seed).map_err(|reason| EvalError::Task {
                    path: task.path.clone(),
                    reason,
                })?;
            // Fitted on the pool, the fit's own rows are the pool's features.
            let pool_features = match corpus {
                None => fitted,
                Some(_) => lsa.transform(pool.docs()),
            };
            let features = (pool_features, lsa.transform(test.docs()));
            let line = format!(
                "LSA: {} dimensions of the TF-IDF of {whose} {} texts, fitted without labels ({:.1} s)",
                lsa.dim(),
                docs.len(),
                t.elapsed().as_secs_f64()
            );
            (Some(features), Some(line))
        } else {
            (None, None)
        };
        // Loaded before anything is written: a checkpoint that does not fit its
        // experiment fails here, leaving no label splits behind.
        let encoder = run.encoder(device)?;
        let labels = |d: &TextDataset| d.labels().expect("checked labelled").to_vec();
        let names = pool.class_names().to_vec();
        let drawn = Drawn::new(
            run,
            task,
            (names.clone(), names),
            (labels(&pool), labels(&test)),
            pool.source(),
        )?;
        let tokenizer = drawn.run.tokenizer();
        let pool_encoded = tokenizer.encode_all(pool.docs());
        let test_encoded = tokenizer.encode_all(test.docs());
        log(&format!(
            "task {}: {} labelled / {} test texts, {} classes; {} x {}; {} texts truncated to {} tokens",
            task.name,
            pool.len(),
            test.len(),
            classes,
            count(task.budgets.len(), "budget"),
            count(task.seeds, "seed"),
            pool_encoded.truncated + test_encoded.truncated,
            tokenizer.max_len()
        ));
        let absent = absent_classes(pool.class_names(), &drawn.test_labels);
        if !absent.is_empty() {
            log(&absent_line(&absent, "texts"));
        }
        if let Some(line) = lsa_line {
            log(&line);
        }
        Ok(Self {
            drawn,
            pool,
            test,
            encoder,
            pool_tokens: Arc::new(pool_encoded.ids),
            test_tokens: test_encoded.ids,
            lsa,
        })
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
    let prepared = TextEvaluation::new(run_path, task, device, log)?;
    run_task(&prepared, task, device, log)
}

impl Evaluation for TextEvaluation {
    type Side = Texts;
    type Labelled<'a> = LabelledTexts<'a>;

    fn drawn(&self) -> &Drawn<Texts> {
        &self.drawn
    }

    fn frozen_features(
        &self,
        task: &TextTaskConfig,
        device: &Device,
        log: &mut dyn FnMut(&str),
    ) -> Result<Vec<(Source, Features, Features)>, EvalError> {
        if !task.runs_frozen_heads() {
            return Ok(Vec::new());
        }
        let t = Instant::now();
        let (run, eval_dir) = (&self.drawn.run, self.drawn.run.eval_dir(&task.name));
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
        let (pool, test) = (&self.pool, &self.test);
        let mut sources = vec![(
            Source::Pretrained,
            embed(
                "pretrained",
                "pretrained pool",
                &self.encoder,
                pool,
                &self.pool_tokens,
            )?,
            embed(
                "pretrained",
                "pretrained test",
                &self.encoder,
                test,
                &self.test_tokens,
            )?,
        )];
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
                    pool,
                    &self.pool_tokens,
                )?,
                embed(
                    "random",
                    &format!("random {seed} test"),
                    &random,
                    test,
                    &self.test_tokens,
                )?,
            ));
        }
        if let Some((pool, test)) = &self.lsa {
            sources.push((Source::Lsa, pool.clone(), test.clone()));
        }
        Ok(sources)
    }

    /// The TF-IDF baseline: logistic regression on the draw's documents.
    fn own_heads(&self, task: &TextTaskConfig, split: &LabelSplit, record: &mut Recorder) {
        if !task.compares_with(Baseline::Tfidf) {
            return;
        }
        let t = Instant::now();
        // The pool's documents by index, borrowed: TF-IDF reads them per draw.
        let docs = |idx: &[usize]| -> Vec<&str> {
            idx.iter().map(|&i| self.pool.docs()[i].as_str()).collect()
        };
        let y = |idx: &[usize]| -> Vec<u32> {
            idx.iter().map(|&i| self.drawn.pool_labels[i]).collect()
        };
        let fit = fit_tfidf_logistic(
            &docs(&split.train),
            &y(&split.train),
            &docs(&split.val),
            &y(&split.val),
            self.drawn.classes.len(),
            &task.tfidf,
        );
        let outcome = fit.choice.outcome(fit.predict(self.test.docs()));
        record.add(
            Source::Tfidf,
            "linear",
            split,
            outcome,
            t.elapsed().as_secs_f64(),
        );
    }

    fn labelled<'a>(&'a self, split: &'a LabelSplit) -> LabelledTexts<'a> {
        LabelledTexts {
            pool: &self.pool_tokens,
            labels: &self.drawn.pool_labels,
            train: &split.train,
            val: &split.val,
            test: &self.test_tokens,
            classes: self.drawn.classes.len(),
        }
    }
}
