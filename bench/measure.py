"""Small measuring tools: wall and CPU time, peak memory, percentiles, the machine's description."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any


@dataclass
class Timing:
    """Wall seconds and CPU seconds (all threads of this process) of one measured block."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the enclosed block; CPU time is robust to other processes sharing the cores."""
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall
        timing.cpu = time.process_time() - cpu


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far.

    VmHWM, not ru_maxrss: a child started with vfork+exec (as subprocess does) inherits its
    parent's ru_maxrss, so a small worker would report the benchmark driver's peak.
    """
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated; what p50/p95 mean in the results."""
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return float(cuts[int(q) - 1]) if q < 100 else float(max(values))


def latency_summary(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean of a list of milliseconds, rounded for the tables."""
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "n": len(ms),
    }


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: how busy the cores were with everyone's work."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, and the versions that decide the figures."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 1e9, 1)
    except (ValueError, OSError):
        memory_gb = None
    versions = {}
    for package in ("torch", "sentence-transformers", "chromadb", "llama-index-core", "bm25s"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "versions": versions,
    }
