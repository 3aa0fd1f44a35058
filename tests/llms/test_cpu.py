"""The llama.cpp build: instruction sets chosen from the CPU's flags, AMX
never, a wheel key per set of instruction sets, and the installed build
checked against this machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.llms import cpu
from tests.conftest import ROOT

# flags lines as /proc/cpuinfo prints them on the two CPUs machines of this kind have
SAPPHIRE_RAPIDS = ("flags : fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi2 avx2 avx512f avx512dq avx512cd "
                   "avx512bw avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg avx_vnni "
                   "avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n")
ZEN4 = ("flags : fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi2 avx2 avx512f avx512dq avx512cd avx512bw "
        "avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg avx512_bf16\n")
HASWELL = "flags : fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi2 avx2\n"


def test_amx_is_never_built_even_where_the_cpu_has_it():
    features = cpu.build_features(cpu.cpu_flags(SAPPHIRE_RAPIDS))
    assert "AVX512" in features and "AVX_VNNI" in features and "AVX512_BF16" in features
    args = cpu.cmake_args(features)
    assert "-DGGML_NATIVE=OFF" in args and "-DGGML_NATIVE=ON" not in args
    for amx in ("AMX_TILE", "AMX_INT8", "AMX_BF16"):
        assert f"-DGGML_{amx}=OFF" in args and f"-DGGML_{amx}=ON" not in args


def test_only_instruction_sets_the_cpu_has_are_built():
    haswell = cpu.build_features(cpu.cpu_flags(HASWELL))
    assert haswell == ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"]
    assert "-DGGML_AVX512=OFF" in cpu.cmake_args(haswell)
    zen4 = cpu.build_features(cpu.cpu_flags(ZEN4))
    assert "AVX512_VNNI" in zen4 and "AVX_VNNI" not in zen4  # Zen 4 has AVX512-VNNI, not AVX-VNNI


def test_the_wheel_key_differs_between_cpus_that_differ():
    keys = {cpu.build_key(cpu.build_features(cpu.cpu_flags(f))) for f in (SAPPHIRE_RAPIDS, ZEN4, HASWELL)}
    assert len(keys) == 3
    assert cpu.build_key(cpu.build_features(cpu.cpu_flags(ZEN4))) == cpu.build_key(
        cpu.build_features(cpu.cpu_flags(ZEN4 + "flags : unrelated\n")))  # the first flags line counts


def test_build_problems_name_amx_and_missing_instruction_sets():
    info = cpu.parse_system_info("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 |")
    assert info["AMX_INT8"] == "1" and info["OPENMP"] == "1"
    problems = cpu.build_problems(info, cpu.cpu_flags(HASWELL))
    assert any("AMX_INT8" in p and "20824" in p for p in problems)
    assert any(p.startswith("AVX512 ") and "avx512f" in p for p in problems)
    assert cpu.build_problems(cpu.parse_system_info("CPU : AVX = 1 | AVX2 = 1 |"), cpu.cpu_flags(HASWELL)) == []


def test_the_installed_build_has_no_amx_and_suits_this_cpu():
    pytest.importorskip("llama_cpp")
    info = cpu.parse_system_info(cpu.installed_system_info())
    assert info, "llama_print_system_info() reported nothing"
    assert not any(info.get(name) == "1" for name in cpu.GGML_NEVER), info
    assert cpu.build_problems(info, cpu.cpu_flags()) == []
    flags = cpu.cpu_flags()
    for name in cpu.build_features(flags):  # the fastest safe sets were kept
        shown = cpu.SYSTEM_INFO_NAMES.get(name, name)
        if name != "SSE42":
            assert info.get(shown) == "1", f"{shown} is missing from the build although this CPU has it"


def test_the_script_runs_without_the_package_installed():
    """setup.sh runs cpu.py as a plain file before the project is installed."""
    out = subprocess.run([sys.executable, "-S", str(ROOT / "assistant" / "llms" / "cpu.py"), "cmake-args"],
                         capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.startswith("-DGGML_NATIVE=OFF") and "AMX_INT8=OFF" in out.stdout
