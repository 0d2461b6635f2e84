"""I3D feature extractor: Inception-v1 inflated to 3D (Carreira & Zisserman 2017).

Module and parameter names follow the widely used public PyTorch port (``InceptionI3d``
with end points ``Conv3d_1a_7x7`` ... ``Mixed_5c`` and ``logits``; units holding
``conv3d`` and ``bn``; inception branches ``b0, b1a, b1b, b2a, b2b, b3b``), so a state
dict in that layout (e.g. ``rgb_imagenet.pt`` / ``flow_imagenet.pt``) loads with
:func:`load_i3d_weights`. Convolutions use TensorFlow-style "same" padding, BatchNorm with
eps 1e-3, as in the port.

Features: the Mixed_5c output averaged over space, one ``1024 * width``-d vector per
8 input frames (the network's temporal stride is 8; a video of T frames gives ceil(T/8)
features). The port's final AvgPool3d((2, 7, 7), stride 1) is replaced by a spatial mean
only, so that every 8-frame snippet keeps its own feature and any resolution works.

``width`` scales every channel count (1.0 = the real I3D, 12.29M backbone parameters);
the embedded CPU default uses a narrower network on small frames, stated in the report.
"""
from __future__ import annotations

import logging
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import BadInputError

log = logging.getLogger(__name__)


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
    return total // 2, total - total // 2


class Unit3D(nn.Module):
    def __init__(self, cin, cout, kernel=(1, 1, 1), stride=(1, 1, 1), bn=True, relu=True, bias=False):
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if bn else None

    def forward(self, x):
        pads = []
        for size, k, s in zip(reversed(x.shape[2:]), reversed(self.kernel), reversed(self.stride)):
            pads += _same_pad(size, k, s)
        x = self.conv3d(F.pad(x, pads))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPoolSame(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        pads = []
        for size, k, s in zip(reversed(x.shape[2:]), reversed(self.kernel), reversed(self.stride)):
            pads += _same_pad(size, k, s)
        # zero padding as in the port (inputs after ReLU are >= 0)
        return F.max_pool3d(F.pad(x, pads), self.kernel, self.stride)


class Inception(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.b0 = Unit3D(cin, c[0])
        self.b1a = Unit3D(cin, c[1])
        self.b1b = Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a = Unit3D(cin, c[3])
        self.b2b = Unit3D(c[3], c[4], (3, 3, 3))
        self.b3a = MaxPoolSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(cin, c[5])
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)


_MIXED = [
    ("Mixed_3b", [64, 96, 128, 16, 32, 32]), ("Mixed_3c", [128, 128, 192, 32, 96, 64]),
    ("MaxPool3d_4a_3x3", None),
    ("Mixed_4b", [192, 96, 208, 16, 48, 64]), ("Mixed_4c", [160, 112, 224, 24, 64, 64]),
    ("Mixed_4d", [128, 128, 256, 24, 64, 64]), ("Mixed_4e", [112, 144, 288, 32, 64, 64]),
    ("Mixed_4f", [256, 160, 320, 32, 128, 128]),
    ("MaxPool3d_5a_2x2", None),
    ("Mixed_5b", [256, 160, 320, 32, 128, 128]), ("Mixed_5c", [384, 192, 384, 48, 128, 128]),
]


class InceptionI3d(nn.Module):
    """I3D backbone + optional logits. ``in_channels`` 3 (RGB / grey x3) or 2 (flow)."""

    TEMPORAL_STRIDE = 8

    def __init__(self, num_classes: int = 400, in_channels: int = 3, width: float = 1.0, logits: bool = True):
        super().__init__()
        w = lambda c: max(1, int(round(c * width)))  # noqa: E731
        self.width = width
        self.Conv3d_1a_7x7 = Unit3D(in_channels, w(64), (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPoolSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(w(64), w(64))
        self.Conv3d_2c_3x3 = Unit3D(w(64), w(192), (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPoolSame((1, 3, 3), (1, 2, 2))
        self.end_points = ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3"]
        c = w(192)
        for name, spec in _MIXED:
            if spec is None:
                k = (3, 3, 3) if name.endswith("4a_3x3") else (2, 2, 2)
                setattr(self, name, MaxPoolSame(k, (2, 2, 2)))
            else:
                mod = Inception(c, [w(v) for v in spec])
                setattr(self, name, mod)
                c = mod.out_channels
            self.end_points.append(name)
        self.feature_dim = c
        self.logits = Unit3D(c, num_classes, bn=False, relu=False, bias=True) if logits else None

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) in [-1, 1] -> (B, D, ceil(T/8)) snippet features."""
        for name in self.end_points:
            x = getattr(self, name)(x)
        return x.mean(dim=(3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.extract_features(x)
        if self.logits is None:
            return f
        return self.logits(f[..., None, None]).squeeze(-1).squeeze(-1)


def backbone_parameters(model: InceptionI3d) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("logits."))


def load_i3d_weights(model: InceptionI3d, path: str | os.PathLike, strict_backbone: bool = True) -> list[str]:
    """Load a state dict in the public port's key layout; the ``logits`` layer is skipped when
    its shape differs (a different number of classes). Returns the skipped keys.
    Raises BadInputError naming the file if a backbone key is missing or mis-shaped."""
    from ..checkpoints import load_checkpoint

    state = load_checkpoint(path)
    state = state.get("state_dict", state)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = model.state_dict()
    skipped = []
    missing = [k for k in own if not k.startswith("logits.") and k not in state]
    if missing and strict_backbone:
        raise BadInputError(path, f"not an I3D state dict in the public port's layout: missing {missing[:3]} "
                                  f"({len(missing)} keys)")
    load = {}
    for k, v in state.items():
        if k not in own:
            skipped.append(k)
        elif own[k].shape != v.shape:
            if k.startswith("logits."):
                skipped.append(k)
            else:
                raise BadInputError(path, f"{k}: shape {tuple(v.shape)} but the model (width "
                                          f"{model.width}) expects {tuple(own[k].shape)}")
        else:
            load[k] = v
    model.load_state_dict(load, strict=False)
    log.info("loaded I3D weights from %s (%d tensors, skipped %d)", path, len(load), len(skipped))
    return skipped


def n_snippets(n_frames: int) -> int:
    return math.ceil(n_frames / InceptionI3d.TEMPORAL_STRIDE)
