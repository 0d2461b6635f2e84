"""Flow Estimation Network (FEN), Table I of seed 001 (InfDetNet).

Input: two consecutive frames, each downsampled x4, stacked on channels (6 x 56 x 56 for
224 x 224 RGB frames; grey thermal frames are repeated to three channels).

Encoder: conv 7x7/64 stride 2 + InstanceNorm + ReLU, max-pool 3x3 stride 2, four residual
stages of one basic block each at 128/128/256/256 channels (the second with stride 2);
convolutions without bias, InstanceNorm without affine parameters (PyTorch's default),
a 1x1 projection (+ InstanceNorm) on the shortcut where the shape changes.
Decoder: three 4x4 stride-2 transposed convolutions to 128, 64, 32 channels, each with
InstanceNorm + LeakyReLU(0.1); a 1x1 conv to the flow channels; tanh.

With ``c_in=6, c_out=2`` it has 3,345,058 parameters, exactly the count of the public
code's module (the paper quotes 3.41M). The output has the input's spatial size; an input
whose side is not a multiple of 16 is padded (replicate) and the output cropped back.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = nn.InstanceNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.InstanceNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.InstanceNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.InstanceNorm2d(cout), nn.LeakyReLU(0.1))


class FlowEstimationNet(nn.Module):
    """FEN: (B, c_in, H, W) -> (B, c_out, H, W) in [-1, 1]. ``width`` scales every stage."""

    def __init__(self, c_in: int = 6, c_out: int = 2, width: float = 1.0):
        super().__init__()
        w = lambda c: max(1, int(round(c * width)))  # noqa: E731
        self.stem = nn.Sequential(nn.Conv2d(c_in, w(64), 7, 2, 3, bias=False), nn.InstanceNorm2d(w(64)), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.stages = nn.Sequential(_Block(w(64), w(128)), _Block(w(128), w(128), 2),
                                    _Block(w(128), w(256)), _Block(w(256), w(256)))
        self.decoder = nn.Sequential(_up(w(256), w(128)), _up(w(128), w(64)), _up(w(64), w(32)))
        self.head = nn.Conv2d(w(32), c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 16, (-w) % 16
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        y = self.decoder(self.stages(self.pool(self.stem(x))))
        return torch.tanh(self.head(y))[..., :h, :w]


def fen_input(frames: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """Frames (T, C, H, W) in [-1, 1] -> FEN input pairs (T-1, 2C, H/f, W/f).

    Downsampling is area averaging (the public code strides; averaging is the anti-aliased
    equivalent and keeps thin warm silhouettes)."""
    small = F.avg_pool2d(frames, factor) if factor > 1 else frames
    return torch.cat([small[:-1], small[1:]], dim=1)


L1_REDUCTIONS = ("mean", "per_snippet")


def flow_l1(est: torch.Tensor, target: torch.Tensor, n_snippets: int, reduction: str) -> torch.Tensor:
    """L1 between the FEN flow and the (downsampled) TV-L1 flow, both (T-1, 2, h, w).

    ``mean``: averaged over every flow value (frames, channels, pixels): an L1 per pixel.
    ``per_snippet``: the public InfDetNet code's normalisation: the sum over frames, channels
    and pixels divided by snippets x channels x pixels, i.e. ``mean`` x (T-1) / n_snippets
    (about 8 x ``mean`` with 8-frame snippets)."""
    if reduction not in L1_REDUCTIONS:
        raise ValueError(f"L1 reduction {reduction!r}; one of {L1_REDUCTIONS}")
    total = (est - target).abs().sum()
    if reduction == "mean":
        return total / est.numel()
    return total / (max(int(n_snippets), 1) * est[0].numel())


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def count_flops(module: nn.Module, x: torch.Tensor) -> dict:
    """Multiply-accumulates and FLOPs (2 x MACs) of conv / transposed-conv / linear layers,
    counted by forward hooks on ``module(x)`` (norms, activations and pooling not counted,
    as in the usual thop-style counters)."""
    macs = {"value": 0}

    def conv_hook(m, inp, out):
        k = m.weight[0].numel()  # (cin/groups) * kh * kw for Conv; for ConvTranspose: (cout/groups)*kh*kw
        if isinstance(m, nn.ConvTranspose2d):
            # every input element is multiplied by cout/groups * kh * kw weights
            macs["value"] += inp[0].numel() * m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        else:
            macs["value"] += out.numel() * k

    def lin_hook(m, inp, out):
        macs["value"] += out.numel() * m.in_features

    hooks = []
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
    return {"macs": int(macs["value"]), "flops": int(2 * macs["value"])}
