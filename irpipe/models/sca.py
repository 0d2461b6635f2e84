"""Selective cross-stream attention (SCA, seed 001) and the plain attentions it builds on.

Features are (B, D, T) snippet sequences. ``mask`` (B, T) marks real snippets (1) vs.
padding (0); attention never attends to padded snippets and the selective head pools over
real snippets only.

- :class:`SelfAttention`: 1x1-conv query/key (D/8 channels) and value (D channels) on one
  stream, softmax over time, ``Y = gamma * P + X`` with gamma initialised to 0.
- :class:`CrossAttention`: query and value from the second stream, key from the first,
  ``Y = gamma * P + X1`` (the layout of the public code).
- :class:`SelectiveCrossAttention`: a regression network (two temporal convs, max over
  time, two FCs) on the concatenated streams gives a scalar W = sigmoid(.) per video;
  ``X1 = W XI + (1-W) XF``, ``X2 = W XF + (1-W) XI``; then cross-attention on (X1, X2).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """q, k (B, d', T), v (B, D, T) -> P (B, D, T); P[:, :, i] = sum_j softmax_j(q_i . k_j) v_j."""
    energy = torch.bmm(q.transpose(1, 2), k)  # (B, T, T)
    if mask is not None:
        energy = energy.masked_fill(~mask.bool()[:, None, :], float("-inf"))
    att = torch.softmax(energy, dim=-1)
    att = torch.nan_to_num(att)  # a fully padded row (only in padding) gives zeros
    return torch.bmm(v, att.transpose(1, 2)), att


class SelfAttention(nn.Module):
    def __init__(self, dim: int, reduction: int = 8):
        super().__init__()
        self.query = nn.Conv1d(dim, max(1, dim // reduction), 1)
        self.key = nn.Conv1d(dim, max(1, dim // reduction), 1)
        self.value = nn.Conv1d(dim, dim, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x, mask=None):
        p, att = _attend(self.query(x), self.key(x), self.value(x), mask)
        self.last_attention = att.detach()
        return self.gamma * p + x


class CrossAttention(nn.Module):
    def __init__(self, dim: int, reduction: int = 8):
        super().__init__()
        self.query = nn.Conv1d(dim, max(1, dim // reduction), 1)
        self.key = nn.Conv1d(dim, max(1, dim // reduction), 1)
        self.value = nn.Conv1d(dim, dim, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x1, x2, mask=None):
        p, att = _attend(self.query(x2), self.key(x1), self.value(x2), mask)
        self.last_attention = att.detach()
        return self.gamma * p + x1


class SelectiveHead(nn.Module):
    """Temporal convs + FCs -> scalar W in (0, 1) per video."""

    def __init__(self, dim: int, expand=(4, 8), dropout: float = 0.7):
        super().__init__()
        a, b = int(expand[0] * dim), int(expand[1] * dim)
        self.conv1 = nn.Conv1d(2 * dim, a, 3, padding=1)
        self.conv2 = nn.Conv1d(a, b, 3, padding=1)
        self.fc1 = nn.Linear(b, dim)
        self.fc2 = nn.Linear(dim, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, xi, xf, mask=None):
        z = self.conv2(F.relu(self.conv1(torch.cat([xi, xf], 1))))
        if mask is not None:
            z = z.masked_fill(~mask.bool()[:, None, :], float("-inf"))
        z = z.max(dim=2).values
        z = self.fc2(F.relu(self.drop(self.fc1(z))))
        return torch.sigmoid(z)  # (B, 1)


class SelectiveCrossAttention(nn.Module):
    def __init__(self, dim: int, expand=(4, 8), dropout: float = 0.7, reduction: int = 8):
        super().__init__()
        self.select = SelectiveHead(dim, expand, dropout)
        self.cross = CrossAttention(dim, reduction)

    def mix(self, xi, xf, mask=None):
        w = self.select(xi, xf, mask)[:, :, None]  # (B, 1, 1)
        self.last_w = w.detach().flatten()
        return w * xi + (1 - w) * xf, w * xf + (1 - w) * xi

    def forward(self, xi, xf, mask=None):
        x1, x2 = self.mix(xi, xf, mask)
        return self.cross(x1, x2, mask)
