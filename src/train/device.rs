//! Choosing where tensors live: a hardware GPU through wgpu, else burn's `flex` CPU backend.
//!
//! A software Vulkan adapter (lavapipe, SwiftShader) counts as no GPU: it is far slower than
//! `flex` on the same cores. wgpu can be initialised once per process, so the result of the
//! first attempt is kept and reused.

use crate::config::DeviceChoice;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The device a run uses, for summaries and the window's status line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// "gpu" or "cpu".
    pub kind: String,
    /// The adapter's name, or the CPU backend and its thread count.
    pub name: String,
    /// Why the CPU is used when a GPU was possible, if that is the case.
    pub note: Option<String>,
    /// The largest buffer the GPU binds at once; every tensor must fit in it.
    #[serde(default)]
    pub max_buffer_bytes: Option<u64>,
}

impl DeviceInfo {
    pub fn is_gpu(&self) -> bool {
        self.kind == "gpu"
    }

    /// One line for the status bar: `GPU: NVIDIA H200` or `CPU: flex, 2 threads (no GPU: ...)`.
    pub fn describe(&self) -> String {
        let base = format!("{}: {}", self.kind.to_uppercase(), self.name);
        match &self.note {
            Some(note) => format!("{base} ({note})"),
            None => base,
        }
    }
}

/// A usable hardware GPU: the device, a name for people, its largest bindable buffer.
struct Gpu {
    device: Device,
    name: String,
    max_buffer_bytes: u64,
}

/// The outcome of trying wgpu once: the GPU, or why not.
type GpuProbe = Result<Gpu, String>;

static GPU: OnceLock<GpuProbe> = OnceLock::new();

/// On Linux every GPU that can train has a Vulkan driver; asking for Vulkan alone skips
/// OpenGL/EGL probing, which only finds software renderers and floods stderr on headless
/// machines. Elsewhere wgpu picks the native API (Metal, DirectX 12).
fn wgpu_options() -> burn::tensor::wgpu::WgpuOptions {
    let options = Device::wgpu_options();
    if cfg!(target_os = "linux") {
        options.graphics_api(burn::tensor::wgpu::WgpuBackend::Vulkan)
    } else {
        options
    }
}

fn probe_gpu() -> &'static GpuProbe {
    GPU.get_or_init(|| {
        let (device, setup) = wgpu_options()
            .init_with_setup()
            .map_err(|e| format!("wgpu could not start: {e}"))?;
        let info = setup.adapter.get_info();
        if info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu {
            return Err(format!(
                "the only adapter, {}, is a software renderer",
                info.name
            ));
        }
        let limits = setup.device.limits();
        Ok(Gpu {
            device,
            name: format!("{} ({:?})", info.name, info.backend),
            max_buffer_bytes: limits
                .max_storage_buffer_binding_size
                .min(limits.max_buffer_size),
        })
    })
}

/// Whether `device: Auto` trains on a GPU here.
pub fn auto_uses_gpu() -> bool {
    probe_gpu().is_ok()
}

/// Threads the CPU backend uses.
pub fn cpu_threads() -> usize {
    rayon::current_num_threads()
}

/// The CPU device, with the reason it is used instead of a GPU, if any.
pub fn cpu(note: Option<String>) -> (Device, DeviceInfo) {
    (
        Device::flex(),
        DeviceInfo {
            kind: "cpu".into(),
            name: match cpu_threads() {
                1 => "flex, 1 thread".to_string(),
                n => format!("flex, {n} threads"),
            },
            note,
            max_buffer_bytes: None,
        },
    )
}

/// Pick the device for `choice`. Only an explicit `Gpu` without a hardware adapter is an error.
pub fn select(choice: DeviceChoice) -> Result<(Device, DeviceInfo), String> {
    // The CPU never touches wgpu: probing it costs time and, headless, stderr noise.
    if choice == DeviceChoice::Cpu {
        return Ok(cpu(None));
    }
    match (choice, probe_gpu()) {
        (_, Ok(gpu)) => Ok((gpu.device.clone(), gpu_info(gpu))),
        (DeviceChoice::Gpu, Err(why)) => Err(format!(
            "device Gpu was asked for, but no hardware GPU is usable: {why}. \
             Use device: Auto or Cpu to train on the CPU"
        )),
        (_, Err(why)) => Ok(cpu(Some(format!("no GPU: {why}")))),
    }
}

fn gpu_info(gpu: &Gpu) -> DeviceInfo {
    DeviceInfo {
        kind: "gpu".into(),
        name: gpu.name.clone(),
        note: None,
        max_buffer_bytes: Some(gpu.max_buffer_bytes),
    }
}

/// Cap the CPU backend's worker threads (the window leaves one core to drawing). Only the
/// first call in a process has an effect, and only before any tensor work has started.
pub fn limit_cpu_threads(threads: usize) {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build_global();
}
