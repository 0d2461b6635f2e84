"""Training-schedule pieces shared by the C3D trainer and the detection heads: the learning-rate
factor of a step (warm-up, then constant or cosine) and the best-validation weights kept for
early stopping. Both are functions of the step alone / checkpointable, so a resumed run behaves
as an uninterrupted one."""
from __future__ import annotations

import copy
import math
from typing import Sequence

import torch

LR_SCHEDULES = ("constant", "cosine")


def lr_factor(step: int, total: int, schedule: str = "constant", warmup: int = 0) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``: a linear warm-up
    over the first ``warmup`` steps, then constant or a cosine decay towards 0 at ``total``."""
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {schedule!r}; one of {LR_SCHEDULES}")
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if schedule == "cosine":
        span = max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / span))
    return 1.0


class BestWeights(torch.nn.Module):
    """The best validation step so far and a copy of the model's weights then (checkpointed
    with the run, so a resumed run keeps the best it had seen)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = copy.deepcopy(model)
        self.register_buffer("step", torch.tensor(-1, dtype=torch.long))
        self.register_buffer("score", torch.tensor([-math.inf, -math.inf], dtype=torch.float64))

    def offer(self, step: int, score: Sequence[float], model: torch.nn.Module) -> bool:
        """Keep ``model``'s weights when ``score`` beats the best (lexicographic: e.g. accuracy,
        then minus the loss; ties keep the earlier step)."""
        new = tuple(float(v) for v in score)
        if new > tuple(float(v) for v in self.score):
            self.model.load_state_dict(model.state_dict())
            self.step.fill_(int(step))
            self.score.copy_(torch.tensor(new, dtype=torch.float64))
            return True
        return False
