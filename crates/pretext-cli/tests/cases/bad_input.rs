//! The bad-input matrix: every case is a file or setting a user could give,
//! and each must end with exit code 2, one line on stderr naming the file or
//! key and the cause, and no run directory left behind.
use std::path::{Path, PathBuf};

use super::{fails_cleanly, mnist, pretext};

/// A case: prepares files in a fresh directory and returns the arguments.
struct Case {
    name: &'static str,
    setup: fn(&Path) -> Vec<String>,
    /// Each must appear in the one line of stderr.
    needles: &'static [&'static str],
}

/// Writes an experiment whose `[data]` table is `data` (plus `extra`) and
/// returns `pretrain <it>`.
pub(super) fn pretrain_with(dir: &Path, data: &str, extra: &str) -> Vec<String> {
    let path = dir.join("e.toml");
    std::fs::write(
        &path,
        format!("name = \"bad\"\n[data]\n{data}\n{extra}\n[train]\nepochs = 1\nbatch_size = 4\n"),
    )
    .unwrap();
    vec!["pretrain".into(), path.display().to_string()]
}

/// `pretrain` on MNIST with `extra` settings appended.
pub(super) fn mnist_with(dir: &Path, extra: &str) -> Vec<String> {
    let data = format!(
        "format = \"idx\"\nimages = \"{}\"\nlimit = 64",
        mnist().display()
    );
    pretrain_with(dir, &data, extra)
}

/// `pretrain` on MNIST with the command-line arguments `args` after it.
fn mnist_then(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut a = mnist_with(dir, "");
    a.extend(args.iter().map(|s| s.to_string()));
    a
}

/// An image folder `imgs/` holding `files` (name, bytes).
pub(super) fn folder(dir: &Path, files: &[(&str, Vec<u8>)]) -> Vec<String> {
    folder_with(dir, files, "")
}

/// [`folder`] with `data` lines added to the experiment's `[data]` table.
pub(super) fn folder_with(dir: &Path, files: &[(&str, Vec<u8>)], data: &str) -> Vec<String> {
    let root = dir.join("imgs");
    std::fs::create_dir_all(&root).unwrap();
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).unwrap();
    }
    pretrain_with(
        dir,
        &format!("format = \"image_folder\"\nroot = \"imgs\"\nlabelled = false\n{data}"),
        "",
    )
}

/// The committed review sentences (`datasets/reviews/train.tsv`).
fn reviews() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/reviews/train.tsv")
}

/// A skip-gram run on 200 review sentences, with a checkpoint.
fn trained_text_run(dir: &Path) -> PathBuf {
    let toml = format!(
        "name = \"words\"\n[data]\nformat = \"table\"\npath = \"{}\"\ntext_column = \"sentence\"\nlimit = 200\n[tokenizer]\nvocab_size = 300\nmax_len = 16\n[encoder]\nkind = \"bag_of_embeddings\"\nwidth = 16\n[method]\nname = \"skip_gram\"\n[train]\nepochs = 1\nbatch_size = 32\n",
        reviews().display()
    );
    pretrained(dir, "words", &toml)
}

/// A text task on the first 60 review sentences, held-out test, with `extra`
/// lines at its top level.
fn reviews_task(extra: &str) -> String {
    format!(
        "name = \"t\"\n{extra}\n[train]\nformat = \"table\"\npath = \"{}\"\ntext_column = \"sentence\"\nlabel_column = \"label\"\nlimit = 60\n",
        reviews().display()
    )
}

/// Writes `text` to `dir/task.toml` and returns `evaluate <run> --task <it>`.
fn evaluate_with_task(dir: &Path, run: &Path, text: &str) -> Vec<String> {
    let task = dir.join("task.toml");
    std::fs::write(&task, text).unwrap();
    vec![
        "evaluate".into(),
        run.display().to_string(),
        "--task".into(),
        task.display().to_string(),
    ]
}

/// Class folders `root/<class>/<i>.png`, each of `n` grey `side` x `side` PNGs.
fn class_folders(root: &Path, classes: &[&str], n: usize, side: u32) {
    for class in classes {
        let dir = root.join(class);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            std::fs::write(dir.join(format!("{i}.png")), png(side, side)).unwrap();
        }
    }
}

/// A grey PNG of `w` x `h` pixels.
pub(super) fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_pixel(w, h, image::Luma([128]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A grey JPEG of 8 x 8 pixels.
fn jpeg() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_pixel(8, 8, image::Luma([128]))
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// An IDX images header (magic 0x00000803) for `n` images of 28 x 28, then `pixels` bytes.
fn idx(dir: &Path, magic: [u8; 4], n: u32, pixels: usize) -> PathBuf {
    let mut bytes = magic.to_vec();
    for v in [n, 28, 28] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    bytes.resize(bytes.len() + pixels, 0);
    let path = dir.join("x-idx3-ubyte");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn idx_case(dir: &Path, magic: [u8; 4], n: u32, pixels: usize) -> Vec<String> {
    let path = idx(dir, magic, n, pixels);
    pretrain_with(
        dir,
        &format!("format = \"idx\"\nimages = \"{}\"", path.display()),
        "",
    )
}

/// A text experiment on `corpus.txt` (holding `bytes`) read as `format`,
/// with `extra` lines in `[data]`.
fn text_case(dir: &Path, bytes: &[u8], format: &str, extra: &str) -> Vec<String> {
    std::fs::write(dir.join("corpus.txt"), bytes).unwrap();
    pretrain_with(
        dir,
        &format!("format = \"{format}\"\npath = \"corpus.txt\"\n{extra}"),
        "",
    )
}

/// A run directory with a checkpoint, trained once per test binary.
fn trained_run(dir: &Path) -> PathBuf {
    trained_run_of(dir, "kind = \"small_cnn\"\nwidths = [4, 8]")
}

/// Like [`trained_run`], with the `[encoder]` table `encoder`.
fn trained_run_of(dir: &Path, encoder: &str) -> PathBuf {
    let toml = format!(
        "name = \"tiny\"\n[data]\nformat = \"idx\"\nimages = \"{}\"\nlimit = 64\n[encoder]\n{encoder}\n[train]\nepochs = 1\nbatch_size = 16\n",
        mnist().display()
    );
    pretrained(dir, "tiny", &toml)
}

/// Pretrains the experiment `toml`, whose name is `name`, into
/// `dir/trained/` and returns its run directory.
fn pretrained(dir: &Path, name: &str, toml: &str) -> PathBuf {
    let e = dir.join(format!("{name}.toml"));
    std::fs::write(&e, toml).unwrap();
    let out = pretext(&["pretrain", e.to_str().unwrap(), "--out", "trained"], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("trained").join(name)
}

const CASES: &[Case] = &[
    Case {
        name: "a text corpus with invalid UTF-8",
        setup: |d| text_case(d, b"a fine line\nbad \xff byte\n", "lines", ""),
        needles: &["corpus.txt", "line 2", "UTF-8"],
    },
    Case {
        name: "a text table without the label column it names",
        setup: |d| {
            text_case(
                d,
                b"text,label\n\"a, b\",1\n",
                "table",
                "text_column = \"text\"\nlabel_column = \"sentiment\"\ndelimiter = \",\"",
            )
        },
        needles: &["corpus.txt", "sentiment", "label"],
    },
    Case {
        name: "a header-less text table whose text column names a header",
        setup: |d| {
            text_case(
                d,
                b"1,a fine line\n2,another\n",
                "table",
                "header = false\ntext_column = \"text\"\ndelimiter = \",\"",
            )
        },
        needles: &["corpus.txt", "`text`", "header = false"],
    },
    Case {
        name: "a text table column position past the row's fields",
        setup: |d| {
            text_case(
                d,
                b"1,a fine line\n2,another\n",
                "table",
                "header = false\ntext_column = [2, 3]\ndelimiter = \",\"",
            )
        },
        needles: &["corpus.txt", "no column 3", "2 fields"],
    },
    Case {
        name: "a text table column at position 0",
        setup: |d| {
            text_case(
                d,
                b"text,label\na,1\n",
                "table",
                "text_column = 0\ndelimiter = \",\"",
            )
        },
        needles: &["corpus.txt", "`text_column` = 0", "count from 1"],
    },
    Case {
        name: "a text corpus of empty lines",
        setup: |d| text_case(d, b"\n  \n\n", "lines", ""),
        needles: &["corpus.txt"],
    },
    Case {
        name: "a LABEL TEXT line with no label",
        setup: |d| text_case(d, b"1 good\n bad start\n", "label_text", ""),
        needles: &["corpus.txt", "line 2"],
    },
    Case {
        name: "a zero-byte PNG",
        setup: |d| folder(d, &[("a.png", png(8, 8)), ("empty.png", Vec::new())]),
        needles: &["empty.png"],
    },
    Case {
        name: "a truncated PNG",
        setup: |d| {
            let p = png(8, 8);
            folder(
                d,
                &[("a.png", png(8, 8)), ("cut.png", p[..p.len() / 2].to_vec())],
            )
        },
        needles: &["cut.png"],
    },
    Case {
        name: "a corrupt PNG",
        setup: |d| folder(d, &[("bad.png", b"\x89PNG\r\n\x1a\nnot really".to_vec())]),
        needles: &["bad.png"],
    },
    Case {
        name: "a zero-byte JPEG",
        setup: |d| folder(d, &[("a.png", png(8, 8)), ("empty.jpg", Vec::new())]),
        needles: &["empty.jpg"],
    },
    Case {
        name: "a truncated JPEG",
        setup: |d| {
            let j = jpeg();
            folder(
                d,
                &[("a.png", png(8, 8)), ("cut.jpg", j[..j.len() / 3].to_vec())],
            )
        },
        needles: &["cut.jpg"],
    },
    Case {
        name: "a corrupt JPEG",
        setup: |d| {
            folder(
                d,
                &[("bad.jpg", b"\xff\xd8\xff\xe0garbage garbage".to_vec())],
            )
        },
        needles: &["bad.jpg"],
    },
    Case {
        name: "a text file named .png",
        setup: |d| folder(d, &[("notes.png", b"hello".to_vec())]),
        needles: &["notes.png"],
    },
    Case {
        name: "an image folder of mixed sizes",
        setup: |d| folder(d, &[("a.png", png(8, 8)), ("b.png", png(9, 8))]),
        needles: &["imgs", "size"],
    },
    Case {
        name: "an empty image folder",
        setup: |d| folder(d, &[]),
        needles: &["imgs"],
    },
    Case {
        name: "wrong IDX magic",
        setup: |d| idx_case(d, [0, 0, 8, 1], 2, 2 * 784),
        needles: &["x-idx3-ubyte", "magic"],
    },
    Case {
        name: "an IDX header claiming more images than the file holds",
        setup: |d| idx_case(d, [0, 0, 8, 3], 1000, 10),
        needles: &["x-idx3-ubyte", "1000"],
    },
    Case {
        name: "an IDX header claiming 2^31 images",
        setup: |d| idx_case(d, [0, 0, 8, 3], 1 << 31, 784),
        needles: &["x-idx3-ubyte", "2147483648"],
    },
    Case {
        name: "an IDX file with no images",
        setup: |d| idx_case(d, [0, 0, 8, 3], 0, 0),
        needles: &["x-idx3-ubyte"],
    },
    Case {
        name: "an IDX file shorter than its header",
        setup: |d| {
            std::fs::write(d.join("x-idx3-ubyte"), [0, 0, 8, 3, 0]).unwrap();
            let data = format!(
                "format = \"idx\"\nimages = \"{}\"",
                d.join("x-idx3-ubyte").display()
            );
            pretrain_with(d, &data, "")
        },
        needles: &["x-idx3-ubyte"],
    },
    Case {
        name: "label and image counts that disagree",
        setup: |d| {
            let images = idx(d, [0, 0, 8, 3], 3, 3 * 784);
            let mut labels = vec![0, 0, 8, 1];
            labels.extend_from_slice(&5u32.to_be_bytes());
            labels.extend_from_slice(&[1, 2, 3, 4, 5]);
            std::fs::write(d.join("y-idx1-ubyte"), labels).unwrap();
            let data = format!(
                "format = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"",
                images.display(),
                d.join("y-idx1-ubyte").display()
            );
            pretrain_with(d, &data, "")
        },
        needles: &["idx", "5", "3"],
    },
    Case {
        name: "a CIFAR file of the wrong length",
        setup: |d| {
            std::fs::write(d.join("data_batch_1.bin"), vec![0u8; 3073 * 2 + 100]).unwrap();
            pretrain_with(d, "format = \"cifar\"\nfiles = [\"data_batch_1.bin\"]", "")
        },
        needles: &["data_batch_1.bin", "3073"],
    },
    Case {
        name: "a missing data file",
        setup: |d| pretrain_with(d, "format = \"idx\"\nimages = \"absent.gz\"", ""),
        needles: &["absent.gz", "No such file"],
    },
    Case {
        name: "a missing experiment file",
        setup: |_| vec!["pretrain".into(), "nope.toml".into()],
        needles: &["nope.toml", "No such file"],
    },
    Case {
        name: "an experiment that is not UTF-8",
        setup: |d| {
            std::fs::write(d.join("e.toml"), b"name = \"caf\xe9\"\n").unwrap();
            vec!["pretrain".into(), d.join("e.toml").display().to_string()]
        },
        needles: &["e.toml", "UTF-8"],
    },
    Case {
        name: "a TOML syntax error",
        setup: |d| {
            std::fs::write(d.join("e.toml"), "name = \"x\"\n[data\n").unwrap();
            vec!["pretrain".into(), d.join("e.toml").display().to_string()]
        },
        needles: &["e.toml", "line 2"],
    },
    Case {
        name: "an unknown config key",
        setup: |d| mnist_with(d, "[method]\nname = \"simclr\"\ntemprature = 0.1"),
        needles: &["e.toml", "unknown field `temprature`"],
    },
    Case {
        name: "a masked autoencoder on a CNN",
        setup: |d| mnist_with(d, "[augment]\nviews = 1\n[method]\nname = \"mae\""),
        needles: &["e.toml", "mae needs encoder.kind = \"vit\""],
    },
    Case {
        name: "a ViT whose heads do not divide its width",
        setup: |d| {
            mnist_with(
                d,
                "[encoder]\nkind = \"vit\"\ndim = 30\nheads = 4\n[method]\nname = \"mae\"",
            )
        },
        needles: &["e.toml", "encoder.heads (4) must divide encoder.dim (30)"],
    },
    Case {
        name: "a BYOL predictor that cannot predict the projection",
        setup: |d| {
            mnist_with(
                d,
                "[method]\nname = \"byol\"\n[method.predictor]\nout_dim = 64",
            )
        },
        needles: &["e.toml", "method.predictor.out_dim (64) must equal"],
    },
    Case {
        name: "an unknown method",
        setup: |d| mnist_with(d, "[method]\nname = \"simclear\""),
        needles: &["e.toml", "simclear"],
    },
    Case {
        name: "a value of the wrong type",
        setup: |d| mnist_with(d, "[encoder]\nkind = \"small_cnn\"\nwidths = \"wide\""),
        needles: &["e.toml", "encoder", "\"wide\"", "expected a sequence"],
    },
    Case {
        name: "a batch size of 0",
        setup: |d| mnist_then(d, &["--set", "train.batch_size=0"]),
        needles: &["e.toml", "train.batch_size", "got 0"],
    },
    Case {
        name: "a temperature of 0",
        setup: |d| mnist_with(d, "[method]\nname = \"simclr\"\ntemperature = 0.0"),
        needles: &["e.toml", "temperature"],
    },
    Case {
        name: "a temperature of 1e-30 (a loss of 2e29)",
        setup: |d| mnist_with(d, "[method]\nname = \"simclr\"\ntemperature = 1e-30"),
        needles: &["e.toml", "method.temperature must be between 0.01 and 100"],
    },
    Case {
        name: "epochs that overflow the step count",
        setup: |d| mnist_then(d, &["--set", "train.epochs=9223372036854775807"]),
        needles: &["e.toml", "train.epochs must be at most"],
    },
    Case {
        name: "an override whose value holds a line break",
        setup: |d| mnist_then(d, &["--set", "train.epochs=1\nbatch_size=3"]),
        needles: &["--set train.epochs", "line break"],
    },
    Case {
        name: "resuming a run stopped before its first checkpoint",
        setup: |d| {
            let run = d.join("early");
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("run.json"), "{}").unwrap();
            let config = mnist_with(d, "");
            std::fs::copy(&config[1], run.join("config.toml")).unwrap();
            vec![
                "pretrain".into(),
                "--resume".into(),
                run.display().to_string(),
            ]
        },
        needles: &[
            "early",
            "nothing to resume",
            "start again with pretext pretrain",
        ],
    },
    Case {
        name: "a negative learning rate",
        setup: |d| mnist_then(d, &["--set", "train.optimizer.lr=-0.1"]),
        needles: &["e.toml", "lr"],
    },
    Case {
        name: "a validation fraction above 1",
        setup: |d| mnist_then(d, &["--set", "train.val_fraction=1.5"]),
        needles: &["e.toml", "val_fraction"],
    },
    Case {
        name: "a batch larger than the data",
        setup: |d| mnist_then(d, &["--set", "train.batch_size=1000"]),
        needles: &["train.batch_size", "1000"],
    },
    Case {
        name: "an override of an unknown key",
        setup: |d| mnist_then(d, &["--set", "train.epoks=2"]),
        needles: &["epoks"],
    },
    Case {
        name: "resuming a directory that is not a run",
        setup: |_| vec!["pretrain".into(), "--resume".into(), "runs/nowhere".into()],
        needles: &["runs/nowhere", "not a run directory"],
    },
    Case {
        name: "evaluating a checkpoint of another architecture",
        setup: |d| {
            let run = trained_run(d);
            // The run's experiment now says wider layers than its weights have.
            let config = run.join("config.toml");
            let text = std::fs::read_to_string(&config)
                .unwrap()
                .replace("4,\n    8,", "8,\n    16,");
            std::fs::write(&config, text).unwrap();
            let task = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../experiments/tasks/quickstart.toml");
            vec![
                "evaluate".into(),
                run.display().to_string(),
                "--task".into(),
                task.display().to_string(),
            ]
        },
        needles: &["model.bpk", "does not fit this architecture"],
    },
    Case {
        name: "evaluating with a task whose images do not fit the encoder",
        setup: |d| {
            let run = trained_run(d);
            class_folders(&d.join("small"), &["a", "b"], 3, 8);
            evaluate_with_task(
                d,
                &run,
                "name = \"small\"\nbudgets = [\"1/class\"]\n[train]\nformat = \"image_folder\"\nroot = \"small\"\n[test]\nformat = \"image_folder\"\nroot = \"small\"\n",
            )
        },
        needles: &["small", "1x8x8", "1x28x28"],
    },
    Case {
        name: "embedding images of another size",
        setup: |d| {
            let run = trained_run(d);
            let digits =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/digits/digits.csv.gz");
            vec![
                "embed".into(),
                run.display().to_string(),
                digits.display().to_string(),
            ]
        },
        needles: &["digits.csv.gz", "1x8x8", "1x28x28"],
    },
    Case {
        name: "embedding a file of unknown format",
        setup: |d| {
            let run = trained_run(d);
            std::fs::write(d.join("notes.txt"), "hello").unwrap();
            vec![
                "embed".into(),
                run.display().to_string(),
                "notes.txt".into(),
            ]
        },
        needles: &["notes.txt", "cannot tell the format"],
    },
    Case {
        name: "a device index without wgpu",
        setup: |d| mnist_then(d, &["--device", "1"]),
        needles: &["--device 1", "only --backend wgpu"],
    },
    // The default build has no libtorch: the line names the feature to
    // rebuild with, instead of training on something else.
    #[cfg(not(feature = "tch"))]
    Case {
        name: "libtorch in a build without it",
        setup: |d| mnist_then(d, &["--backend", "tch"]),
        needles: &["--backend tch", "--features tch"],
    },
    #[cfg(not(feature = "tch"))]
    Case {
        name: "a benchmark of libtorch in a build without it",
        setup: |_| {
            [
                "bench",
                "--backends",
                "flex,tch",
                "--batch",
                "4",
                "--steps",
                "1",
            ]
            .map(String::from)
            .to_vec()
        },
        needles: &["--backend tch", "--features tch"],
    },
    Case {
        name: "a wgpu adapter that does not exist",
        setup: |d| mnist_then(d, &["--backend", "wgpu", "--device", "9"]),
        needles: &["--device 9", "adapters", "pretext devices"],
    },
    Case {
        name: "evaluating with a test class the labelled pool lacks",
        setup: |d| {
            let run = trained_run(d);
            class_folders(&d.join("pool"), &["a", "b"], 4, 28);
            class_folders(&d.join("test"), &["a", "c"], 4, 28);
            evaluate_with_task(
                d,
                &run,
                "name = \"t\"\nbudgets = [\"1/class\"]\n[train]\nformat = \"image_folder\"\nroot = \"pool\"\n[test]\nformat = \"image_folder\"\nroot = \"test\"\n",
            )
        },
        needles: &["test", "class `c` is not among the 2 classes `a`, `b`"],
    },
    Case {
        name: "an image folder whose exclude names no class folder",
        setup: |d| {
            class_folders(&d.join("imgs"), &["a", "b"], 1, 8);
            pretrain_with(
                d,
                "format = \"image_folder\"\nroot = \"imgs\"\nexclude = [\"BACKGROUND_Google\"]",
                "",
            )
        },
        needles: &["imgs", "`exclude` names `BACKGROUND_Google`", "`a`, `b`"],
    },
    Case {
        name: "an image task whose test_fraction is outside (0, 1)",
        setup: |d| {
            let run = trained_run(d);
            evaluate_with_task(
                d,
                &run,
                &format!(
                    "name = \"t\"\ntest_fraction = 1.5\n[train]\nformat = \"idx\"\nimages = \"{}\"\n",
                    mnist().display()
                ),
            )
        },
        needles: &[
            "task.toml",
            "test_fraction must be above 0 and below 1, got 1.5",
        ],
    },
    Case {
        name: "a monitor that scores every 0 epochs",
        setup: |d| mnist_with(d, "[monitor]\nevery = 0"),
        needles: &["e.toml", "monitor.every must be at least 1, got 0"],
    },
    Case {
        name: "a monitor slice larger than the labelled pool",
        setup: |d| {
            let labels = mnist().with_file_name("train-labels-idx1-ubyte.gz");
            let data = format!(
                "format = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"\nlimit = 64",
                mnist().display(),
                labels.display()
            );
            pretrain_with(d, &data, "[monitor]\nsize = 1000")
        },
        needles: &["monitor.size (1000)", "validation split", "6 images"],
    },
    Case {
        name: "a labelled image folder with one class",
        setup: |d| {
            class_folders(&d.join("imgs"), &["cats"], 4, 8);
            pretrain_with(d, "format = \"image_folder\"\nroot = \"imgs\"", "")
        },
        needles: &["imgs", "holds one class folder (cats)"],
    },
    Case {
        name: "k-means with more centroids than patches",
        setup: |d| {
            let run = trained_run(d);
            evaluate_with_task(
                d,
                &run,
                &format!(
                    "name = \"t\"\nbaselines = [\"kmeans\"]\n[train]\nformat = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"\n[kmeans]\ncentroids = 500\npatches = 100\n",
                    mnist().display(),
                    mnist()
                        .with_file_name("train-labels-idx1-ubyte.gz")
                        .display()
                ),
            )
        },
        needles: &[
            "task.toml",
            "kmeans.centroids (500) is larger than kmeans.patches (100)",
        ],
    },
    Case {
        name: "LSA with more dimensions than the pool's documents",
        setup: |d| {
            let run = trained_text_run(d);
            evaluate_with_task(
                d,
                &run,
                &reviews_task(
                    "budgets = [\"all\"]\nbaselines = [\"lsa\"]\nheads = [\"linear\"]\n[lsa]\ndims = 500",
                ),
            )
        },
        needles: &[
            "task.toml",
            "lsa.dims = 500 is more than the pool gives: 48 documents",
        ],
    },
    Case {
        name: "LSA with no dimensions",
        setup: |d| {
            let run = trained_text_run(d);
            evaluate_with_task(d, &run, &reviews_task("[lsa]\ndims = 0"))
        },
        needles: &["task.toml", "lsa.dims must be at least 1, got 0"],
    },
    Case {
        name: "a quadrant readout of an encoder without a feature map",
        setup: |d| {
            let run = trained_run_of(d, "kind = \"mlp\"\nhidden = [16]");
            evaluate_with_task(
                d,
                &run,
                &format!(
                    "name = \"t\"\n[readout]\ngrid = 2\n[train]\nformat = \"idx\"\nimages = \"{}\"\nlabels = \"{}\"\nlimit = 100\n",
                    mnist().display(),
                    mnist()
                        .with_file_name("train-labels-idx1-ubyte.gz")
                        .display()
                ),
            )
        },
        needles: &["task.toml", "[readout]", "mlp encoder has no feature map"],
    },
    Case {
        name: "embedding a folder of one class folder",
        setup: |d| {
            let run = trained_run(d);
            class_folders(&d.join("one"), &["cats"], 2, 28);
            vec![
                "embed".into(),
                run.display().to_string(),
                "one".into(),
                "--out".into(),
                "e.npy".into(),
            ]
        },
        // Advice in command-line words: embed has no `labelled` key.
        needles: &["one", "one class folder (cats)", "give one/cats itself"],
    },
    Case {
        name: "exporting a directory that is not a run",
        setup: |_| vec!["export".into(), "runs/nowhere".into()],
        needles: &["runs/nowhere", "not a run directory"],
    },
];

/// Files a failed command must not leave: temporaries and evaluation output.
fn half_written(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with("tmp") || name == "eval" {
                found.push(path.clone());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}

#[test]
fn every_bad_input_is_one_line_and_exit_2() {
    assert!(CASES.len() >= 25, "the matrix has {} cases", CASES.len());
    let mut failures = Vec::new();
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let args = (case.setup)(tmp.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = pretext(&args, tmp.path());
        let result = std::panic::catch_unwind(|| {
            fails_cleanly(&out, tmp.path(), case.needles);
            let leftovers = half_written(tmp.path());
            assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
        });
        if result.is_err() {
            failures.push(format!(
                "{}: exit {:?}, stderr: {}",
                case.name,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
