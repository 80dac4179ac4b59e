//! Evaluation end to end through the library: a small pretraining run, then
//! every head and baseline on a few labels of real MNIST, results and label
//! splits written; and the bad inputs a user can give.
use std::path::{Path, PathBuf};

use pretext::eval::{EvalError, EvalResults, Source, TaskConfig, evaluate};

use crate::common::{device, pretrain_small, root};

/// Pretrains the small SimCLR experiment into `out` and returns the run.
fn pretrained_run(out: &Path) -> PathBuf {
    pretrain_small("simclr", 640, out)
}

/// A task on the first `pool` MNIST training images and 300 test images.
pub(crate) fn task_toml(pool: usize, extra: &str) -> String {
    let mnist = root().join("datasets/mnist");
    format!(
        r#"
name = "mnist-small"
budgets = ["5/class"]
seeds = 2
heads = ["linear", "knn", "mlp", "finetune"]
baselines = ["raw_pixels", "random_init", "supervised"]
[train]
format = "idx"
images = "{m}/train-images-idx3-ubyte.gz"
labels = "{m}/train-labels-idx1-ubyte.gz"
limit = {pool}
[test]
format = "idx"
images = "{m}/t10k-images-idx3-ubyte.gz"
labels = "{m}/t10k-labels-idx1-ubyte.gz"
limit = 300
[knn]
k = [5, 20]
[mlp]
hidden_dim = 64
max_epochs = 30
patience = 5
[finetune]
max_epochs = 3
steps_per_epoch = 4
patience = 2
batch_size = 32
{extra}
"#,
        m = mnist.display()
    )
}

fn load_task(text: &str) -> Result<TaskConfig, EvalError> {
    TaskConfig::from_toml(text, Path::new("task.toml"), &[])
}

#[test]
fn every_head_and_baseline_runs_and_results_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrained_run(tmp.path());
    let task = load_task(&task_toml(600, "")).unwrap();
    let mut lines = Vec::new();
    let results = evaluate(&run, &task, &device(), &mut |l| lines.push(l.to_string())).unwrap();

    // 2 seeds x (3 sources x (linear, knn-5, knn-20, mlp) + finetune + supervised).
    assert_eq!(results.rows.len(), 2 * (3 * 4 + 2), "{lines:#?}");
    for r in &results.rows {
        assert_eq!((r.train_labels, r.val_labels), (50, 50));
        assert!((0.0..=1.0).contains(&r.test_accuracy), "{r:?}");
        if r.head == "mlp" || r.head == "finetune" {
            let (best, epochs) = (r.best_epoch.unwrap(), r.epochs.unwrap());
            assert!(
                best >= 1 && best <= epochs && r.curve.len() == epochs,
                "{r:?}"
            );
        }
        if r.head == "linear" {
            // L-BFGS iterations; the curve starts at the initial weights (iteration 0).
            let (best, iterations) = (r.best_epoch.unwrap(), r.epochs.unwrap());
            assert!(
                best <= iterations && r.curve.len() == iterations + 1,
                "{r:?}"
            );
        }
    }
    // Every linear probe, even on a random encoder, is far above chance (10%)
    // at 5 labels per class.
    println!("{}", results.markdown());
    for s in results.summary.iter().filter(|s| s.head == "linear") {
        assert!(s.mean > 0.25, "{s:?}");
        assert_eq!(s.seeds, 2);
    }
    assert!(
        results
            .summary
            .iter()
            .any(|s| s.source == Source::RandomInit && s.head == "finetune")
    );

    // Files: results.json reloads, the table and the label draws are there.
    let eval = run.join("eval/mnist-small");
    assert_eq!(
        EvalResults::load(&eval.join("results.json")).unwrap(),
        results
    );
    let md = std::fs::read_to_string(eval.join("results.md")).unwrap();
    assert!(md.contains("pretrained + linear") && md.contains("supervised from scratch"));
    for seed in [0, 1] {
        let split = eval.join(format!("splits/5-per-class-seed{seed}.json"));
        assert!(split.is_file(), "{split:?}");
    }

    // A second evaluation reads the embeddings from the cache and agrees.
    let again = evaluate(&run, &task, &device(), &mut |_| {}).unwrap();
    let linear = |r: &EvalResults| {
        r.rows
            .iter()
            .filter(|r| r.head == "linear")
            .map(|r| r.test_accuracy)
            .collect::<Vec<_>>()
    };
    assert_eq!(linear(&again), linear(&results));

    // The quadrant readout of the last stage: 4x as many features, cached
    // apart from the embedding's, for the pretrained and the random encoder
    // alike.
    let cache = run.join("eval/cache");
    let bytes =
        |files: &[PathBuf]| -> u64 { files.iter().map(|f| f.metadata().unwrap().len()).sum() };
    let listing = || -> Vec<PathBuf> {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let before = listing();
    let text = task_toml(600, "[readout]\ngrid = 2")
        .replace(r#"["linear", "knn", "mlp", "finetune"]"#, r#"["linear"]"#)
        .replace(
            r#""raw_pixels", "random_init", "supervised""#,
            r#""random_init""#,
        );
    let grid = evaluate(&run, &load_task(&text).unwrap(), &device(), &mut |_| {}).unwrap();
    let added: Vec<PathBuf> = listing()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    // The pool and the test set, each by both encoders.
    assert_eq!((before.len(), added.len()), (4, 4), "{before:?} {added:?}");
    let ratio = bytes(&added) as f64 / bytes(&before) as f64;
    assert!((3.95..4.0).contains(&ratio), "{ratio}");
    for source in [Source::Pretrained, Source::RandomInit] {
        let rows = grid.rows.iter().filter(|r| r.source == source).count();
        assert_eq!(rows, 2, "{source:?}");
    }
}

#[test]
fn bad_tasks_and_runs_are_one_line_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrained_run(tmp.path());

    // A budget larger than the labelled pool allows.
    let task = load_task(&task_toml(100, "").replace("5/class", "50/class")).unwrap();
    let e = evaluate(&run, &task, &device(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("train-images-idx3-ubyte.gz") && e.contains("50/class"),
        "{e}"
    );

    // Images of another size than the encoder takes (the 8x8 digits).
    let digits = root().join("datasets/digits/digits.csv.gz");
    let text = task_toml(600, "")
        .split("[train]")
        .next()
        .unwrap()
        .to_string()
        + &format!(
            "[train]\nformat = \"digits_csv\"\npath = \"{d}\"\n[test]\nformat = \"digits_csv\"\npath = \"{d}\"\n",
            d = digits.display()
        );
    let e = evaluate(&run, &load_task(&text).unwrap(), &device(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("digits.csv.gz") && e.contains("1x8x8") && e.contains("1x28x28"),
        "{e}"
    );

    // A run without a checkpoint (neither the latest nor the one before).
    std::fs::remove_dir_all(run.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(run.join("checkpoint.prev")).unwrap();
    let task = load_task(&task_toml(600, "")).unwrap();
    let e = evaluate(&run, &task, &device(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("no checkpoint"), "{e}");
    assert!(!e.contains('\n'));

    // A grid readout out of range.
    let e = load_task(&task_toml(600, "[readout]\ngrid = 9"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("task.toml: ") && e.contains("readout.grid must be 1 to 4, got 9"),
        "{e}"
    );

    // A task key that does not exist.
    let e = load_task(&task_toml(600, "").replace("seeds = 2", "seedz = 2"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("task.toml: ") && e.contains("seedz"), "{e}");
}
