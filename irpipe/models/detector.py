"""Detection models on I3D snippet features: stream fusion + TGM head.

Fusion variants (Tables III-V of seed 001):

- ``ir`` / ``flow``: one stream (the TGM of one stream);
- ``ir_sa``: infrared + self-attention;
- ``ca``: two-stream + cross-attention (no selective mix);
- ``sca``: two-stream + selective cross-stream attention (TV-L1 or FEN flow);
- ``min`` / ``max``: element-wise min / max of the two streams;
- ``concat``: concatenation (the head sees 2D channels);
- ``late`` fusion is not a model: the average of the ``ir`` and ``flow`` models' scores (Table III's
  TGM baseline: the paper's two-stream TGM).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .sca import CrossAttention, SelectiveCrossAttention, SelfAttention
from .tgm import TGMHead

FUSIONS = ("ir", "flow", "ir_sa", "ca", "sca", "min", "max", "concat")


class SnippetDetector(nn.Module):
    def __init__(self, fusion: str, dim: int, n_classes: int, head: dict | None = None, sca: dict | None = None):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; one of {FUSIONS}")
        self.fusion = fusion
        head, sca = dict(head or {}), dict(sca or {})
        self.attn = None
        if fusion == "ir_sa":
            self.attn = SelfAttention(dim, sca.get("reduction", 8))
        elif fusion == "ca":
            self.attn = CrossAttention(dim, sca.get("reduction", 8))
        elif fusion == "sca":
            self.attn = SelectiveCrossAttention(dim, tuple(sca.get("expand", (4, 8))), sca.get("dropout", 0.7),
                                                sca.get("reduction", 8))
        in_dim = 2 * dim if fusion == "concat" else dim
        self.head = TGMHead(in_dim, n_classes, **head)

    def fuse(self, xi: torch.Tensor, xf: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        f = self.fusion
        if f == "ir":
            return xi
        if f == "flow":
            return xf
        if f == "ir_sa":
            return self.attn(xi, mask)
        if f in ("ca", "sca"):
            return self.attn(xi, xf, mask)
        if f == "min":
            return torch.minimum(xi, xf)
        if f == "max":
            return torch.maximum(xi, xf)
        return torch.cat([xi, xf], 1)

    def forward(self, xi, xf, mask):
        """xi, xf: (B, D, T) IR / flow features (xf may be None for single IR models);
        mask (B, T) -> logits (B, C, T)."""
        x = self.fuse(xi, xf, mask) * mask[:, None, :].to(xi.dtype)
        return self.head(x, mask.sum(1))
