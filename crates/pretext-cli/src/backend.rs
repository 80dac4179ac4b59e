//! The one place that names concrete backends: `--backend flex|ndarray|wgpu`
//! becomes a burn `Device`.
use anyhow::{Context, Result, anyhow};
use burn::tensor::Device;
use clap::ValueEnum;

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (the default: fastest on CPU).
    Flex,
    /// burn's ndarray CPU backend.
    Ndarray,
    /// The GPU through wgpu (Vulkan, Metal or DirectX).
    Wgpu,
}

impl Backend {
    /// The name written into run records.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }

    /// The inference device of this backend; the training loop takes its
    /// autodiff twin. For wgpu this acquires the adapter now, so a machine
    /// without one gets a clear error instead of a panic on first use.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[allow(deprecated)] // ndarray is deprecated upstream but still offered
            Backend::Ndarray => Ok(Device::ndarray()),
            Backend::Wgpu => Device::wgpu_options()
                .init()
                .map_err(|e| anyhow!("{}", e))
                .context(
                    "--backend wgpu: no usable GPU adapter (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers, or use --backend flex)",
                ),
        }
    }
}
