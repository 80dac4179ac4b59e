//! The one place that names concrete backends: `--backend flex|ndarray|wgpu|tch`
//! becomes a burn `Device`.
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

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
    /// Opens the device of `--backend` and `--device`. A command opens it
    /// once and computes every stage on it (pretraining, evaluation, the
    /// report): wgpu's runtime refuses to register an adapter twice.
    pub fn open(self) -> Result<Opened> {
        Ok(Opened {
            device: self.backend.device_at(self.device)?,
            name: self.name(),
        })
    }

    /// The backend's name, as run records hold it.
    pub fn name(self) -> &'static str {
        self.backend.name()
    }
}

/// A [`Compute`] opened: its device, and the backend's name for run records.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The inference device; training takes its autodiff twin.
    pub device: Device,
    /// The backend's name (`flex`, `wgpu`, ...).
    pub name: &'static str,
}

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (the default: the fastest on CPU without libtorch).
    Flex,
    /// burn's ndarray CPU backend.
    Ndarray,
    /// The GPU through wgpu (Vulkan, Metal or DirectX).
    Wgpu,
    /// libtorch on the CPU, through burn's `tch` backend (builds made with
    /// `--features tch` only; see docs/performance.md).
    Tch,
}

impl Backend {
    /// The name written into run records.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
            Backend::Tch => "tch",
        }
    }

    /// The inference device of this backend; the training loop takes its
    /// autodiff twin. For wgpu this acquires the adapter now, so a machine
    /// without one gets a clear error instead of a panic on first use.
    pub fn device(self) -> Result<Device> {
        self.device_at(None)
    }

    /// As [`Backend::device`], with `index` choosing the wgpu adapter (its
    /// number in `pretext devices`). Opening wgpu says in one line that its
    /// first steps compile shaders; a process opens each adapter once (the
    /// commands open their device once and pass it on).
    pub fn device_at(self, index: Option<usize>) -> Result<Device> {
        let device = self.open(index)?;
        if self == Backend::Wgpu {
            eprintln!("{WGPU_FIRST_STEPS}");
        }
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
            Backend::Tch => libtorch(),
        }
    }
}

/// Said when a process first opens wgpu, so that slow first steps are not
/// taken for a hang. Measured on an H200: ResNet-18's first 30 steps took
/// about two minutes on a fresh machine; a later run there spent about
/// 8 s more on its first epoch than on the next.
const WGPU_FIRST_STEPS: &str = "note: wgpu compiles its GPU kernels during the first steps, so they are slow (a minute or two on a fresh machine); the driver keeps them for later runs";

/// libtorch's CPU device, in a build with the `tch` feature.
#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated upstream; offered while it ships
fn libtorch() -> Result<Device> {
    Ok(Device::libtorch())
}

/// Without the `tch` feature there is no libtorch to open.
#[cfg(not(feature = "tch"))]
fn libtorch() -> Result<Device> {
    bail!(
        "--backend tch: this pretext was built without libtorch (rebuild with `cargo build --features tch` against PyTorch 2.9, as docs/performance.md shows, or use --backend flex)"
    )
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

/// The environment variable holding the token shared by `pretext serve`
/// workers and the runs that use them.
pub const TOKEN_VAR: &str = "PRETEXT_TOKEN";

/// The token of [`TOKEN_VAR`], when set and not empty.
pub fn token() -> Option<String> {
    std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty())
}

/// The devices a run trains on, and the name its records hold.
pub struct Devices {
    /// The first holds the method; with several, each step's batch is split
    /// over them.
    pub list: Vec<Device>,
    /// `flex`, or the `--devices` list as given.
    pub name: String,
    /// The `--devices` entries (none for `--backend`).
    specs: Vec<String>,
}

impl Devices {
    /// The one device of `--backend`/`--device`, opened.
    pub fn of(opened: &Opened) -> Self {
        Self {
            list: vec![opened.device.clone()],
            name: opened.name.into(),
            specs: Vec::new(),
        }
    }

    /// The devices of `--devices` (comma-separated): `flex`, `ndarray`,
    /// `wgpu` or `wgpu:N`, or a `pretext serve` worker at `ws://host:port`,
    /// which is connected now so an unreachable one is reported before
    /// training. Without a list, the one device of `compute`.
    pub fn parse(specs: &[String], compute: Compute) -> Result<Self> {
        if specs.is_empty() {
            return Ok(Self::of(&compute.open()?));
        }
        let mut list = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            if specs[..i].contains(spec) {
                bail!(
                    "--devices: {spec} is listed twice (each device takes one share of the batch)"
                );
            }
            let device = device_of(spec).with_context(|| format!("--devices: {spec}"))?;
            if let Some(j) = list.iter().position(|d| d == &device) {
                bail!(
                    "--devices: {spec} is the same device as {} (each device takes one share of the batch)",
                    specs[j]
                );
            }
            list.push(device);
        }
        Ok(Self {
            list,
            name: specs.join(","),
            specs: specs.to_vec(),
        })
    }

    /// The device of `--backend`/`--device`: the list's own when the list
    /// names it (an adapter is opened once per process: wgpu's runtime
    /// refuses a second registration), else opened now.
    pub fn or_open(&self, compute: Compute) -> Result<Device> {
        if self.specs.is_empty() {
            // The list is that device alone (`Devices::of`).
            return Ok(self.list[0].clone());
        }
        match listed(&self.specs, compute) {
            Some(i) => Ok(self.list[i].clone()),
            None => Ok(compute.open()?.device),
        }
    }

    /// How many of the devices are `pretext serve` workers.
    pub fn workers(&self) -> usize {
        self.specs.iter().filter(|s| s.starts_with("ws://")).count()
    }

    /// The workers of the list that no longer accept connections, to name
    /// in the error of a run that lost a device.
    pub fn unreachable(&self) -> Vec<&str> {
        self.specs
            .iter()
            .filter(|s| {
                let Some(addr) = s.strip_prefix("ws://") else {
                    return false;
                };
                let addr = addr.trim_end_matches('/');
                !addr.to_socket_addrs().is_ok_and(|mut a| {
                    a.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
                })
            })
            .map(String::as_str)
            .collect()
    }
}

/// Where `compute`'s device stands in a `--devices` list (`flex`, `wgpu`,
/// `wgpu:N`, any case), if it does.
fn listed(specs: &[String], compute: Compute) -> Option<usize> {
    let own = match compute.device {
        Some(i) => format!("{}:{i}", compute.name()),
        None => compute.name().to_string(),
    };
    specs.iter().position(|s| s.to_ascii_lowercase() == own)
}

/// One entry of `--devices`.
fn device_of(spec: &str) -> Result<Device> {
    if spec.starts_with("ws://") {
        let mut host = burn::tensor::remote::RemoteHost::websocket(spec);
        if let Some(token) = token() {
            host = host.with_credential(token);
        }
        return Device::remote_options(&host).init().map_err(|e| {
            anyhow!("{e} (is `pretext serve` running there, with the same {TOKEN_VAR}?)")
        });
    }
    let (backend, index) = match spec.split_once(':') {
        Some((b, i)) => {
            let i = i
                .parse::<usize>()
                .map_err(|_| anyhow!("{i:?} is not an adapter number"))?;
            (b, Some(i))
        }
        None => (spec, None),
    };
    let backend = Backend::from_str(backend, true).map_err(|_| {
        let names: Vec<&str> = Backend::value_variants().iter().map(|b| b.name()).collect();
        anyhow!(
            "not a device: expected {}, wgpu:N or ws://host:port",
            names.join(", ")
        )
    })?;
    backend.device_at(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backends_own_device_is_found_in_a_devices_list() {
        let specs: Vec<String> = ["ws://10.0.0.2:4000", "WGPU:1", "flex"]
            .map(String::from)
            .to_vec();
        let compute = |backend, device| Compute { backend, device };
        assert_eq!(listed(&specs, compute(Backend::Flex, None)), Some(2));
        assert_eq!(listed(&specs, compute(Backend::Wgpu, Some(1))), Some(1));
        assert_eq!(listed(&specs, compute(Backend::Wgpu, None)), None);
        assert_eq!(listed(&specs, compute(Backend::Ndarray, None)), None);
    }
}
