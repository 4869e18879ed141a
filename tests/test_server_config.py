"""The production server's settings (gunicorn.conf.py): what its hooks do before serving."""

from __future__ import annotations

import importlib
import runpy
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


def test_the_master_loads_the_word_segmenter_before_forking_its_workers(monkeypatch):
    """Workers forked afterwards share the model; none loads its own copy in the middle of a save."""
    tokenizer = importlib.import_module("underthesea.pipeline.word_tokenize")
    monkeypatch.setattr(tokenizer, "word_tokenize_model", None)  # as in a process that never segmented
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    logged: list[str] = []
    master = SimpleNamespace(log=SimpleNamespace(info=lambda message, *args: logged.append(message % args)))
    config["on_starting"](master)
    assert tokenizer.word_tokenize_model is not None
    assert logged and logged[0].startswith("Word segmenter loaded in")


def test_a_server_that_never_segments_can_skip_loading_the_model(monkeypatch):
    tokenizer = importlib.import_module("underthesea.pipeline.word_tokenize")
    monkeypatch.setattr(tokenizer, "word_tokenize_model", None)
    monkeypatch.setenv("KB_PRELOAD_SEGMENTER", "0")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config["on_starting"](SimpleNamespace(log=SimpleNamespace(info=lambda *args: None)))
    assert tokenizer.word_tokenize_model is None
