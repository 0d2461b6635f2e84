"""Every config key in the schema is read by some code: a key that does nothing is a bug.

For each key of schemas/config.schema.yaml + schemas/sections/*.yaml (at any depth), its
name must appear in irpipe/, workflow_scripts/, rules/ or the Snakefile either as a quoted
string (``cfg["key"]``, ``.get("key")``) or as a type-annotated parameter / dataclass field
(``key: int``: sections passed on as ``**kwargs`` or through ``dataclasses.fields``). The
check is by name, so a key whose name some other code reads can still slip through; it
catches keys that nothing reads at all (as ``c3d.streams`` was).
"""
import re

import pytest

from irpipe.config import load_schema
from tests.conftest import REPO

# keys read under a name built at run time, each with where and why
DYNAMIC = {
    "frames.recognition_sizes": "workflow_scripts/frames.py reads frames[f'{dataset}_sizes']",
    "frames.detection_sizes": "workflow_scripts/frames.py reads frames[f'{dataset}_sizes']",
    "flow.recognition_size": "irpipe/flow/store.py reads flow[f'{dataset}_size']",
    "flow.detection_size": "irpipe/flow/store.py reads flow[f'{dataset}_size']",
}


def schema_keys(node: dict, path: tuple = ()) -> list[tuple[str, ...]]:
    out = []
    for key, sub in (node.get("properties") or {}).items():
        out.append(path + (key,))
        out += schema_keys(sub, path + (key,))
    return out


def code_text() -> str:
    files = [p for d in ("irpipe", "workflow_scripts", "rules") for p in (REPO / d).rglob("*")
             if p.suffix in (".py", ".smk")] + [REPO / "Snakefile"]
    return "\n".join(strip_comments(p.read_text()) for p in files)


def strip_comments(text: str) -> str:
    return re.sub(r"(?m)#.*$", "", text)  # a comment does not read a key


def is_read(name: str, text: str) -> bool:
    n = re.escape(name)
    return bool(re.search(rf"""["']{n}["']""", text) or re.search(rf"\b{n}\s*:\s*[A-Za-z]", text))


KEYS = schema_keys(load_schema())
TEXT = code_text()


def test_schema_has_keys():
    assert len(KEYS) > 100 and ("detection", "postprocess", "threshold") in KEYS


@pytest.mark.parametrize("key", [".".join(k) for k in KEYS])
def test_every_schema_key_is_read(key):
    if key in DYNAMIC:
        name = key.rsplit(".", 1)[-1]
        assert name.split("_", 1)[1] in ("sizes", "size")
        return
    assert is_read(key.rsplit(".", 1)[-1], TEXT), f"config key {key} is in the schema but no code reads it"


def test_the_check_would_catch_an_unread_key():
    assert not is_read("streams_never_read_anywhere", TEXT)
    assert not is_read("streams", strip_comments("x = nn.stack_codes(codes, streams=('ir', 'flow'))  # 'streams'"))
    assert is_read("threshold", 'cfg["threshold"]') and is_read("track_length", "    track_length: int = 15")
