"""C3D (Tran et al. 2015) as seed 000 uses it, with an optional discriminative code layer.

Architecture (all convolutions 3x3x3, padding 1, ReLU)::

    conv1(64)  pool1 (1,2,2)
    conv2(128) pool2 (2,2,2)
    conv3a(256) conv3b(256) pool3 (2,2,2)
    conv4a(512) conv4b(512) pool4 (2,2,2)
    conv5a(512) conv5b(512) pool5 (2,2,2), spatial padding (0,1,1) as in the public PyTorch port
    fc6(4096) dropout  fc7(4096) dropout  fc8(n_classes)      (softmax over fc8)
    dc(N): linear map A (N x 4096, no bias) of the fc7 activation: the discriminative code layer

Layer names equal the public PyTorch port's (``conv1 ... conv5b, fc6, fc7, fc8``) so its weight
files load key for key (:mod:`irpipe.models.pretrained`). With a 3x16x112x112 clip pool5 gives
512x1x4x4 = 8192 inputs to fc6; the network with a 12-way fc8 and no DC layer has 78,044,940
parameters (79,991,015 with the 487-way Sports-1M head).

``width_scale`` divides every convolution's channels and ``fc_dim`` sets the width of fc6/fc7, so
the embedded default trains in minutes on two CPU cores; the input resolution follows the clip
(``fc6``'s input size is computed from ``clip_len`` and ``crop``). ``width_scale=1, fc_dim=4096,
clip_len=16, crop=112`` is the paper's network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

# (name, paper output channels)
CONV_LAYERS: list[tuple[str, int]] = [
    ("conv1", 64), ("conv2", 128), ("conv3a", 256), ("conv3b", 256),
    ("conv4a", 512), ("conv4b", 512), ("conv5a", 512), ("conv5b", 512),
]
# pool after conv: name, kernel, stride, padding
POOLS: dict[str, tuple[str, tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "conv1": ("pool1", (1, 2, 2), (1, 2, 2), (0, 0, 0)),
    "conv2": ("pool2", (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv3b": ("pool3", (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv4b": ("pool4", (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv5b": ("pool5", (2, 2, 2), (2, 2, 2), (0, 1, 1)),
}
PORT_KEYS = [n for n, _ in CONV_LAYERS] + ["fc6", "fc7", "fc8"]


def _pool_len(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


@dataclass(frozen=True)
class C3DSpec:
    n_classes: int = 12
    width_scale: float = 1.0
    fc_dim: int = 4096
    code_dim: int = 0          # N neurons of the DC layer; 0 = no DC layer
    clip_len: int = 16
    crop: int = 112
    dropout: float = 0.5
    in_channels: int = 3

    def channels(self) -> list[int]:
        return [max(1, int(round(c * self.width_scale))) for _, c in CONV_LAYERS]

    def pool5_shape(self) -> tuple[int, int, int, int]:
        t, h, w = self.clip_len, self.crop, self.crop
        for _, k, s, p in POOLS.values():
            t, h, w = (_pool_len(t, k[0], s[0], p[0]), _pool_len(h, k[1], s[1], p[1]),
                       _pool_len(w, k[2], s[2], p[2]))
            if min(t, h, w) < 1:
                raise ValueError(f"clip {self.clip_len}x{self.crop}x{self.crop} is too small for C3D's five poolings")
        return (self.channels()[-1], t, h, w)


class C3D(nn.Module):
    def __init__(self, spec: C3DSpec = C3DSpec()):
        super().__init__()
        self.spec = spec
        chans = spec.channels()
        prev = spec.in_channels
        for (name, _), c in zip(CONV_LAYERS, chans):
            setattr(self, name, nn.Conv3d(prev, c, kernel_size=3, padding=1))
            prev = c
            if name in POOLS:
                pname, k, s, p = POOLS[name]
                setattr(self, pname, nn.MaxPool3d(kernel_size=k, stride=s, padding=p))
        c5, t5, h5, w5 = spec.pool5_shape()
        self.fc6 = nn.Linear(c5 * t5 * h5 * w5, spec.fc_dim)
        self.fc7 = nn.Linear(spec.fc_dim, spec.fc_dim)
        self.fc8 = nn.Linear(spec.fc_dim, spec.n_classes)
        self.dropout = nn.Dropout(spec.dropout)
        self.relu = nn.ReLU(inplace=False)
        # The discriminative code layer: codes = A x, x = fc7 activation; no bias (as the paper).
        self.dc = nn.Linear(spec.fc_dim, spec.code_dim, bias=False) if spec.code_dim > 0 else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for name, _ in CONV_LAYERS:
            conv = getattr(self, name)
            nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        for fc in (self.fc6, self.fc7):
            nn.init.kaiming_normal_(fc.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(fc.bias)
        self.reset_head()
        if self.dc is not None:
            nn.init.normal_(self.dc.weight, std=self.spec.fc_dim ** -0.5)

    def reset_head(self) -> None:
        nn.init.normal_(self.fc8.weight, std=0.01)
        nn.init.zeros_(self.fc8.bias)

    def layers(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield (layer name, output) for every layer in order (shape checks, feature taps)."""
        for name, _ in CONV_LAYERS:
            x = self.relu(getattr(self, name)(x))
            yield name, x
            if name in POOLS:
                pname = POOLS[name][0]
                x = getattr(self, pname)(x)
                yield pname, x
        yield from self._head(x)

    def _head(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        x = x.flatten(1)
        x = self.relu(self.fc6(x))
        yield "fc6", x
        x = self.relu(self.fc7(self.dropout(x)))
        yield "fc7", x
        if self.dc is not None:
            yield "dc", self.dc(x)
        yield "fc8", self.fc8(self.dropout(x))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: (B, 3, T, H, W). Returns logits (fc8), fc7 (the DC layer's input x) and,
        with a DC layer, codes (= A x).

        Where a pooling follows, the ReLU runs after it, on the 4-8x smaller tensor: max pooling
        commutes with ReLU, and the gradients are the same too (a window's gradient goes to its
        first maximum, which is the same element when the maximum is positive; otherwise ReLU
        zeroes it either way). Measured: the same weights bit for bit after training (tests), with
        ReLU's forward and backward ~11 % of a CPU training step before."""
        for name, _ in CONV_LAYERS:
            x = getattr(self, name)(x)
            if name in POOLS:
                x = getattr(self, POOLS[name][0])(x)
            x = self.relu(x)
        out = dict(self._head(x))
        res = {"logits": out["fc8"], "fc7": out["fc7"]}
        if "dc" in out:
            res["codes"] = out["dc"]
        return res


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
