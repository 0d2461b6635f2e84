"""Errors for bad inputs, and the record of inputs skipped under ``on_bad_input: skip``."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path


class IrpipeError(Exception):
    """Base class for errors irpipe raises on purpose (clear message, no traceback needed)."""


class ConfigError(IrpipeError):
    """The configuration is invalid; the message names the key."""


class BadInputError(IrpipeError):
    """An input file or annotation is unusable. ``path`` names it, ``reason`` says why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


BAD_INPUT_COLUMNS = ["dataset", "stage", "item", "reason"]


@dataclass(frozen=True)
class BadInput:
    dataset: str
    stage: str
    item: str
    reason: str


class BadInputsError(BadInputError):
    """Several bad inputs at once (``on_bad_input: error``): the message gives the count, then
    each item and its reason, so that one run shows everything to fix."""

    def __init__(self, items: list[BadInput], where: str = "this stage"):
        self.items = list(items)
        self.path = self.items[0].item if self.items else where
        self.reason = f"{len(self.items)} bad input(s)"
        lines = "".join(f"\n  {b.item}: {b.reason}" for b in self.items)
        IrpipeError.__init__(self, f"{len(self.items)} bad input(s) found by {where} "
                                   f"(on_bad_input: error; 'skip' would record and leave them out):{lines}")


def bad_inputs_frame(items: list[BadInput]):
    import pandas as pd

    return pd.DataFrame([asdict(b) for b in items], columns=BAD_INPUT_COLUMNS)


def read_bad_inputs(paths: list[str | os.PathLike]):
    """Concatenate the per-stage bad-input tables (missing files count as empty)."""
    import pandas as pd

    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths if Path(p).exists()]
    if not frames:
        return pd.DataFrame(columns=BAD_INPUT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[BAD_INPUT_COLUMNS]


def handle_bad_input(exc: BadInputError, policy: str, dataset: str, stage: str,
                     sink: list[BadInput]) -> None:
    """Apply ``on_bad_input``: 'error' re-raises, 'skip' records the item in ``sink``."""
    if policy == "skip":
        sink.append(BadInput(dataset, stage, exc.path, exc.reason))
        return
    raise exc
