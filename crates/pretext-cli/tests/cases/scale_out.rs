//! Data-parallel pretraining over `pretext serve` workers on loopback: two
//! workers train as one device does at the same global batch, a worker that
//! goes away stops the run in one line with its last checkpoint intact, and
//! `--resume` continues on one device.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{
    fails_with_one_line, lines_of, mnist, pretext, runtime_dir, succeeds, write_experiment,
};

/// A `pretext serve` worker on a loopback port the OS picks; killed on drop.
pub(super) struct Worker {
    pub(super) child: Child,
    pub(super) url: String,
}

impl Worker {
    fn start() -> Self {
        Self::with_token(None)
    }

    /// A worker that serves only clients presenting `token`.
    fn with_token(token: Option<&str>) -> Self {
        Self::with(token, &[])
    }

    /// A worker started with `token` and the extra arguments `args`.
    pub(super) fn with(token: Option<&str>, args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pretext"));
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("XDG_RUNTIME_DIR", runtime_dir())
            .env_remove("PRETEXT_TOKEN");
        if let Some(token) = token {
            command.env("PRETEXT_TOKEN", token);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("pretext serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "serving flex at ws://127.0.0.1:PORT (Ctrl+C stops)"
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SimCLR on a small ViT with a projection head without batch norm: every
/// image's projection depends on that image alone, so splitting the batch
/// over devices changes nothing but the order of sums. (With batch norm each
/// device normalises its own rows, as in PyTorch's DDP.)
fn per_image_experiment(dir: &Path, epochs: usize, steps: usize) -> PathBuf {
    let toml = format!(
        r#"name = "dp"
seed = 5
[data]
format = "idx"
images = "{{images}}"
limit = 1024
[augment]
preset = "mnist"
views = 2
[encoder]
kind = "vit"
patch_size = 7
dim = 16
depth = 1
heads = 2
[method]
name = "simclr"
[method.projection]
hidden_dim = 32
out_dim = 16
batch_norm = false
[train]
epochs = {epochs}
max_steps_per_epoch = {steps}
batch_size = 64
val_fraction = 0.1
log_every = 1
"#
    );
    write_experiment(dir, "dp.toml", &toml, &mnist())
}

fn step_losses(run: &Path) -> Vec<f64> {
    lines_of(run, "step")
        .iter()
        .map(|l| l["loss"].as_f64().unwrap())
        .collect()
}

/// The test fails if negatives stayed on each worker: NT-Xent over 32 images
/// instead of 64 starts near ln(63) = 4.14 instead of ln(127) = 4.84.
#[test]
fn two_workers_train_as_one_device_does_at_the_same_global_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let e = per_image_experiment(tmp.path(), 1, 4);
    let e = e.to_str().unwrap();
    succeeds(&["pretrain", e, "--out", "one"], tmp.path());

    let (a, b) = (Worker::start(), Worker::start());
    let devices = format!("{},{}", a.url, b.url);
    let out = succeeds(
        &["pretrain", e, "--devices", &devices, "--out", "two"],
        tmp.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&devices), "{stdout}");

    let one = step_losses(&tmp.path().join("one/dp"));
    let two = step_losses(&tmp.path().join("two/dp"));
    assert_eq!(one.len(), 4);
    assert_eq!(two.len(), 4);
    for (step, (x, y)) in one.iter().zip(&two).enumerate() {
        assert!(
            (x - y).abs() <= 1e-3 * x.abs().max(1.0),
            "step {}: one device {x}, two workers {y}",
            step + 1
        );
    }
    let val = |dir: &str| {
        lines_of(&tmp.path().join(dir).join("dp"), "epoch")[0]["val_loss"]
            .as_f64()
            .unwrap()
    };
    assert!((val("one") - val("two")).abs() <= 1e-3 * val("one").abs().max(1.0));
}

#[test]
fn a_worker_that_goes_away_stops_the_run_and_resume_continues_on_one_device() {
    let tmp = tempfile::tempdir().unwrap();
    let e = per_image_experiment(tmp.path(), 3, 6);
    let e = e.to_str().unwrap();
    let (a, mut b) = (Worker::start(), Worker::start());
    let devices = format!("{},{}", a.url, b.url);
    let client = Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(["pretrain", e, "--devices", &devices, "--out", "runs"])
        .current_dir(tmp.path())
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the second worker once epoch 2 has begun.
    let run = tmp.path().join("runs/dp");
    let started = std::time::Instant::now();
    loop {
        assert!(
            started.elapsed().as_secs() < 300,
            "the run never reached epoch 2"
        );
        let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap_or_default();
        if text.contains(r#""epoch":2,"loss""#) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    b.child.kill().unwrap();
    b.child.wait().unwrap();

    // The progress lines, then one error line naming the worker.
    let out = client.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for needle in [
        "error: ",
        b.url.as_str(),
        "no longer answers",
        "the checkpoint of epoch 1 is kept",
        "--resume runs/dp",
    ] {
        assert!(errors[0].contains(needle), "{needle:?} not in {stderr}");
    }
    let status = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(status.contains(r#""state": "failed""#), "{status}");

    // The checkpoint of epoch 1 continues on this machine's CPU.
    let resumed = succeeds(&["pretrain", "--resume", "runs/dp"], tmp.path());
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(stdout.contains("finished 3 epochs"), "{stdout}");
    assert_eq!(lines_of(&run, "epoch").len(), 3);
}

#[test]
fn devices_that_cannot_be_used_are_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let e = per_image_experiment(tmp.path(), 1, 1);
    let e = e.to_str().unwrap();
    // Nothing listens on port 9 (discard) of loopback.
    let out = pretext(
        &["pretrain", e, "--devices", "flex,ws://127.0.0.1:9"],
        tmp.path(),
    );
    fails_with_one_line(&out, &["--devices: ws://127.0.0.1:9", "pretext serve"]);
    let out = pretext(&["pretrain", e, "--devices", "flex,flex"], tmp.path());
    fails_with_one_line(&out, &["flex is listed twice"]);
    let out = pretext(&["pretrain", e, "--devices", "flex,tpu"], tmp.path());
    fails_with_one_line(&out, &["--devices: tpu", "not a device"]);
    let out = pretext(&["serve", "--listen", "0.0.0.0:0"], tmp.path());
    fails_with_one_line(&out, &["PRETEXT_TOKEN"]);

    // One worker spelt two ways is one device.
    let worker = Worker::start();
    let twice = format!("{0},{0}/", worker.url);
    let out = pretext(&["pretrain", e, "--devices", &twice], tmp.path());
    fails_with_one_line(&out, &["is the same device as"]);

    // A worker with a token refuses a client without it, and serves one with it.
    let guarded = Worker::with_token(Some("s3cret"));
    let devices = format!("flex,{}", guarded.url);
    let with_token = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_pretext"))
            .args(["pretrain", e, "--devices", &devices])
            .current_dir(tmp.path())
            .env("PRETEXT_TOKEN", token)
            .output()
            .unwrap()
    };
    let out = with_token("wrong");
    fails_with_one_line(&out, &[guarded.url.as_str(), "rejected the credential"]);
    let out = with_token("s3cret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Workers with a token fetch tensors from each other only when their
/// `--peers` name each other; without it the run stops in one line that
/// says so.
#[test]
fn workers_with_a_token_serve_each_other_only_as_named_peers() {
    let tmp = tempfile::tempdir().unwrap();
    let e = per_image_experiment(tmp.path(), 1, 1);
    let e = e.to_str().unwrap();
    let pretrain = |a: &Worker, b: &Worker, out: &str| {
        Command::new(env!("CARGO_BIN_EXE_pretext"))
            .args(["pretrain", e, "--out", out, "--devices"])
            .arg(format!("{},{}", a.url, b.url))
            .current_dir(tmp.path())
            .env("XDG_RUNTIME_DIR", runtime_dir())
            .env("PRETEXT_TOKEN", "s3cret")
            .output()
            .unwrap()
    };
    let peers = ["--peers", "127.0.0.1"];
    let (a, b) = (
        Worker::with(Some("s3cret"), &peers),
        Worker::with(Some("s3cret"), &peers),
    );
    let out = pretrain(&a, &b, "named");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (
        Worker::with(Some("s3cret"), &[]),
        Worker::with(Some("s3cret"), &[]),
    );
    let out = pretrain(&a, &b, "strangers");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("--peers"), "{stderr}");
}
