//! The `pretext` binary as a user meets it: bad input ends with one line on
//! stderr naming the file or key and the cause, exit code 2, and no run
//! directory left behind. (This binary only spawns processes, so it does not
//! link burn.)
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pretext(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the pretext binary runs")
}

fn mnist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist/train-images-idx3-ubyte.gz")
}

/// A small valid experiment reading `images`, with `extra` appended.
fn experiment(dir: &Path, images: &Path, extra: &str) -> PathBuf {
    let path = dir.join("e.toml");
    let text = format!(
        "name = \"cli\"\n[data]\nformat = \"idx\"\nimages = \"{}\"\nlimit = 96\n{extra}\n[train]\nepochs = 1\nbatch_size = 16\n",
        images.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts exit code 2, one line on stderr containing every `needle`, and no runs written.
fn fails_cleanly(out: &Output, dir: &Path, needles: &[&str]) {
    fails_with_one_line(out, needles);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    // Each cause is said once, not repeated by the error chain.
    let cause = stderr.rsplit(": ").next().unwrap_or_default().trim();
    assert_eq!(stderr.matches(cause).count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let runs = dir.join("runs");
    assert!(
        !runs.exists() || std::fs::read_dir(&runs).unwrap().count() == 0,
        "a run directory was left behind"
    );
}

#[test]
fn a_missing_experiment_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pretext(&["pretrain", "nope.toml"], tmp.path());
    fails_cleanly(&out, tmp.path(), &["nope.toml", "No such file"]);
}

#[test]
fn a_missing_data_file() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(tmp.path(), &tmp.path().join("absent.gz"), "");
    let out = pretext(&["pretrain", e.to_str().unwrap()], tmp.path());
    fails_cleanly(&out, tmp.path(), &["absent.gz"]);
}

#[test]
fn an_unknown_config_key() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(
        tmp.path(),
        &mnist(),
        "[method]\nname = \"simclr\"\ntemprature = 0.1",
    );
    let out = pretext(&["pretrain", e.to_str().unwrap()], tmp.path());
    fails_cleanly(&out, tmp.path(), &["e.toml", "unknown field `temprature`"]);
}

#[test]
fn a_batch_size_of_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(tmp.path(), &mnist(), "");
    let out = pretext(
        &[
            "pretrain",
            e.to_str().unwrap(),
            "--set",
            "train.batch_size=0",
        ],
        tmp.path(),
    );
    fails_cleanly(&out, tmp.path(), &["e.toml", "train.batch_size", "got 0"]);
}

#[test]
fn an_idx_header_that_disagrees_with_the_file_size() {
    let tmp = tempfile::tempdir().unwrap();
    // Header: magic 0x00000803, 1000 images of 28x28, but only 10 bytes of pixels.
    let mut bytes = vec![0, 0, 8, 3];
    for n in [1000u32, 28, 28] {
        bytes.extend_from_slice(&n.to_be_bytes());
    }
    bytes.extend_from_slice(&[0; 10]);
    let idx = tmp.path().join("short-idx3-ubyte");
    std::fs::write(&idx, bytes).unwrap();
    let e = experiment(tmp.path(), &idx, "");
    let out = pretext(&["pretrain", e.to_str().unwrap()], tmp.path());
    fails_cleanly(&out, tmp.path(), &["short-idx3-ubyte", "1000"]);
}

#[test]
fn a_corrupt_image_in_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("imgs");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let e = tmp.path().join("e.toml");
    std::fs::write(
        &e,
        "name = \"cli\"\n[data]\nformat = \"image_folder\"\nroot = \"imgs\"\nlabelled = false\n",
    )
    .unwrap();
    let out = pretext(&["pretrain", e.to_str().unwrap()], tmp.path());
    fails_cleanly(&out, tmp.path(), &["broken.png"]);
}

#[test]
fn runs_lists_nothing_in_an_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pretext(&["runs"], tmp.path());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no runs yet"));
}

#[test]
fn a_short_pretraining_run_reports_where_its_outputs_are() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(
        tmp.path(),
        &mnist(),
        "[encoder]\nkind = \"small_cnn\"\nwidths = [4, 8]",
    );
    let out = pretext(&["pretrain", e.to_str().unwrap()], tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("outputs in runs/cli/"), "{stdout}");
    for f in [
        "config.toml",
        "metrics.jsonl",
        "run.json",
        "checkpoint/model.bpk",
    ] {
        assert!(tmp.path().join("runs/cli").join(f).is_file(), "{f}");
    }
    // The report is written at the end of the run.
    assert!(stdout.contains("report: runs/cli/report.html"), "{stdout}");
    for f in [
        "report.html",
        "figures/training.png",
        "figures/training.svg",
    ] {
        assert!(tmp.path().join("runs/cli").join(f).is_file(), "{f}");
    }
    let listed = pretext(&["runs"], tmp.path());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("cli") && listed.contains("finished"),
        "{listed}"
    );
}

/// A run directory as `pretrain` leaves it before its first checkpoint.
fn run_without_checkpoint(dir: &Path, task: Option<&str>) -> PathBuf {
    let run = dir.join("runs/early");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("run.json"), "{}").unwrap();
    let task = task
        .map(|t| format!("task = \"{t}\"\n"))
        .unwrap_or_default();
    std::fs::write(
        run.join("config.toml"),
        format!(
            "name = \"early\"\n{task}[data]\nformat = \"idx\"\nimages = \"{}\"\n",
            mnist().display()
        ),
    )
    .unwrap();
    run
}

/// Asserts exit code 2 and one line on stderr containing every `needle`.
fn fails_with_one_line(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
}

#[test]
fn evaluating_a_run_without_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/tasks");
    let run = run_without_checkpoint(
        tmp.path(),
        Some(&tasks.join("mnist.toml").display().to_string()),
    );
    let out = pretext(&["evaluate", run.to_str().unwrap()], tmp.path());
    fails_with_one_line(&out, &["runs/early", "no checkpoint"]);
    assert!(!run.join("eval").exists(), "nothing is written");
}

#[test]
fn evaluating_a_run_that_names_no_task() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_without_checkpoint(tmp.path(), None);
    let out = pretext(&["evaluate", run.to_str().unwrap()], tmp.path());
    fails_with_one_line(&out, &["runs/early", "--task"]);
}

#[test]
fn comparing_a_run_that_was_not_evaluated() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_without_checkpoint(tmp.path(), None);
    let out = pretext(&["compare", run.to_str().unwrap()], tmp.path());
    fails_with_one_line(
        &out,
        &["runs/early", "no evaluation results", "pretext evaluate"],
    );
}

#[test]
fn reporting_a_directory_that_is_not_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pretext(&["report", "runs/nowhere"], tmp.path());
    fails_with_one_line(&out, &["runs/nowhere"]);
}

#[test]
fn reporting_a_run_without_a_checkpoint_says_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_without_checkpoint(tmp.path(), None);
    let out = pretext(&["report", run.to_str().unwrap()], tmp.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for needle in ["metrics.jsonl", "not evaluated yet", "no checkpoint"] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("Missing or unreadable"), "{html}");
}
