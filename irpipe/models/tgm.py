"""Temporal Gaussian Mixture (TGM) layers and the super-event branch (Piergiovanni & Ryoo).

Despite the name the TGM paper's temporal kernels are Cauchy-shaped: kernel n of length L
has centre ``x_n = (L-1)(tanh(c_n)+1)/2`` and width ``g_n = exp(1.5 - 2|tanh(w_n)|)``,
``K_n[l] = 1 / (pi g_n (1 + ((l - x_n)/g_n)^2))`` normalised to sum to one over l.
A layer holds N such kernels and, for every (output, input) channel pair, a soft
attention (softmax over N) that mixes them into one kernel, which therefore also sums to
one. Each feature dimension is convolved independently over time ("same" padding); for
several input channels a 1x1 conv + ReLU combines them per output channel.

The super-event branch (TSF) places N Cauchy attention curves over the whole (real)
length of the video and pools the features under them into a video-level vector.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def cauchy_kernels(center: torch.Tensor, width: torch.Tensor, length: int | torch.Tensor,
                   n_taps: int) -> torch.Tensor:
    """Normalised Cauchy kernels (..., n_taps) for raw parameters ``center``/``width``
    (any shape, unconstrained; squashed through tanh / exp as in the TGM paper).
    ``length`` (scalar or broadcastable tensor) sets where centres can lie: [0, length-1]."""
    length = torch.as_tensor(length, dtype=center.dtype, device=center.device)
    c = (length - 1) * (torch.tanh(center) + 1) / 2
    g = torch.exp(1.5 - 2.0 * torch.abs(torch.tanh(width)))
    t = torch.arange(n_taps, dtype=center.dtype, device=center.device)
    k = 1.0 / (math.pi * g[..., None] * (1 + ((t - c[..., None]) / g[..., None]) ** 2))
    return k / k.sum(-1, keepdim=True)


class TGMLayer(nn.Module):
    """(B, c_in, D, T) or (B, D, T) -> (B, c_out, D, T)."""

    def __init__(self, n_kernels: int = 16, length: int = 5, c_in: int = 1, c_out: int = 8):
        super().__init__()
        self.n_kernels, self.length, self.c_in, self.c_out = n_kernels, length, c_in, c_out
        self.center = nn.Parameter(torch.randn(n_kernels) * 0.5)
        self.width = nn.Parameter(torch.randn(n_kernels) * 1e-4)
        self.attention = nn.Parameter(torch.randn(c_out * c_in, n_kernels) * 0.01)
        self.combine = nn.Conv2d(c_in * c_out, c_out, 1, groups=c_out) if c_in > 1 else None

    def kernels(self) -> torch.Tensor:
        """Mixed kernels (c_out * c_in, length), each summing to one."""
        base = cauchy_kernels(self.center, self.width, self.length, self.length)
        return torch.softmax(self.attention, dim=1) @ base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x[:, None]
        if x.shape[1] == 1 and self.c_in > 1:
            x = x.expand(-1, self.c_in, -1, -1)
        k = self.kernels().view(self.c_out, self.c_in, self.length)
        pad = self.length - 1
        # windows (B, c_in, D, T, L); "same" zero padding
        u = F.pad(x, (pad // 2, pad - pad // 2)).unfold(-1, self.length, 1)
        if self.combine is None:
            return torch.einsum("bidtl,oil->bodt", u, k)
        # the per-output 1x1 conv over input channels is linear, so it folds into the kernel:
        # sum_i W[o,i] sum_l k[o,i,l] u[i,l] = sum_{i,l} (W[o,i] k[o,i,l]) u[i,l]
        w = self.combine.weight.view(self.c_out, self.c_in)
        y = torch.einsum("bidtl,oil->bodt", u, k * w[:, :, None])
        return F.relu(y + self.combine.bias.view(1, -1, 1, 1))

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Direct grouped-convolution form (slow on CPU): kept as the tests' reference."""
        if x.dim() == 3:
            x = x[:, None]
        if x.shape[1] == 1 and self.c_in > 1:
            x = x.expand(-1, self.c_in, -1, -1)
        k = self.kernels()
        pad = self.length - 1
        xp = F.pad(x, (pad // 2, pad - pad // 2))
        xin = xp.repeat(1, self.c_out, 1, 1) if self.c_in > 1 else xp.expand(-1, self.c_out, -1, -1)
        y = F.conv2d(xin, k[:, None, None, :], groups=self.c_out * self.c_in)
        if self.combine is not None:
            y = F.relu(self.combine(y))
        return y


class SuperEvent(nn.Module):
    """TSF: N Cauchy attention curves over the video's real length -> (B, D) (max over N)."""

    def __init__(self, n: int = 3):
        super().__init__()
        self.center = nn.Parameter(torch.randn(n) * 0.5)
        self.width = nn.Parameter(torch.randn(n) * 1e-4)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        b, d, t = x.shape
        # curves placed over [0, length-1] of each video; zero on padded snippets
        k = cauchy_kernels(self.center[None, :], self.width[None, :], lengths.to(x.dtype)[:, None], t)
        valid = (torch.arange(t, device=x.device)[None, :] < lengths[:, None]).to(x.dtype)
        k = k * valid[:, None, :]
        k = k / k.sum(-1, keepdim=True).clamp_min(1e-6)
        pooled = torch.einsum("bnt,bdt->bnd", k, x)
        return pooled.max(dim=1).values


class TGMHead(nn.Module):
    """Three TGM layers + two super-events -> per-snippet class logits (B, C, T)."""

    def __init__(self, dim: int, n_classes: int, hidden: int = 512, n_kernels: int = 16, length: int = 5,
                 channels: int = 8, dropout: float = 0.5, super_event: bool = True):
        super().__init__()
        self.n_classes = n_classes
        self.tgm = nn.ModuleList([TGMLayer(n_kernels, length, 1, channels),
                                  TGMLayer(n_kernels, length, channels, channels),
                                  TGMLayer(n_kernels, length, channels, channels)])
        self.use_super = super_event
        if super_event:
            self.super1, self.super2 = SuperEvent(3), SuperEvent(3)
            self.class_mix = nn.Parameter(torch.zeros(n_classes))
            self.super_weights = nn.Parameter(torch.empty(n_classes, dim).uniform_(-1, 1) / math.sqrt(2 * dim))
        self.drop = nn.Dropout(dropout)
        self.hidden = nn.Conv1d(2 * dim + (n_classes if super_event else 0), hidden, 1)
        self.classify = nn.Conv1d(hidden, n_classes, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        b, d, t = x.shape
        valid = (torch.arange(t, device=x.device)[None, :] < lengths[:, None]).to(x.dtype)
        sub = x * valid[:, None, :]
        for layer in self.tgm:
            # re-mask after each layer: padded snippets stay zero, as if the video ended there
            sub = layer(sub) * valid[:, None, None, :]
        sub = sub.max(dim=1).values  # (B, D, T)
        parts = [self.drop(x), self.drop(sub)]
        if self.use_super:
            s = torch.stack([self.super1(x, lengths), self.super2(x, lengths)], 1)  # (B, 2, D)
            a = torch.sigmoid(self.class_mix)
            mix = torch.stack([a, 1 - a], 1)  # (C, 2)
            s = torch.einsum("cj,bjd->bcd", mix, s)  # (B, C, D)
            s = (s * self.super_weights[None]).sum(-1)  # (B, C)
            parts.append(self.drop(s)[:, :, None].expand(-1, -1, t))
        h = F.relu(self.hidden(F.relu(torch.cat(parts, 1))))
        return self.classify(h)


BCE_REDUCTIONS = ("sum_classes", "mean")


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, reduction: str) -> torch.Tensor:
    """Binary cross-entropy per class and snippet over real (mask=1) snippets only.

    ``sum_classes``: summed over the classes, averaged over the real snippets (seed 001's
    classification loss; the public code divides the sum by the number of real snippets).
    ``mean``: averaged over classes too, i.e. ``sum_classes`` / C: beside an added loss term
    of weight w this equals ``sum_classes`` with that term's weight C * w."""
    if reduction not in BCE_REDUCTIONS:
        raise ValueError(f"BCE reduction {reduction!r}; one of {BCE_REDUCTIONS}")
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # (B, C, T)
    m = mask.to(loss.dtype)[:, None, :]
    per = m.sum() * (logits.shape[1] if reduction == "mean" else 1)
    return (loss * m).sum() / per.clamp_min(1.0)
