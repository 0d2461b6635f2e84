"""Untrusted files: checkpoints and weights are loaded with ``weights_only``; a pickle that
carries a code-execution payload is refused with an error naming the file, and the payload
never runs."""
from __future__ import annotations

import ast
import os
import pickle
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from irpipe.checkpoints import load_checkpoint, save_checkpoint  # noqa: E402
from irpipe.errors import BadInputError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this calls os.system: a marker file appears if the payload runs."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _torch_payload(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {"w": torch.zeros(2)}, "extra": _Payload(marker)}, path)
    return path


def test_payload_is_live_without_weights_only(tmp_path):
    """Guard: the crafted file really executes code when loaded the unsafe way, so the
    refusal test below would fail if load_checkpoint did not use weights_only."""
    marker = tmp_path / "pwned"
    ckpt = _torch_payload(tmp_path / "evil.pt", marker)
    torch.load(ckpt, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("fmt", ["torch_zip", "raw_pickle"])
def test_code_execution_payload_is_refused(tmp_path, fmt):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if fmt == "torch_zip":
        _torch_payload(path, marker)
    else:  # a plain pickle stream with a .pt name (the legacy, non-zip format)
        path.write_bytes(pickle.dumps({"w": 1, "x": _Payload(marker)}, protocol=2))
    with pytest.raises(BadInputError) as info:
        load_checkpoint(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "refused" in msg and "system" in msg  # says what the file asked to run
    assert not marker.exists(), "the payload ran"


def test_genuine_checkpoint_round_trip(tmp_path):
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "step": 7, "rng": torch.get_rng_state()}
    save_checkpoint(tmp_path / "ok.pt", state)
    back = load_checkpoint(tmp_path / "ok.pt")
    assert back["step"] == 7 and torch.equal(back["model"]["w"], state["model"]["w"])
    assert torch.equal(back["rng"], state["rng"])


@pytest.mark.parametrize("content,reason", [(b"", "empty"), (b"not a checkpoint at all", "not a readable")])
def test_junk_files_are_clear_errors(tmp_path, content, reason):
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=reason) as info:
        load_checkpoint(path)
    assert info.value.path == str(path)


def _unsafe_calls(tree: ast.AST) -> list[tuple[int, str]]:
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        kw = {k.arg: k.value for k in node.keywords}
        const = lambda k: isinstance(kw.get(k), ast.Constant) and kw[k].value  # noqa: E731
        if name == "load" and owner == "torch" and const("weights_only") is not True:
            bad.append((node.lineno, "torch.load without weights_only=True"))
        if name == "load" and owner in ("np", "numpy") and const("allow_pickle") is True:
            bad.append((node.lineno, "np.load with allow_pickle=True"))
    return bad


def test_no_code_loads_weights_unsafely():
    """Every weights/checkpoint load in the library and the workflow scripts is safe."""
    files = sorted((REPO / "irpipe").rglob("*.py")) + sorted((REPO / "workflow_scripts").glob("*.py"))
    assert files
    problems = []
    for f in files:
        for line, what in _unsafe_calls(ast.parse(f.read_text(), filename=str(f))):
            problems.append(f"{f.relative_to(REPO)}:{line}: {what}")
    assert not problems, "unsafe loads:\n" + "\n".join(problems)


def test_the_scanner_catches_unsafe_loads():
    src = "import torch, numpy as np\ntorch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n" \
          "torch.load(p, weights_only=True)\nnp.load(p)\n"
    assert [ln for ln, _ in _unsafe_calls(ast.parse(src))] == [2, 3, 4]
