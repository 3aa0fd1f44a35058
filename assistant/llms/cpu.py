"""Which llama.cpp (ggml) CPU features to build with on this machine, and
whether an installed build runs here.

The build is ``GGML_NATIVE=OFF`` with each instruction set named
explicitly: those the CPU reports, of a list known to work, and never AMX
(ggml's AMX path segfaults with Q4_K_M weights on Sapphire Rapids CPUs,
llama.cpp issue 20824). The wheel built so is cached under a key naming
those features, so a wheel built on one CPU is never installed on a CPU
that lacks one of them (illegal instruction).

Standard library only: ``scripts/setup.sh`` runs this file before the
project is installed::

    python assistant/llms/cpu.py cmake-args   # CMAKE_ARGS for pip
    python assistant/llms/cpu.py key          # the wheel cache key
    python assistant/llms/cpu.py check        # exit 1 unless the installed build suits this CPU
"""

from __future__ import annotations

import hashlib
import platform
import re
import sys
from pathlib import Path

#: ggml build option -> the /proc/cpuinfo flags it needs (all of them)
GGML_FEATURES: dict[str, tuple[str, ...]] = {
    "SSE42": ("sse4_2",),
    "AVX": ("avx",),
    "F16C": ("f16c",),
    "FMA": ("fma",),
    "AVX2": ("avx2",),
    "BMI2": ("bmi2",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX512_BF16": ("avx512_bf16",),
}
#: options always off: known to crash (AMX: llama.cpp issue 20824)
GGML_NEVER = ("AMX_TILE", "AMX_INT8", "AMX_BF16")
#: what llama_print_system_info() calls each build option
SYSTEM_INFO_NAMES = {"SSE42": "SSE3", "AVX512": "AVX512"}
LLAMA_CPP_VERSION = "0.3.36"


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (first ``flags`` line of /proc/cpuinfo)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def build_features(flags: set[str]) -> list[str]:
    """The ggml options to enable for a CPU with ``flags`` (in GGML_FEATURES order)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    return [name for name, needs in GGML_FEATURES.items() if all(f in flags for f in needs)]


def cmake_args(features: list[str]) -> str:
    """CMAKE_ARGS for llama-cpp-python: no -march=native, each feature named, AMX off."""
    if not features:  # not x86-64: the platform's own defaults
        return "-DGGML_NATIVE=OFF"
    on = [f"-DGGML_{name}={'ON' if name in features else 'OFF'}" for name in GGML_FEATURES]
    off = [f"-DGGML_{name}=OFF" for name in GGML_NEVER]
    return " ".join(["-DGGML_NATIVE=OFF", *on, *off])


def build_key(features: list[str]) -> str:
    """A cache key for the wheel: version, Python, machine, features and a hash of the arguments."""
    args = cmake_args(features)
    digest = hashlib.sha256(args.encode()).hexdigest()[:10]
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    names = "-".join(f.lower().replace("_", "") for f in features) or "default"
    return f"llama-cpp-python-{LLAMA_CPP_VERSION}-{py}-{platform.machine()}-{names}-{digest}"


def parse_system_info(text: str) -> dict[str, str]:
    """``llama_print_system_info()`` as {name: value}: 'CPU : SSE3 = 1 | AVX = 1 | ...'."""
    found: dict[str, str] = {}
    for name, value in re.findall(r"([A-Z][A-Z0-9_]*)\s*=\s*([^|]+?)\s*(?:\||$)", text):
        found[name] = value
    return found


def build_problems(info: dict[str, str], flags: set[str]) -> list[str]:
    """Why an installed build (its system info) must not run on a CPU with
    ``flags``: AMX compiled in, or an instruction set the CPU lacks."""
    problems = []
    for name in GGML_NEVER:
        if info.get(name) == "1":
            problems.append(f"{name} is compiled in (known to crash: llama.cpp issue 20824)")
    for name, needs in GGML_FEATURES.items():
        shown = SYSTEM_INFO_NAMES.get(name, name)
        if name == "SSE42":
            continue  # reported as SSE3, which every x86-64 CPU of this kind has
        if info.get(shown) == "1" and not all(f in flags for f in needs):
            missing = ", ".join(f for f in needs if f not in flags)
            problems.append(f"{shown} is compiled in but this CPU lacks {missing} (illegal instruction)")
    return problems


def installed_system_info() -> str:
    """``llama_cpp.llama_print_system_info()`` of the installed build."""
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "key"
    flags = cpu_flags()
    features = build_features(flags)
    if command == "cmake-args":
        print(cmake_args(features))
    elif command == "key":
        print(build_key(features))
    elif command == "features":
        print(" ".join(features) or "(platform defaults)")
    elif command == "check":
        info = installed_system_info()
        problems = build_problems(parse_system_info(info), flags)
        if problems:
            print("llama-cpp-python's build does not suit this CPU: " + "; ".join(problems), file=sys.stderr)
            return 1
        print(info.strip())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
