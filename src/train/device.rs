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
    /// What the graphics stack wrote to stderr while wgpu was probed (headless: "XDG_RUNTIME_DIR
    /// is invalid or not set"), kept here rather than in the terminal; distinct lines joined
    /// with "; ".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_messages: Option<String>,
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

/// The outcome of trying wgpu once: the GPU, or why not, and what the graphics stack said.
struct GpuProbe {
    gpu: Result<Gpu, String>,
    messages: Option<String>,
}

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
        // The Vulkan loader and window-system layers write to stderr from C (headless:
        // "XDG_RUNTIME_DIR is invalid or not set", four times). That is no message of ours:
        // it is kept in the device info instead.
        let (gpu, messages) = capture_stderr(find_gpu);
        GpuProbe { gpu, messages }
    })
}

fn find_gpu() -> Result<Gpu, String> {
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
}

/// Run `f` with the process's stderr (file descriptor 2) sent to a temporary file, and
/// return what was written there: its distinct lines joined with "; ", if any. Unix only;
/// elsewhere `f` simply runs. Other threads' stderr during `f` is captured too, so this is
/// kept to the short probe.
fn capture_stderr<T>(f: impl FnOnce() -> T) -> (T, Option<String>) {
    #[cfg(unix)]
    {
        use std::io::{Read, Seek};
        use std::os::fd::AsRawFd;
        let Some(mut file) = unlinked_temp_file() else {
            return (f(), None);
        };
        // SAFETY: dup and dup2 on the process's own descriptors; fd 2 is restored below
        // before the saved copy is closed, and `file` outlives both calls.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 || unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
            if saved >= 0 {
                unsafe { libc::close(saved) };
            }
            return (f(), None);
        }
        let result = f();
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
        let mut text = String::new();
        let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
        (result, tidy(&text))
    }
    #[cfg(not(unix))]
    {
        (f(), None)
    }
}

/// A temporary file already removed from its folder: it vanishes when closed.
#[cfg(unix)]
fn unlinked_temp_file() -> Option<std::fs::File> {
    let path = std::env::temp_dir().join(format!(
        ".distillery-gpu-probe-{}-{:?}.log",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .ok()?;
    let _ = std::fs::remove_file(&path);
    Some(file)
}

/// Distinct non-empty lines, in order, without a leading "error: ", joined with "; ".
fn tidy(text: &str) -> Option<String> {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = line.strip_prefix("error: ").unwrap_or(line);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// Whether `device: Auto` trains on a GPU here.
pub fn auto_uses_gpu() -> bool {
    probe_gpu().gpu.is_ok()
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
            probe_messages: GPU.get().and_then(|p| p.messages.clone()),
        },
    )
}

/// Pick the device for `choice`. Only an explicit `Gpu` without a hardware adapter is an error.
pub fn select(choice: DeviceChoice) -> Result<(Device, DeviceInfo), String> {
    // The CPU never touches wgpu: probing it costs time and, headless, stderr noise.
    if choice == DeviceChoice::Cpu {
        return Ok(cpu(None));
    }
    let probe = probe_gpu();
    match (choice, &probe.gpu) {
        (_, Ok(gpu)) => Ok((gpu.device.clone(), gpu_info(gpu, probe))),
        (DeviceChoice::Gpu, Err(why)) => Err(format!(
            "device Gpu was asked for, but no hardware GPU is usable: {why}. \
             Use device: Auto or Cpu to train on the CPU"
        )),
        (_, Err(why)) => Ok(cpu(Some(format!("no GPU: {why}")))),
    }
}

fn gpu_info(gpu: &Gpu, probe: &GpuProbe) -> DeviceInfo {
    DeviceInfo {
        kind: "gpu".into(),
        name: gpu.name.clone(),
        note: None,
        max_buffer_bytes: Some(gpu.max_buffer_bytes),
        probe_messages: probe.messages.clone(),
    }
}

/// Cap the CPU backend's worker threads (the window leaves one core to drawing). Only the
/// first call in a process has an effect, and only before any tensor work has started.
pub fn limit_cpu_threads(threads: usize) {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build_global();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_graphics_stack_lines_are_said_once() {
        let text = "error: XDG_RUNTIME_DIR is invalid or not set in the environment.\n\
                    error: XDG_RUNTIME_DIR is invalid or not set in the environment.\n\n";
        assert_eq!(
            tidy(text).as_deref(),
            Some("XDG_RUNTIME_DIR is invalid or not set in the environment.")
        );
        assert_eq!(tidy("\n  \n"), None);
    }

    #[cfg(unix)]
    #[test]
    fn stderr_written_from_c_is_captured_and_restored() {
        let (value, said) = capture_stderr(|| {
            let msg = b"from C\n";
            // SAFETY: writing a valid buffer to fd 2.
            unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
            7
        });
        assert_eq!((value, said.as_deref()), (7, Some("from C")));
        // fd 2 is the original again: a write lands there, not in a closed file.
        // SAFETY: fcntl on a descriptor number only queries it.
        assert!(unsafe { libc::fcntl(2, libc::F_GETFD) } >= 0);
    }
}
