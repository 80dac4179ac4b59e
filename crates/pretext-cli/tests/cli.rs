//! The `pretext` binary as a user meets it: bad input ends with one line on
//! stderr naming the file or key and the cause, exit code 2, and no run
//! directory left behind. (This binary only spawns processes, so it does not
//! link burn.)
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "cases/bad_input.rs"]
mod bad_input;
#[path = "cases/scale_out.rs"]
mod scale_out;
#[path = "cases/serve_guard.rs"]
mod serve_guard;
#[path = "cases/sizes.rs"]
mod sizes;

fn pretext(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(args)
        .current_dir(cwd)
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .output()
        .expect("the pretext binary runs")
}

/// A private (0700) runtime directory, so Mesa's Vulkan driver does not warn
/// on stderr when a command opens wgpu, whatever the environment.
fn runtime_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pretext-xdg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// Runs `pretext args` in `cwd` and asserts it succeeded.
fn succeeds(args: &[&str], cwd: &Path) -> Output {
    let out = pretext(args, cwd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mnist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist/train-images-idx3-ubyte.gz")
}

/// Writes the experiment `toml` to `dir/file`, its `{images}` standing for
/// `images`, and returns the file's path.
fn write_experiment(dir: &Path, file: &str, toml: &str, images: &Path) -> PathBuf {
    let path = dir.join(file);
    let text = toml.replace("{images}", &images.display().to_string());
    std::fs::write(&path, text).unwrap();
    path
}

/// A small valid experiment reading `images`, with `extra` appended.
fn experiment(dir: &Path, images: &Path, extra: &str) -> PathBuf {
    let toml = format!(
        "name = \"cli\"\n[data]\nformat = \"idx\"\nimages = \"{{images}}\"\nlimit = 96\n{extra}\n[train]\nepochs = 1\nbatch_size = 16\n"
    );
    write_experiment(dir, "e.toml", &toml, images)
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
    // The encoder alone, and embeddings as NumPy arrays.
    succeeds(&["export", "runs/cli"], tmp.path());
    for f in ["export/encoder.safetensors", "export/config.json"] {
        assert!(tmp.path().join("runs/cli").join(f).is_file(), "{f}");
    }
    let test_images = mnist().with_file_name("t10k-images-idx3-ubyte.gz");
    succeeds(
        &[
            "embed",
            "runs/cli",
            test_images.to_str().unwrap(),
            "--out",
            "e.npy",
        ],
        tmp.path(),
    );
    let header = |f: &str| {
        let bytes = std::fs::read(tmp.path().join(f)).unwrap();
        String::from_utf8_lossy(&bytes[10..128.min(bytes.len())]).to_string()
    };
    assert!(
        header("e.npy").contains("'descr': '<f4'")
            && header("e.npy").contains("'shape': (10000, 8)"),
        "{}",
        header("e.npy")
    );
    assert!(
        header("labels.npy").contains("'descr': '<i8'")
            && header("labels.npy").contains("'shape': (10000,)")
    );

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

/// A SimCLR experiment small enough for ndarray, logging every step.
fn resumable(dir: &Path) -> PathBuf {
    const TOML: &str = r#"name = "resumable"
seed = 3
[data]
format = "idx"
images = "{images}"
limit = 960
[augment]
preset = "mnist"
views = 2
[encoder]
kind = "small_cnn"
widths = [4, 8]
[method]
name = "simclr"
[train]
epochs = 3
batch_size = 32
val_fraction = 0.2
log_every = 1
"#;
    write_experiment(dir, "resumable.toml", TOML, &mnist())
}

/// The metrics lines of `kind` in a run's log, as JSON.
fn lines_of(run: &Path, kind: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == kind)
        .collect()
}

#[test]
fn a_run_killed_mid_epoch_resumes_to_the_losses_of_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let e = resumable(tmp.path());
    let e = e.to_str().unwrap();
    succeeds(
        &["pretrain", e, "--backend", "ndarray", "--out", "whole"],
        tmp.path(),
    );

    // The same run, killed (SIGKILL) once it is into its second epoch.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(["pretrain", e, "--backend", "ndarray", "--out", "cut"])
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let run = tmp.path().join("cut/resumable");
    let started = std::time::Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            started.elapsed().as_secs() < 300,
            "the run never reached epoch 2"
        );
        let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap_or_default();
        if text.contains(r#""kind":"step","step":"#) && text.contains(r#""epoch":2,"loss""#) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // While it trains, a second process may not touch the run.
    let resume = [
        "pretrain",
        "--resume",
        "cut/resumable",
        "--backend",
        "ndarray",
    ];
    let busy = pretext(&resume, tmp.path());
    child.kill().unwrap();
    child.wait().unwrap();
    fails_with_one_line(&busy, &["cut/resumable", "another pretext process"]);
    // run.json still says running; no process holds the lock, so the run
    // reads as interrupted.
    let status = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(status.contains(r#""state": "running""#), "{status}");
    let listed = succeeds(&["runs", "--out", "cut"], tmp.path());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("resumable") && listed.contains("interrupted"),
        "{listed}"
    );

    succeeds(&resume, tmp.path());
    let (a, b) = (
        lines_of(&tmp.path().join("whole/resumable"), "epoch"),
        lines_of(&run, "epoch"),
    );
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 3, "one line per epoch, none repeated");
    for (x, y) in a.iter().zip(&b) {
        for key in ["train_loss", "val_loss", "embedding_std"] {
            let (x, y) = (x[key].as_f64().unwrap(), y[key].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-5,
                "{key}: uninterrupted {x}, resumed {y}"
            );
        }
    }
    let steps: Vec<u64> = lines_of(&run, "step")
        .iter()
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    let whole_steps: Vec<u64> = lines_of(&tmp.path().join("whole/resumable"), "step")
        .iter()
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    assert_eq!(
        steps, whole_steps,
        "the interrupted epoch's lines are replaced, not repeated"
    );

    // A finished run has nothing to resume; a resumed run takes no --set.
    let again = pretext(&["pretrain", "--resume", "cut/resumable"], tmp.path());
    fails_with_one_line(&again, &["already completed all 3 epochs"]);
    let set = pretext(
        &[
            "pretrain",
            "--resume",
            "cut/resumable",
            "--set",
            "train.epochs=5",
        ],
        tmp.path(),
    );
    fails_with_one_line(&set, &["--set cannot change a resumed run"]);
}

#[test]
fn a_kill_between_checkpoint_and_log_loses_no_epoch_line() {
    let tmp = tempfile::tempdir().unwrap();
    let e = resumable(tmp.path());
    let killed = Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(["pretrain", e.to_str().unwrap(), "--backend", "ndarray"])
        .current_dir(tmp.path())
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .env("PRETEXT_KILL_AFTER_CHECKPOINT", "2")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    let run = tmp.path().join("runs/resumable");
    let epochs = |run: &Path| -> Vec<u64> {
        lines_of(run, "epoch")
            .iter()
            .map(|v| v["epoch"].as_u64().unwrap())
            .collect()
    };
    // Epoch 2's checkpoint is in place, its line is not.
    assert_eq!(epochs(&run), [1]);
    let state = std::fs::read_to_string(run.join("checkpoint/state.json")).unwrap();
    assert!(state.contains(r#""epoch": 2"#), "{state}");

    succeeds(&["pretrain", "--resume", "runs/resumable"], tmp.path());
    assert_eq!(epochs(&run), [1, 2, 3], "every epoch's line, once");
    let lines = lines_of(&run, "epoch");
    assert!(lines[1]["train_loss"].as_f64().unwrap().is_finite());
    let listed = succeeds(&["runs"], tmp.path());
    assert!(String::from_utf8_lossy(&listed.stdout).contains("finished"));
}

#[test]
fn a_damaged_latest_checkpoint_is_used_with_a_warning_and_strict_refuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let e = resumable(tmp.path());
    succeeds(&["pretrain", e.to_str().unwrap()], tmp.path());
    let model = tmp.path().join("runs/resumable/checkpoint/model.bpk");
    let mut bytes = std::fs::read(&model).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&model, bytes).unwrap();
    let warned = |out: &Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning: ")
                && stderr.contains("model.bpk")
                && stderr.contains("using the previous checkpoint (epoch 2)"),
            "{stderr}"
        );
    };
    let test_images = mnist().with_file_name("t10k-images-idx3-ubyte.gz");
    let test_images = test_images.to_str().unwrap();

    warned(&succeeds(
        &["export", "runs/resumable", "--out", "x"],
        tmp.path(),
    ));
    let config = std::fs::read_to_string(tmp.path().join("x/config.json")).unwrap();
    assert!(config.contains("checkpoint.prev"), "{config}");
    let strict = pretext(
        &["export", "runs/resumable", "--out", "y", "--strict"],
        tmp.path(),
    );
    fails_with_one_line(&strict, &["model.bpk", "refused (strict)"]);
    assert!(!tmp.path().join("y").exists(), "nothing is written");

    let embed = ["embed", "runs/resumable", test_images, "--out", "e.npy"];
    warned(&succeeds(&embed, tmp.path()));
    for f in ["e.npy", "labels.npy"] {
        std::fs::remove_file(tmp.path().join(f)).unwrap();
    }
    let strict = pretext(&[&embed[..], &["--strict"]].concat(), tmp.path());
    fails_with_one_line(&strict, &["model.bpk", "refused (strict)"]);
    assert!(!tmp.path().join("e.npy").exists(), "nothing is written");

    // Labels never overwrite the embeddings.
    let clash = pretext(
        &[
            "embed",
            "runs/resumable",
            test_images,
            "--out",
            "labels.npy",
        ],
        tmp.path(),
    );
    fails_with_one_line(&clash, &["--out labels.npy", "--labels-out"]);
    assert!(!tmp.path().join("labels.npy").exists());
    // A labels folder that does not exist is refused before the embeddings
    // are written, and the message names the file once.
    let nowhere = pretext(
        &[
            "embed",
            "runs/resumable",
            test_images,
            "--out",
            "e2.npy",
            "--labels-out",
            "nodir/l.npy",
        ],
        tmp.path(),
    );
    fails_with_one_line(
        &nowhere,
        &[
            "--labels-out nodir/l.npy",
            "the folder nodir does not exist",
        ],
    );
    let stderr = String::from_utf8_lossy(&nowhere.stderr);
    assert_eq!(stderr.matches("nodir/l.npy").count(), 1, "{stderr}");
    assert!(!tmp.path().join("e2.npy").exists(), "nothing is written");
    // A write that fails names its file once (it used to say it twice).
    std::fs::create_dir(tmp.path().join("adir")).unwrap();
    let folder = pretext(
        &["embed", "runs/resumable", test_images, "--out", "adir"],
        tmp.path(),
    );
    // (This run's damaged checkpoint earns the warning line before it.)
    let stderr = String::from_utf8_lossy(&folder.stderr);
    assert_eq!(folder.status.code(), Some(2), "{stderr}");
    let error = stderr.lines().last().unwrap_or_default();
    assert!(
        error.starts_with("error: ") && error.contains("Is a directory"),
        "{stderr}"
    );
    assert_eq!(error.matches("adir").count(), 1, "{stderr}");
    succeeds(
        &[
            "embed",
            "runs/resumable",
            test_images,
            "--out",
            "labels.npy",
            "--labels-out",
            "classes.npy",
        ],
        tmp.path(),
    );
    let header = |f: &str| {
        let bytes = std::fs::read(tmp.path().join(f)).unwrap();
        String::from_utf8_lossy(&bytes[10..128.min(bytes.len())]).to_string()
    };
    assert!(header("labels.npy").contains("'descr': '<f4'"));
    assert!(header("classes.npy").contains("'descr': '<i8'"));
}

#[test]
fn a_diverging_run_stops_at_the_step_and_says_what_it_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(
        tmp.path(),
        &mnist(),
        "[method]\nname = \"autoencoder\"\nloss = \"mse\"\n[encoder]\nkind = \"small_cnn\"\nwidths = [4, 8]",
    );
    let out = pretext(
        &[
            "pretrain",
            e.to_str().unwrap(),
            "--set",
            "train.optimizer.kind=\"sgd\"",
            "--set",
            "train.optimizer.lr=1e12",
        ],
        tmp.path(),
    );
    // The run had started (its plan is on stderr); the error is the last line.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    for n in [
        "error: the loss became",
        "at step",
        "(epoch 1)",
        "no checkpoint was written yet",
        "train.optimizer.lr",
    ] {
        assert!(last.contains(n), "{n:?} not in {last}");
    }
    let status = std::fs::read_to_string(tmp.path().join("runs/cli/run.json")).unwrap();
    assert!(
        status.contains(r#""state": "failed""#) && status.contains("the loss became"),
        "{status}"
    );
}

#[test]
fn a_disk_that_fills_while_a_checkpoint_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let e = experiment(
        tmp.path(),
        &mnist(),
        "[encoder]\nkind = \"small_cnn\"\nwidths = [4, 8]",
    );
    // Files may grow to 200 KiB: the log and run files fit, the weights do not.
    // (SIGXFSZ is ignored so the write fails with EFBIG, as on a full disk.)
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 400; exec {} pretrain {}",
            env!("CARGO_BIN_EXE_pretext"),
            e.display()
        ))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("checkpoint.tmp/model.bpk"),
        "{last}"
    );
    assert!(last.contains("too large"), "{last}");
    let run = tmp.path().join("runs/cli");
    for gone in ["checkpoint", "checkpoint.tmp", "checkpoint.prev"] {
        assert!(!run.join(gone).exists(), "{gone} left behind");
    }
    let status = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(status.contains(r#""state": "failed""#), "{status}");
}

#[test]
fn a_sweep_pretrains_and_evaluates_every_member_once_and_compares_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = mnist().parent().unwrap().to_path_buf();
    let file = |name: &str| data.join(name).display().to_string();
    std::fs::write(
        dir.join("task.toml"),
        format!(
            "name = \"tiny\"\nbudgets = [\"1/class\"]\nseeds = 1\nheads = [\"knn\"]\nbaselines = []\n\
             [knn]\nk = [5]\n\
             [train]\nformat = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"\nlimit = 200\n\
             [test]\nformat = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"\nlimit = 100\n",
            file("train-images-idx3-ubyte.gz"),
            file("train-labels-idx1-ubyte.gz"),
            file("t10k-images-idx3-ubyte.gz"),
            file("t10k-labels-idx1-ubyte.gz"),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("base.toml"),
        format!(
            "name = \"base\"\ntask = \"task.toml\"\n[data]\nformat = \"idx\"\nimages = \"{}\"\nlimit = 64\n\
             [augment]\npreset = \"mnist\"\nviews = 2\n[encoder]\nkind = \"small_cnn\"\nwidths = [8]\n\
             [method]\nname = \"simclr\"\n[train]\nepochs = 3\nbatch_size = 32\n",
            mnist().display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("sweep.toml"),
        "name = \"cmp\"\nexperiment = \"base.toml\"\nseeds = [1, 2]\nset = [\"train.epochs=1\"]\n\
         [methods.simclr]\nname = \"simclr\"\n[methods.vae]\nname = \"vae\"\n",
    )
    .unwrap();
    let out = succeeds(&["sweep", "sweep.toml", "--out", "runs"], dir);
    let table = std::fs::read_to_string(dir.join("runs/cmp/comparison.md")).unwrap();
    assert!(
        table.contains("| simclr") && table.contains("| vae"),
        "{table}"
    );
    assert!(table.contains("knn-5 @ 1/class"), "{table}");
    // The table names the task it was scored on, not "test" for any task.
    assert!(table.contains("on the scored set of task tiny"), "{table}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("mean ± std over 2 pretraining seeds"));
    for f in ["comparison.json", "comparison.png", "comparison.svg"] {
        assert!(dir.join("runs/cmp").join(f).is_file(), "{f}");
    }
    for run in ["simclr-seed1", "simclr-seed2", "vae-seed1", "vae-seed2"] {
        assert!(
            dir.join("runs/cmp")
                .join(run)
                .join("eval/tiny/results.json")
                .is_file(),
            "{run}"
        );
    }
    // Again: nothing is trained or evaluated twice.
    let again = succeeds(&["sweep", "sweep.toml", "--out", "runs"], dir);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.matches("pretrained already").count(), 4, "{stderr}");
    assert_eq!(stderr.matches("evaluated already").count(), 4, "{stderr}");
}

#[test]
fn the_text_experiment_pretrains_and_evaluates_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let experiment = root.join("experiments/simcse-reviews.toml");
    let out = succeeds(
        &[
            "pretrain",
            experiment.to_str().unwrap(),
            "--set",
            "data.limit=400",
            "--set",
            "tokenizer.vocab_size=500",
            "--set",
            "tokenizer.max_len=8",
            "--set",
            "encoder.width=32",
            "--set",
            "train.epochs=1",
            "--set",
            "train.batch_size=32",
            "--set",
            "train.val_fraction=0.1",
        ],
        tmp.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("outputs in runs/simcse-reviews/"),
        "{stdout}"
    );
    // Sentences longer than 8 tokens are truncated and counted, not refused.
    assert!(
        stderr.contains("truncated") && stderr.contains("tokenizer.max_len = 8"),
        "{stderr}"
    );
    assert!(
        tmp.path()
            .join("runs/simcse-reviews/tokenizer.json")
            .is_file()
    );
    let task = root.join("experiments/tasks/reviews.toml");
    let out = succeeds(
        &[
            "evaluate",
            "runs/simcse-reviews",
            "--task",
            task.to_str().unwrap(),
            "--set",
            "train.limit=200",
            "--set",
            "test.limit=100",
            "--set",
            "budgets=[\"8/class\"]",
            "--set",
            "seeds=1",
            "--set",
            "baselines=[\"tfidf\"]",
        ],
        tmp.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("pretrained + linear") && stdout.contains("tf-idf + linear"),
        "{stdout}"
    );
    assert!(
        tmp.path()
            .join("runs/simcse-reviews/eval/reviews/results.json")
            .is_file()
    );

    // Embeddings of labelled lines, as NumPy arrays.
    std::fs::write(
        tmp.path().join("reviews.txt"),
        "1 a gorgeous , witty movie .\n0 dull and far too long .\n1 a delight .\n",
    )
    .unwrap();
    let out = succeeds(
        &[
            "embed",
            "runs/simcse-reviews",
            "reviews.txt",
            "--labelled",
            "--out",
            "texts.npy",
        ],
        tmp.path(),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 embeddings of dimension 32"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let header = |f: &str| {
        let bytes = std::fs::read(tmp.path().join(f)).unwrap();
        String::from_utf8_lossy(&bytes[10..100.min(bytes.len())]).to_string()
    };
    assert!(header("texts.npy").contains("'shape': (3, 32)"));
    assert!(header("labels.npy").contains("'shape': (3,)"));
    // A table without its text column named is refused in one line.
    std::fs::write(tmp.path().join("t.tsv"), "sentence\tlabel\nfine .\t1\n").unwrap();
    let out = pretext(&["embed", "runs/simcse-reviews", "t.tsv"], tmp.path());
    fails_with_one_line(&out, &["t.tsv: a table needs --text-column"]);
}

/// A shipped experiment whose data the repository cannot ship, run where that
/// data is absent, ends with one line naming the dataset, the path and the
/// page that says where it comes from, and writes no run.
#[test]
fn a_shipped_experiment_without_its_external_data_says_which_dataset_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // A copy two folders deep, so that its `../../shared/datasets` is
    // inside the temporary folder, where nothing is.
    let dir = tmp.path().join("a/experiments");
    std::fs::create_dir_all(dir.join("tasks")).unwrap();
    for file in ["simcse-sst2.toml", "tasks/sst2.toml"] {
        std::fs::copy(root.join("experiments").join(file), dir.join(file)).unwrap();
    }
    let out = pretext(&["pretrain", "a/experiments/simcse-sst2.toml"], tmp.path());
    fails_with_one_line(
        &out,
        &[
            "SST-2 phrases: not found at",
            "text/sst2-phrases/train.tsv",
            "see docs/guide/data.md",
        ],
    );
    assert!(!tmp.path().join("runs").exists(), "a run was written");
}

/// Every workload of `pretext bench` runs and prints a rate, and its networks
/// have the parameter counts of their PyTorch twins in `bench/pytorch_bench.py`
/// (which prints them as `# params N (... burn's num_params counts: M)`): a
/// change to a default encoder or head must change the twin too.
#[test]
fn bench_runs_every_workload_with_the_networks_of_its_pytorch_twin() {
    let dir = tempfile::tempdir().unwrap();
    let out = succeeds(
        &[
            "bench",
            "--workload",
            "simclr-cnn,resnet18,autoencoder,embed,pipeline",
            "--backends",
            "flex",
            "--batch",
            "4",
            "--steps",
            "1",
            "--warmup",
            "0",
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("flex "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let params: Vec<&str> = rows.iter().map(|r| r[4]).collect();
    assert_eq!(params, ["227104", "11508800", "1067041", "93344"], "{text}");
    for row in &rows {
        let rate: f64 = row[2].parse().unwrap();
        assert!(rate > 0.0, "{text}");
    }
    for workload in [
        "simclr-cnn:",
        "resnet18:",
        "autoencoder:",
        "embed:",
        "pipeline:",
    ] {
        assert!(text.contains(workload), "no {workload} in\n{text}");
    }
    assert!(text.contains("augmented views/s"), "{text}");
}
