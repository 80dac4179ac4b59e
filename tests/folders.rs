//! Evaluation on folders as users bring them: classes matched by name when
//! the pool holds a class the test set lacks, a test set held out of one
//! folder, two tasks on one run, and the cost said before it is paid. The
//! folders are written here as PNG files from the bundled MNIST.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pretext::data::{DatasetConfig, ImageDataset};
use pretext::eval::{EvalResults, Head, TaskConfig, evaluate, plan_evaluation, results_files};
use pretext::report::{ReportInputs, write_report};

use crate::common::{device, mnist_images, pretrain_small, root};

/// The first 3,000 MNIST training images with their labels.
fn mnist() -> ImageDataset {
    DatasetConfig::Idx {
        images: mnist_images(),
        labels: Some(root().join("datasets/mnist/train-labels-idx1-ubyte.gz")),
        limit: Some(3000),
    }
    .load(Path::new("."))
    .unwrap()
}

/// Writes `count` images of each `(folder, digit)` into `root/<folder>/`,
/// skipping the first `skip` images of the digit, and returns `root`.
fn digit_folders(
    data: &ImageDataset,
    root: &Path,
    classes: &[(&str, u32)],
    count: usize,
    skip: usize,
) -> PathBuf {
    for &(folder, digit) in classes {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let images = (0..data.len()).filter(|&i| data.label(i) == Some(digit));
        for (n, i) in images.skip(skip).take(count).enumerate() {
            image::GrayImage::from_raw(28, 28, data.image(i).to_vec())
                .unwrap()
                .save(dir.join(format!("{n:04}.png")))
                .unwrap();
        }
    }
    root.to_path_buf()
}

fn task(dir: &Path, name: &str, toml: &str) -> TaskConfig {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("name = \"{name}\"\n{toml}")).unwrap();
    TaskConfig::load(&path, &[]).unwrap()
}

const FAST: &str = "budgets = [\"5/class\"]\nseeds = 1\nheads = [\"knn\"]\nbaselines = [\"raw_pixels\"]\n[knn]\nk = [5]\n";

#[test]
fn classes_are_matched_by_name_when_the_pool_has_an_extra_first_class() {
    let tmp = tempfile::tempdir().unwrap();
    let data = mnist();
    // The pool holds an extra class that sorts first; the test set lacks it.
    let pool = digit_folders(
        &data,
        &tmp.path().join("pool"),
        &[("0-extra", 0), ("one", 1), ("seven", 7)],
        30,
        0,
    );
    let test = digit_folders(
        &data,
        &tmp.path().join("test"),
        &[("one", 1), ("seven", 7)],
        40,
        30,
    );
    let t = task(
        tmp.path(),
        "ones-and-sevens",
        &format!(
            "{FAST}[train]\nformat = \"image_folder\"\nroot = \"{}\"\n[test]\nformat = \"image_folder\"\nroot = \"{}\"\n",
            pool.display(),
            test.display()
        ),
    );
    let images = t.load_images().unwrap();
    assert_eq!(images.pool.class_names(), ["0-extra", "one", "seven"]);
    // By position the test's `one` would be label 0, the pool's `0-extra`.
    let labels = images.test.labels().unwrap();
    assert_eq!(labels.iter().filter(|&&l| l == 1).count(), 40);
    assert_eq!(labels.iter().filter(|&&l| l == 2).count(), 40);

    let run = pretrain_small("simclr", 256, tmp.path());
    let mut lines = Vec::new();
    let results = evaluate(&run, &t, &device(), &mut |l| lines.push(l.to_string())).unwrap();
    assert_eq!(results.class_names, ["0-extra", "one", "seven"]);
    // Matched by position, every test one would be scored as `0-extra` and
    // every seven as `one`: near 0%. Matched by name, ones and sevens are
    // told apart well above chance even by this small encoder.
    for row in &results.rows {
        assert!(row.test_accuracy > 0.6, "{row:?}");
    }
    let said = lines.join("\n");
    assert!(
        said.contains("the labelled pool's class `0-extra` has no test images"),
        "{said}"
    );
}

#[test]
fn test_fraction_on_an_image_folder_holds_out_a_disjoint_stratified_split() {
    let tmp = tempfile::tempdir().unwrap();
    let data = mnist();
    let root = digit_folders(
        &data,
        &tmp.path().join("all"),
        &[("a", 2), ("b", 3), ("c", 4)],
        50,
        0,
    );
    // A stray file is counted, not read.
    std::fs::write(root.join("a/notes.txt"), "not an image").unwrap();
    let toml = |seed: u64| {
        format!(
            "seed = {seed}\ntest_fraction = 0.2\n{FAST}[train]\nformat = \"image_folder\"\nroot = \"{}\"\n",
            root.display()
        )
    };
    let images = task(tmp.path(), "held", &toml(0)).load_images().unwrap();
    assert_eq!((images.pool.len(), images.test.len()), (120, 30));
    assert_eq!(images.pool.skipped_files(), 1);
    for class in 0..3 {
        let count = |d: &ImageDataset| d.labels().unwrap().iter().filter(|&&l| l == class).count();
        assert_eq!((count(&images.pool), count(&images.test)), (40, 10));
    }
    let pixels = |d: &ImageDataset| -> HashSet<Vec<u8>> {
        (0..d.len()).map(|i| d.image(i).to_vec()).collect()
    };
    let (pool, test) = (pixels(&images.pool), pixels(&images.test));
    assert!(pool.is_disjoint(&test), "a test image is also in the pool");
    // The same seed draws the same test set; another seed another.
    let again = task(tmp.path(), "held", &toml(0)).load_images().unwrap();
    assert_eq!(pixels(&again.test), test);
    let other = task(tmp.path(), "held", &toml(1)).load_images().unwrap();
    assert_ne!(pixels(&other.test), test);

    // Evaluated, the held-out set is said, and the stray file counted.
    let run = pretrain_small("simclr", 256, tmp.path());
    let mut lines = Vec::new();
    let t = task(tmp.path(), "held", &toml(0));
    let results = evaluate(&run, &t, &device(), &mut |l| lines.push(l.to_string())).unwrap();
    assert_eq!((results.pool_size, results.test_size), (120, 30));
    let said = lines.join("\n");
    assert!(said.contains("held out 0.2, seed 0"), "{said}");
    assert!(
        said.contains("skipped 1 file that is not a PNG or JPEG image"),
        "{said}"
    );
}

#[test]
fn results_keep_the_overrides_their_task_was_read_with_so_it_reads_again_as_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 256, tmp.path());
    let m = root().join("datasets/mnist");
    // The file points at a pool that does not exist; `--set` gives the real one.
    let path = tmp.path().join("moved.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"moved\"\ntest_fraction = 0.2\n{FAST}[train]\nformat = \"idx\"\n\
             images = \"/nowhere/train-images-idx3-ubyte.gz\"\n\
             labels = \"{m}/train-labels-idx1-ubyte.gz\"\nlimit = 300\n",
            m = m.display()
        ),
    )
    .unwrap();
    let overrides = vec![format!(
        "train.images=\"{}/train-images-idx3-ubyte.gz\"",
        m.display()
    )];
    let t = TaskConfig::load(&path, &overrides).unwrap();
    let results = evaluate(&run, &t, &device(), &mut |_| {}).unwrap();
    assert_eq!(results.task_overrides, overrides);
    let saved = EvalResults::load(&run.join("eval/moved/results.json")).unwrap();
    assert_eq!(saved.task_overrides, overrides);
    // Read again as the report reads it: the same task, whose data loads.
    let again = TaskConfig::load(Path::new(&saved.task_file), &saved.task_overrides).unwrap();
    assert_eq!(again.train, t.train);
    assert!(again.load_images().is_ok());
    assert!(
        TaskConfig::load(Path::new(&saved.task_file), &[])
            .unwrap()
            .load_images()
            .is_err()
    );
}

#[test]
fn two_tasks_on_one_run_keep_both_results_and_the_report_shows_both() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 256, tmp.path());
    let m = root().join("datasets/mnist");
    let mnist_task = |limit: usize| {
        format!(
            "{FAST}[train]\nformat = \"idx\"\nimages = \"{m}/train-images-idx3-ubyte.gz\"\n\
             labels = \"{m}/train-labels-idx1-ubyte.gz\"\nlimit = {limit}\n\
             [test]\nformat = \"idx\"\nimages = \"{m}/t10k-images-idx3-ubyte.gz\"\n\
             labels = \"{m}/t10k-labels-idx1-ubyte.gz\"\nlimit = 200\n",
            m = m.display()
        )
    };
    let first = evaluate(
        &run,
        &task(tmp.path(), "small-pool", &mnist_task(300)),
        &device(),
        &mut |_| {},
    )
    .unwrap();
    let mut lines = Vec::new();
    evaluate(
        &run,
        &task(tmp.path(), "large-pool", &mnist_task(900)),
        &device(),
        &mut |l| lines.push(l.to_string()),
    )
    .unwrap();
    // The second task wrote beside the first, not over it.
    let files = results_files(&run);
    assert_eq!(
        files,
        [
            run.join("eval/large-pool/results.json"),
            run.join("eval/small-pool/results.json")
        ]
    );
    assert_eq!(EvalResults::load(&files[1]).unwrap(), first);
    for name in ["small-pool", "large-pool"] {
        assert!(
            run.join(format!("eval/{name}/splits/5-per-class-seed0.json"))
                .is_file()
        );
    }
    assert!(
        !lines.join("\n").contains("earlier evaluation"),
        "{lines:?}"
    );
    // A rerun of one task says it replaces that task's draws.
    let mut again = Vec::new();
    evaluate(
        &run,
        &task(tmp.path(), "small-pool", &mnist_task(300)),
        &device(),
        &mut |l| again.push(l.to_string()),
    )
    .unwrap();
    assert!(
        again
            .join("\n")
            .contains("holds an earlier evaluation of this task"),
        "{again:?}"
    );

    let inputs = ReportInputs::read(&run).unwrap();
    let tasks: Vec<&str> = inputs.evals.iter().map(|r| r.task.as_str()).collect();
    assert_eq!(tasks, ["large-pool", "small-pool"]);
    let report = write_report(&inputs).unwrap();
    let html = std::fs::read_to_string(&report.html).unwrap();
    for name in ["small-pool", "large-pool"] {
        assert!(
            html.contains(&format!("Test accuracy (%) on {name} (200 test images)")),
            "{name}"
        );
    }
}

#[test]
fn a_dry_run_estimates_every_part_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 256, tmp.path());
    let m = root().join("datasets/mnist");
    let t = task(
        tmp.path(),
        "plan",
        &format!(
            "budgets = [\"5/class\"]\nseeds = 2\nheads = [\"linear\", \"knn\", \"mlp\", \"finetune\"]\n\
             baselines = [\"raw_pixels\", \"random_init\", \"supervised\"]\n\
             [mlp]\nmax_epochs = 30\npatience = 5\n[finetune]\nmax_epochs = 4\nsteps_per_epoch = 2\npatience = 2\n\
             [train]\nformat = \"idx\"\nimages = \"{m}/train-images-idx3-ubyte.gz\"\n\
             labels = \"{m}/train-labels-idx1-ubyte.gz\"\nlimit = 400\n\
             [test]\nformat = \"idx\"\nimages = \"{m}/t10k-images-idx3-ubyte.gz\"\n\
             labels = \"{m}/t10k-labels-idx1-ubyte.gz\"\nlimit = 200\n",
            m = m.display()
        ),
    );
    assert!(t.runs(Head::Mlp));
    let estimate = plan_evaluation(&run, &t, &device(), &mut |_| {}).unwrap();
    let parts: Vec<&str> = estimate.parts.iter().map(|p| p.part.as_str()).collect();
    for expected in [
        "embed 600 images (pretrained)",
        "embed 600 images (random init)",
        "linear probe, 784 features (raw pixels)",
        "kNN, 784 features (raw pixels)",
        "MLP head, 784 features (raw pixels)",
        "fine-tune the pretrained encoder",
        "supervised from scratch",
    ] {
        assert!(parts.contains(&expected), "{expected} not in {parts:?}");
    }
    for p in &estimate.parts {
        assert!(p.typical > 0.0 && p.typical <= p.longest, "{p:?}");
    }
    let (typical, longest) = estimate.total();
    assert!(typical > 0.0 && typical <= longest);
    let lines = estimate.lines();
    assert!(lines.last().unwrap().contains("total: about"), "{lines:?}");
    assert!(!run.join("eval").exists(), "a dry run wrote into the run");
}
