"""Where a timing was taken: device, driver, library versions, threads, date and command, saved with the data."""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

import accelsim


def resolve_device(name: str) -> torch.device:
    """'cpu' or 'cuda' (or 'cuda:N'); refuses CUDA where torch sees no GPU, with what torch reports."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device {name!r}: allowed cpu, cuda, cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {name!r}: allowed cpu, cuda, cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: torch {torch.__version__} sees no CUDA GPU here "
                         f"(torch.version.cuda = {torch.version.cuda}); use --device cpu")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_model()


def parallel_units(device: torch.device) -> int:
    """Row workers a sparse kernel splits a matrix over: torch's CPU threads, or the GPU's SMs."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return torch.get_num_threads()


def provenance(device: torch.device, command: list[str] | None = None) -> dict:
    """Everything needed to tell these timings from others: hardware, software, date, command."""
    info = {
        "device": device_name(device),
        "device_type": device.type,
        "parallel_units": parallel_units(device),
        "torch_version": torch.__version__,
        "accelsim_version": accelsim.__version__,
        "python_version": platform.python_version(),
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]),
        "host_cpu": _cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "mkl": torch.backends.mkl.is_available(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update({
            "cuda_version": torch.version.cuda,
            "driver_version": _nvidia_smi("driver_version"),
            "cusparselt_version": _cusparselt_version(),
            "gpu_memory_bytes": props.total_memory,
            "compute_capability": f"{props.major}.{props.minor}",
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        })
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_smi(field: str) -> str | None:
    try:
        result = subprocess.run(["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else None


def _cusparselt_version():
    try:
        return torch.backends.cusparselt.version()
    except (AttributeError, RuntimeError):
        return None
