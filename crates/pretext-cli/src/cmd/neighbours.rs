//! `pretext neighbours <run> [--k 10]`: each pretraining image's nearest
//! neighbours under the run's encoder, written to `<run>/neighbours.bin` for
//! a later run's `partners` setting.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use pretext::eval::mine_neighbours;

use crate::backend::Compute;

/// Arguments of `pretext neighbours`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (e.g. `runs/nnclr-mnist-long`).
    pub run: PathBuf,
    /// Neighbours kept per image.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let device = args.compute.open()?.device;
    let start = Instant::now();
    let mined = mine_neighbours(&args.run, args.k, &device)?;
    let agreement = match mined.label_agreement {
        Some(a) => format!("; {:.1}% share their image's label", 100.0 * a),
        None => String::new(),
    };
    println!(
        "{} neighbours of each of {} images in {:.0} s{agreement}\nwrote {} (use it with partners = \"{}\" in an experiment)",
        mined.partners.k(),
        mined.partners.len(),
        start.elapsed().as_secs_f64(),
        mined.path.display(),
        mined.path.display()
    );
    Ok(())
}
