//! Text end to end through the library: pretrain SimCSE and TSDAE on a slice
//! of the committed review sentences (`datasets/reviews`, generated from a
//! grammar with a known label rule), resume, and evaluate on a slice of their
//! labelled sentences against the TF-IDF baseline.
use std::path::{Path, PathBuf};

use pretext::data::Modality;
use pretext::data::text::TextTokenizer;
use pretext::eval::{Source, TextRun, TextTaskConfig, evaluate_text, inspect_text};
use pretext::report::{ReportInputs, write_report};
use pretext::train::{
    Experiment, NoObserver, RunDir, RunInfo, TOKENIZER_FILE, pretrain_text, resume,
};

use crate::common::{device, root};

fn info() -> RunInfo {
    RunInfo {
        backend: "flex".into(),
        git_revision: None,
    }
}

/// A file of the committed review sentences (see datasets/README.md).
fn reviews(file: &str) -> PathBuf {
    root().join("datasets/reviews").join(file)
}

/// A small text experiment of `method` on the first 600 review sentences.
fn experiment(method: &str, epochs: usize) -> String {
    format!(
        r#"
name = "text-{method}"
seed = 3
[data]
format = "table"
path = "{path}"
text_column = "sentence"
limit = 600
[tokenizer]
vocab_size = 600
max_len = 24
[encoder]
kind = "transformer"
width = 32
depth = 1
heads = 2
[method]
name = "{method}"
[train]
epochs = {epochs}
batch_size = 32
val_fraction = 0.1
log_every = 2
[train.optimizer]
kind = "adamw"
lr = 0.001
"#,
        path = reviews("train.tsv").display()
    )
}

fn load(text: &str) -> pretext::train::TextExperimentConfig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.toml");
    std::fs::write(&path, text).unwrap();
    match Experiment::load(&path, &[]).unwrap() {
        Experiment::Text(c) => c,
        Experiment::Image(c) => panic!("read as an image experiment: {c:?}"),
    }
}

#[test]
fn simcse_and_tsdae_pretrain_on_review_sentences_and_the_loss_falls() {
    let tmp = tempfile::tempdir().unwrap();
    for method in ["simcse", "tsdae"] {
        let config = load(&experiment(method, 3));
        let summary = pretrain_text(&config, tmp.path(), &info(), &[device()], &mut NoObserver)
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        assert!(
            summary.last_train_loss < summary.first_train_loss,
            "{method}: {summary:?}"
        );
        let run = RunDir::open(&summary.run_dir).unwrap();
        let tokenizer = TextTokenizer::load(&run.path().join(TOKENIZER_FILE)).unwrap();
        assert!(tokenizer.vocab_size() > 100, "{}", tokenizer.vocab_size());
        assert_eq!(tokenizer.max_len(), 24);
        // The resolved config reloads as the same text experiment.
        let again = match Experiment::load(&run.config_path(), &[]).unwrap() {
            Experiment::Text(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(again.method, config.method);
        assert_eq!(again.data, config.data);
    }
}

#[test]
fn a_resumed_text_run_continues_from_its_checkpoint_with_its_tokenizer() {
    let tmp = tempfile::tempdir().unwrap();
    let config = load(&experiment("simcse", 2));
    let first = pretrain_text(&config, tmp.path(), &info(), &[device()], &mut NoObserver).unwrap();
    // Ask for a third epoch and continue.
    let config_path = first.run_dir.join("config.toml");
    let text = std::fs::read_to_string(&config_path)
        .unwrap()
        .replace("epochs = 2", "epochs = 3");
    std::fs::write(&config_path, text).unwrap();
    let tokenizer_before = std::fs::read(first.run_dir.join(TOKENIZER_FILE)).unwrap();
    let resumed = resume(&first.run_dir, &info(), &[device()], &mut NoObserver).unwrap();
    assert_eq!(resumed.epochs, 3);
    assert_eq!(
        std::fs::read(first.run_dir.join(TOKENIZER_FILE)).unwrap(),
        tokenizer_before,
        "resuming must reuse the run's tokenizer"
    );
    let metrics = std::fs::read_to_string(first.run_dir.join("metrics.jsonl")).unwrap();
    let epochs: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "epoch")
        .map(|v| v["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, [1, 2, 3]);
}

/// The run directory of one epoch of SimCSE on the small experiment, under `dir`.
fn pretrained_simcse(dir: &Path) -> PathBuf {
    let config = load(&experiment("simcse", 1));
    pretrain_text(&config, dir, &info(), &[device()], &mut NoObserver)
        .unwrap()
        .run_dir
}

/// A small review-sentiment task: 1,500 labelled sentences, 200 test
/// sentences.
fn task(dir: &Path) -> TextTaskConfig {
    let text = format!(
        r#"
name = "reviews-small"
budgets = ["8/class", "all"]
seeds = 2
heads = ["linear", "knn", "finetune"]
baselines = ["tfidf", "lsa", "random_init", "supervised"]
[train]
format = "table"
path = "{train}"
text_column = "sentence"
label_column = "label"
limit = 1500
[test]
format = "table"
path = "{test}"
text_column = "sentence"
label_column = "label"
limit = 200
[knn]
k = [5]
[finetune]
budgets = ["8/class"]
max_epochs = 3
steps_per_epoch = 3
patience = 2
"#,
        train = reviews("train.tsv").display(),
        test = reviews("test.tsv").display(),
    );
    let path = dir.join("task.toml");
    std::fs::write(&path, text).unwrap();
    TextTaskConfig::load(&path, &[]).unwrap()
}

#[test]
fn a_text_run_is_evaluated_against_tfidf_lsa_random_and_supervised_baselines() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrained_simcse(tmp.path());
    let task = task(tmp.path());
    let results = evaluate_text(&run, &task, &device(), &mut |_| {}).unwrap();
    assert_eq!(results.classes, 2);
    assert_eq!((results.pool_size, results.test_size), (1500, 200));
    let has = |source: Source, head: &str, budget: &str| {
        results
            .rows
            .iter()
            .filter(|r| r.source == source && r.head == head && r.budget.to_string() == budget)
            .count()
    };
    for (source, head) in [
        (Source::Pretrained, "linear"),
        (Source::Pretrained, "knn-5"),
        (Source::RandomInit, "linear"),
        (Source::Tfidf, "linear"),
        (Source::Lsa, "linear"),
        (Source::Lsa, "knn-5"),
    ] {
        assert_eq!(has(source, head, "8/class"), 2, "{source:?} {head}");
        assert_eq!(has(source, head, "all"), 2, "{source:?} {head}");
    }
    assert_eq!(has(Source::Pretrained, "finetune", "8/class"), 2);
    assert_eq!(has(Source::RandomInit, "finetune", "8/class"), 2);
    assert_eq!(has(Source::Pretrained, "finetune", "all"), 0);
    // 8 per class: 16 training and 16 validation labels, class-balanced.
    let row = results
        .rows
        .iter()
        .find(|r| r.budget.to_string() == "8/class")
        .unwrap();
    assert_eq!((row.train_labels, row.val_labels), (16, 16));
    // With every label, TF-IDF + logistic regression is well above chance.
    let tfidf_all = results
        .summary
        .iter()
        .find(|s| s.source == Source::Tfidf && s.budget.to_string() == "all")
        .unwrap();
    assert!(tfidf_all.mean > 0.6, "{tfidf_all:?}");
    // So is LSA, fitted on the pool without its labels.
    let lsa_all = results
        .summary
        .iter()
        .find(|s| s.source == Source::Lsa && s.head == "linear" && s.budget.to_string() == "all")
        .unwrap();
    assert!(lsa_all.mean > 0.6, "{lsa_all:?}");
    // LSA fitted on the run's pretraining corpus instead of the pool.
    let mut on_corpus = task.clone();
    on_corpus.name = "reviews-lsa-corpus".into();
    on_corpus.heads = vec![pretext::eval::Head::Linear];
    on_corpus.baselines = vec![pretext::eval::Baseline::Lsa];
    on_corpus.budgets = vec!["all".parse().unwrap()];
    on_corpus.lsa.fit_on = pretext::eval::LsaFit::Corpus;
    let mut said = Vec::new();
    let corpus = evaluate_text(&run, &on_corpus, &device(), &mut |l| {
        said.push(l.to_string())
    })
    .unwrap();
    assert!(
        said.iter().any(|l| l.contains("of the run's corpus's")),
        "{said:?}"
    );
    let lsa_corpus = corpus
        .summary
        .iter()
        .find(|s| s.source == Source::Lsa && s.budget.to_string() == "all")
        .unwrap();
    // Above chance (two balanced classes), though fitted on the run's 600
    // corpus sentences rather than the task's 1,500.
    assert!(lsa_corpus.mean > 0.55, "{lsa_corpus:?}");
    assert_eq!(results.class_names, ["0", "1"]);
    let eval_dir = run.join("eval/reviews-small");
    assert!(eval_dir.join("results.json").is_file());
    for split in [
        "8-per-class-seed0",
        "8-per-class-seed1",
        "all-seed0",
        "all-seed1",
    ] {
        assert!(
            eval_dir.join(format!("splits/{split}.json")).is_file(),
            "{split}"
        );
    }
}

#[test]
fn the_report_of_a_text_run_shows_each_task_it_was_evaluated_on() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrained_simcse(tmp.path());
    // The small review task twice, under two names, with only the fast heads.
    for name in ["reviews-a", "reviews-b"] {
        let mut task = task(tmp.path());
        task.name = name.into();
        task.heads = vec![pretext::eval::Head::Linear];
        task.baselines = vec![pretext::eval::Baseline::Tfidf];
        evaluate_text(&run, &task, &device(), &mut |_| {}).unwrap();
    }
    let mut inputs = ReportInputs::read(&run).unwrap();
    assert_eq!(inputs.modality, Modality::Text);
    let text_run = TextRun::open(&run).unwrap();
    let sample = task(tmp.path());
    let inspection = inspect_text(&text_run, Some(&sample), 60, &device()).unwrap();
    assert_eq!(inspection.texts.len(), 60);
    assert_eq!(inspection.embeddings.rows, 60);
    assert_eq!(inspection.labels.as_ref().map(Vec::len), Some(60));
    let first = inspection.texts[0].clone();
    inputs.text_inspection = Some(inspection);
    let tasks: Vec<&str> = inputs.evals.iter().map(|r| r.task.as_str()).collect();
    assert_eq!(tasks, ["reviews-a", "reviews-b"]);
    let report = write_report(&inputs).unwrap();
    let names: Vec<&str> = report.figures.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"embedding_pca") && names.contains(&"embedding_tsne"));
    for task in ["reviews-a", "reviews-b"] {
        for figure in ["label_efficiency", "head_curves", "confusion"] {
            let name = format!("{figure}-{task}");
            assert!(names.contains(&name.as_str()), "{name} not in {names:?}");
            assert!(run.join(format!("figures/{name}.png")).is_file(), "{name}");
        }
    }
    let html = std::fs::read_to_string(&report.html).unwrap();
    for expected in [
        "Test accuracy (%) on reviews-a (200 test texts)",
        "Test accuracy (%) on reviews-b (200 test texts)",
        "texts/s (median epoch)",
        "tf-idf + linear",
        "Pretrained + linear minus each baseline on the same label draws",
        "Nearest neighbours",
        "embeddings of 60 texts",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    // The first sampled test sentence is a query, with its neighbours.
    let query = html.find("<table class=\"neighbours\">").unwrap();
    assert!(html[query..].contains(&first[..20]), "{first}");
    assert!(html[query..].matches("<li class=").count() >= 2 * 8);
    assert!(!html.contains("images"), "a text report speaks of images");
}

#[test]
fn a_program_loads_a_text_encoder_and_embeds_sentences() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrained_simcse(tmp.path());
    let encoder = pretext::TextEncoder::load(&run, &device()).unwrap();
    assert_eq!(encoder.dim(), 32);
    let sentence = "a gorgeous , witty , seductive movie .";
    let long = "the film is not only long but also far too slow to hold anyone 's attention .";
    let alone = encoder.embed_texts(&[sentence]);
    let batched = encoder.embed_texts(&[long, sentence, ""]);
    assert_eq!(batched.len(), 3);
    assert!(batched.iter().all(|e| e.len() == 32));
    // The same sentence embeds the same alone or padded beside a longer one.
    for (a, b) in alone[0].iter().zip(&batched[1]) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_ne!(batched[0], batched[1]);
    // A directory that holds no run is refused, with its path named.
    let missing = tmp.path().join("no-such-run");
    let err = pretext::TextEncoder::load(&missing, &device())
        .err()
        .unwrap();
    assert!(err.to_string().contains("no-such-run"), "{err}");
}

#[test]
fn a_text_encoder_exported_with_its_tokenizer_imports_and_embeds_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let transformer = pretrained_simcse(tmp.path());
    let bag = experiment("skip_gram", 1).replace(
        "kind = \"transformer\"\nwidth = 32\ndepth = 1\nheads = 2",
        "kind = \"bag_of_embeddings\"\nwidth = 32",
    );
    let bag = pretrain_text(
        &load(&bag),
        tmp.path(),
        &info(),
        &[device()],
        &mut NoObserver,
    )
    .unwrap()
    .run_dir;
    let texts = [
        "a gorgeous , witty , seductive movie .",
        "the film is not only long but also far too slow to hold anyone 's attention .",
        "",
    ];
    for (run, kind) in [(transformer, "transformer"), (bag, "bag_of_embeddings")] {
        let encoder = pretext::TextEncoder::load(&run, &device()).unwrap();
        let direct = encoder.embed_texts(&texts);
        let dir = tmp.path().join(format!("export-{kind}"));
        let config = pretext::export_text_safetensors(&encoder, &dir).unwrap();
        assert_eq!(config.vocab_size, encoder.network().vocab_size());
        assert_eq!((config.max_len, config.embedding_dim), (24, 32));
        // PyTorch names, no enum variant: the token table is [vocab, width].
        assert_eq!(
            config.tensors["tokens.weight"],
            vec![config.vocab_size, 32],
            "{kind}"
        );
        assert!(
            !config
                .tensors
                .keys()
                .any(|n| n.contains("Transformer") || n.contains("BagOf") || n.contains("gamma")),
            "{kind}: {:?}",
            config.tensors.keys()
        );
        crate::export::check_in_python(&dir);

        let imported = pretext::import_text_safetensors(&dir, &device()).unwrap();
        assert_eq!(imported.config(), encoder.config());
        let again = imported.embed_texts(&texts);
        for (a, b) in direct.iter().flatten().zip(again.iter().flatten()) {
            assert!((a - b).abs() <= 1e-6, "{kind}: {a} vs {b}");
        }
        // The exported tokenizer splits text as the run's does.
        assert_eq!(
            imported.tokenizer().encode(texts[1]),
            encoder.tokenizer().encode(texts[1])
        );
    }

    // What a program reading the export by hand computes for a bag of
    // embeddings: the mean of the rows of tokens.weight at the text's ids.
    let dir = tmp.path().join("export-bag_of_embeddings");
    let encoder = pretext::import_text_safetensors(&dir, &device()).unwrap();
    let (ids, _) = encoder.tokenizer().encode(texts[0]);
    let table = read_safetensors_f32(&dir.join("encoder.safetensors"), "tokens.weight");
    let by_hand: Vec<f32> = (0..32)
        .map(|j| ids.iter().map(|&i| table[i as usize * 32 + j]).sum::<f32>() / ids.len() as f32)
        .collect();
    for (a, b) in by_hand.iter().zip(&encoder.embed_texts(&texts[..1])[0]) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }

    // An export into a file's place is refused, naming it.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = pretext::export_text_safetensors(&encoder, &file)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("a-file") && err.contains("is a file"), "{err}");

    // A text export without its tokenizer is refused, naming the file.
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    let err = pretext::import_text_safetensors(&dir, &device())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
}

/// The f32 tensor `name` of a safetensors file, read by hand (8 bytes of
/// header length, the JSON header, then the data), as another program would.
fn read_safetensors_f32(path: &Path, name: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    assert_eq!(header[name]["dtype"], "F32");
    let offsets = &header[name]["data_offsets"];
    let (start, end) = (
        offsets[0].as_u64().unwrap() as usize,
        offsets[1].as_u64().unwrap() as usize,
    );
    bytes[8 + len + start..8 + len + end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}
