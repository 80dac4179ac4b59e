//! The `pretext` binary: pretrain encoders on unlabelled images from the
//! command line, on the CPU or the GPU, chosen at run time.
//!
//! Every error ends the process with one line on stderr and exit code 2.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc keeps freed pages for reuse: with glibc's malloc, a training step
/// spent about a quarter of its time unmapping and faulting in the buffers burn
/// frees and allocates again (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its index in `mi_option_t` (mimalloc v2
/// and v3 alike; libmimalloc-sys is pinned exactly).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed pages mapped for reuse instead of returning them to the OS once
/// mimalloc's purge delay has passed. burn frees and allocates the same
/// multi-megabyte buffers every step, and faulting them in again cost 10-40%
/// of a flex training step for 10% less peak memory (docs/performance.md).
/// `MIMALLOC_PURGE_DELAY` in the environment still decides when it is set.
#[allow(unsafe_code)]
fn keep_freed_pages() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` stores one integer in mimalloc's option table;
        // it takes no pointers, and this runs first in `main`, before any thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

mod backend;
mod cmd;
mod progress;

/// Learn representations from unlabelled data.
#[derive(Debug, Parser)]
#[command(name = "pretext", version, about)]
struct Cli {
    /// The memory a command may plan for (e.g. 8G, 512M, or bytes); sizes
    /// beyond it (a model, a batch, a decoded image or file) are refused
    /// before they are allocated. Default: the memory available now.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

/// A size in bytes: a number with an optional K, M, G or T (powers of 1024,
/// an optional trailing B or iB).
fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let t = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (digits, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let value: f64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 8G, 512M or a number of bytes)"))?;
    let bytes = value * 2f64.powi(shift);
    if !(1.0..1e19).contains(&bytes) {
        return Err(format!("{text:?} is not a size of at least one byte"));
    }
    Ok(bytes as u64)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pretrain an encoder from an experiment file.
    Pretrain(cmd::pretrain::Args),
    /// Pretrain SimCLR on the bundled MNIST: the quickest way to see pretext work.
    Quickstart(cmd::quickstart::Args),
    /// Evaluate a run's encoder with few labels, against baselines.
    Evaluate(cmd::evaluate::Args),
    /// Draw a run's figures and write its self-contained report.html.
    Report(cmd::report::Args),
    /// Write a run's encoder alone (safetensors with PyTorch names, config.json).
    Export(cmd::export::Args),
    /// Embed a dataset with a run's encoder into a NumPy .npy file.
    Embed(cmd::embed::Args),
    /// Mine each pretraining image's nearest neighbours under a run's
    /// encoder, for a later run's `partners`.
    Neighbours(cmd::neighbours::Args),
    /// One table of evaluation results across runs.
    Compare(cmd::compare::Args),
    /// Pretrain and evaluate every method of a sweep under every seed, then
    /// write one comparison table and plot (e.g. experiments/compare-mnist.toml).
    Sweep(cmd::sweep::Args),
    /// List runs and where they stand.
    Runs(cmd::runs::Args),
    /// List the GPU adapters wgpu sees (for --backend wgpu --device N).
    Devices(cmd::devices::Args),
    /// Serve this machine's device to `pretext pretrain --devices ws://..`.
    Serve(cmd::serve::Args),
    /// Measure training images/s of SimCLR on each CPU backend, side by side.
    Bench(cmd::bench::Args),
}

fn main() -> ExitCode {
    keep_freed_pages();
    // A panic is a bug in pretext, not the user's fault: say so in one line.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = msg.lines().next().unwrap_or_default().to_string();
        eprintln!("error: internal error{place}: {msg} (please report this)");
    }));
    let cli = Cli::parse();
    if let Some(bytes) = cli.max_memory {
        pretext::data::memory::set_budget(bytes);
    }
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Pretrain(args) => cmd::pretrain::run(args),
        Command::Quickstart(args) => cmd::quickstart::run(args),
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Embed(args) => cmd::embed::run(args),
        Command::Neighbours(args) => cmd::neighbours::run(args),
        Command::Runs(args) => cmd::runs::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Devices(args) => cmd::devices::run(args),
        Command::Serve(args) => cmd::serve::run(args),
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(101),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-3G").is_err());
    }
}
