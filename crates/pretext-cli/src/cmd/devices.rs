//! `pretext devices`: the GPU adapters wgpu sees, numbered for `--device N`.
use anyhow::Result;

use crate::backend::adapters;

/// Arguments of `pretext devices`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    let found = adapters();
    if found.is_empty() {
        println!(
            "no GPU adapters: --backend wgpu needs a driver (without a GPU, Debian's mesa-vulkan-drivers gives a software one)"
        );
        return Ok(());
    }
    println!(
        "{:<4} {:<40} {:<14} {:<8} driver",
        "N", "adapter", "type", "api"
    );
    for (i, a) in found.iter().enumerate() {
        println!(
            "{:<4} {:<40} {:<14} {:<8} {}",
            i,
            a.name,
            format!("{:?}", a.device_type),
            format!("{:?}", a.backend),
            a.driver_info
        );
    }
    println!(
        "--backend wgpu uses the first discrete GPU, else the best other adapter; --device N picks one"
    );
    Ok(())
}
