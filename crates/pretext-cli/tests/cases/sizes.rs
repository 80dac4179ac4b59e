//! Sizes that cannot fit are refused before they are allocated: each case
//! ends with exit 2 and one line naming the key or file and the estimate,
//! not with an abort (exit 134) and a backtrace. Every case runs under
//! `ulimit -v` (4 GiB of address space), so a guard that fails cannot hurt
//! the machine, and with `--max-memory 1G`, so the figures do not depend on
//! what the machine has free.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use super::bad_input::{folder, folder_with, mnist_with, png, pretrain_with};
use super::{fails_cleanly, runtime_dir};

/// `pretext --max-memory 1G <args>` in `dir`, under a 4 GiB `ulimit -v`.
fn limited(dir: &Path, args: &[String]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$0\" --max-memory 1G \"$@\"")
        .arg(env!("CARGO_BIN_EXE_pretext"))
        .args(args)
        .current_dir(dir)
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .output()
        .expect("sh runs")
}

/// A grey PNG of `side` x `side` zeros, written row by row: 20,000 x 20,000
/// is about 400 KB on disk and 400 MB decoded.
fn huge_png(side: u32) -> Vec<u8> {
    let mut idat = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let row = vec![0u8; side as usize + 1];
    for _ in 0..side {
        idat.write_all(&row).unwrap();
    }
    let idat = idat.finish().unwrap();
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A case: its name, what it writes and the arguments it runs, and the
/// needles its one line must hold.
type SizeCase = (
    &'static str,
    Box<dyn Fn(&Path) -> Vec<String>>,
    Vec<&'static str>,
);

#[test]
fn sizes_beyond_the_memory_budget_are_refused_before_allocating() {
    let cases: Vec<SizeCase> = vec![
        (
            "two convolutions of 100,000 channels",
            Box::new(|d| {
                mnist_with(
                    d,
                    "[encoder]\nkind = \"small_cnn\"\nwidths = [100000, 100000]",
                )
            }),
            vec!["[encoder]", "needs about", "--max-memory"],
        ),
        (
            "a width of 10^12",
            Box::new(|d| {
                mnist_with(
                    d,
                    "[encoder]\nkind = \"small_cnn\"\nwidths = [1000000000000]",
                )
            }),
            vec!["[encoder]", "needs about"],
        ),
        (
            "a projection of 10^9",
            Box::new(|d| {
                mnist_with(
                    d,
                    "[method]\nname = \"simclr\"\n[method.projection]\nhidden_dim = 1000000000\nout_dim = 64",
                )
            }),
            vec!["[method]", "needs about"],
        ),
        (
            "a MoCo queue of 10^10",
            Box::new(|d| mnist_with(d, "[method]\nname = \"moco\"\nqueue_size = 10000000000")),
            vec!["[method]", "needs about"],
        ),
        (
            "images resized to 100,000 x 100,000",
            Box::new(|d| folder_with(d, &[("a.png", png(8, 8))], "size = [100000, 100000]")),
            vec!["imgs", "`size`", "needs about"],
        ),
        (
            "four 20,000 x 20,000 PNGs",
            Box::new(|d| {
                let big = huge_png(20_000);
                let files = ["a.png", "b.png", "c.png", "d.png"].map(|n| (n, big.clone()));
                folder(d, &files)
            }),
            vec!["a.png", "20000x20000", "decoding it needs about"],
        ),
        (
            "a digits .csv.gz that unpacks to 1.2 GB",
            Box::new(|d| {
                let path = d.join("digits.csv.gz");
                let file = std::fs::File::create(&path).unwrap();
                let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
                let row = [b"0,".repeat(64), b"1\n".to_vec()].concat();
                let block = row.repeat(8192);
                for _ in 0..(1_200_000_000 / block.len()) {
                    gz.write_all(&block).unwrap();
                }
                gz.finish().unwrap();
                pretrain_with(d, "format = \"digits_csv\"\npath = \"digits.csv.gz\"", "")
            }),
            vec!["digits.csv.gz", "unpacking the file needs about"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, setup, needles) in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let args = setup(tmp.path());
        let out = limited(tmp.path(), &args);
        let result = std::panic::catch_unwind(|| fails_cleanly(&out, tmp.path(), needles));
        if result.is_err() {
            failures.push(format!(
                "{name}: exit {:?}, stderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
