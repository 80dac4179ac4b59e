//! The one place that names concrete backends: `--backend flex|ndarray|wgpu`
//! becomes a burn `Device`.
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail};
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};
use clap::ValueEnum;

/// Where to compute: `--backend` and, for wgpu, `--device N`. Every command
/// that computes flattens this into its arguments.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Compute {
    /// Where to compute.
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
    /// With `--backend wgpu`: the adapter, by its number in `pretext devices`
    /// (default: the first discrete GPU, else the best other adapter).
    #[arg(long, value_name = "N")]
    pub device: Option<usize>,
}

impl Compute {
    /// The inference device (see [`Backend::device_at`]).
    pub fn device(self) -> Result<Device> {
        self.backend.device_at(self.device)
    }

    /// The backend's name, as run records hold it.
    pub fn name(self) -> &'static str {
        self.backend.name()
    }
}

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
        self.device_at(None)
    }

    /// As [`Backend::device`], with `index` choosing the wgpu adapter (its
    /// number in `pretext devices`).
    /// A wgpu device is initialised once per process (burn's runtime refuses a
    /// second registration) and reused by every later call.
    pub fn device_at(self, index: Option<usize>) -> Result<Device> {
        static OPENED: Mutex<Vec<(Option<usize>, Device)>> = Mutex::new(Vec::new());
        if self != Backend::Wgpu {
            return self.open(index);
        }
        let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, device)) = opened.iter().find(|(i, _)| *i == index) {
            return Ok(device.clone());
        }
        let device = self.open(index)?;
        opened.push((index, device.clone()));
        Ok(device)
    }

    fn open(self, index: Option<usize>) -> Result<Device> {
        if let Some(i) = index {
            if self != Backend::Wgpu {
                bail!("--device {i}: only --backend wgpu has several devices");
            }
            return Device::wgpu_options()
                .device_kind(adapter_kind(i)?)
                .init()
                .map_err(|e| anyhow!("{}", e))
                .with_context(|| format!("--device {i}: the adapter could not be opened"));
        }
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

/// The adapters wgpu sees, in its order.
pub fn adapters() -> Vec<wgpu::AdapterInfo> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    futures_lite::future::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(|a| a.get_info())
        .collect()
}

/// The burn device kind of adapter `index` of [`adapters`]: its type and
/// its rank among adapters of that type.
fn adapter_kind(index: usize) -> Result<DeviceKind> {
    let all = adapters();
    let Some(info) = all.get(index) else {
        bail!(
            "--device {index}: there are {} adapters (pretext devices lists them)",
            all.len()
        );
    };
    let rank = all[..index]
        .iter()
        .filter(|a| a.device_type == info.device_type)
        .count();
    Ok(match info.device_type {
        wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(rank),
        wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(rank),
        wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(rank),
        wgpu::DeviceType::Cpu => DeviceKind::Cpu,
        wgpu::DeviceType::Other => bail!("--device {index}: {} is of an unknown type", info.name),
    })
}
