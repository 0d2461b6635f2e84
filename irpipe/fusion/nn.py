"""Neural fusion of the two streams' discriminative codes (seed 000, Table 3).

Single-layer NN fusion
    One fully connected softmax layer on the concatenation ``[code_ir, code_flow]`` (2D inputs).
Two-layer NN fusion
    The two codes stacked as two channels of a length-D signal (the concatenation along the
    channel axis), a 1x1 convolution with 50 filters (each filter mixes the two streams at
    every code coordinate, as in convolutional two-stream fusion) and a ReLU, then a fully
    connected softmax layer on the 50 x D map. Needs both codes to have the same length.
    This is the default reading (``fusion.nn.two_layer: stacked``) of the paper's "1x1
    convolution with 50 filters on the concatenated codes": a 1x1 convolution needs an axis
    to slide along, and stacking two streams' maps along the channel axis before a 1x1 conv
    is the usual convolutional two-stream fusion. The other reading
    (``two_layer: hidden``) treats the concatenated 2D vector as a 1x1 map with 2D channels,
    where a 1x1 convolution is a fully connected hidden layer of 50 units (+ ReLU), then the
    softmax layer: an ordinary two-layer perceptron.

Inputs are standardised with the training set's per-feature mean and std. Training is
full-batch (or mini-batch) Adam with cross-entropy and weight decay, seeded: the same
config, seed and machine give the same weights. At the paper's code length (4096 per stream)
the two-layer net's 50 x 4096 feature map makes CPU training slow (bench/fusion.py): use
``fusion.nn.device: auto`` (CUDA when present).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..devices import resolve_device

log = logging.getLogger(__name__)

KINDS = ("single_layer", "two_layer")
TWO_LAYER_READINGS = ("stacked", "hidden")


def _torch():
    import torch

    return torch


def build_model(kind: str, code_dim: int, n_classes: int, filters: int = 50, reading: str = "stacked"):
    """The fusion network for codes of length ``code_dim`` per stream (two streams)."""
    torch = _torch()
    nn = torch.nn
    if kind == "single_layer":
        return nn.Sequential(nn.Flatten(), nn.Linear(2 * code_dim, n_classes))
    if reading not in TWO_LAYER_READINGS:
        raise ValueError(f"unknown two-layer reading {reading!r}; expected one of {TWO_LAYER_READINGS}")
    if kind == "two_layer" and reading == "hidden":
        # the (N, 2, D) stack flattened to the concatenation [code_ir, code_flow] as 2D channels
        # of a 1x1 map: the 1x1 conv is then a Linear(2D, filters)
        return nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2 * code_dim, 1)), nn.Conv1d(2 * code_dim, filters, 1),
                             nn.ReLU(), nn.Flatten(), nn.Linear(filters, n_classes))
    if kind == "two_layer":
        return nn.Sequential(nn.Conv1d(2, filters, kernel_size=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(filters * code_dim, n_classes))
    raise ValueError(f"unknown NN fusion kind {kind!r}; expected one of {KINDS}")


def stack_codes(codes: Mapping[str, np.ndarray], streams=("ir", "flow")) -> np.ndarray:
    """(N, 2, D) array of the streams' codes, in ``streams`` order."""
    arrs = [np.asarray(codes[s], dtype=np.float32) for s in streams]
    if arrs[0].ndim != 2 or any(a.shape != arrs[0].shape for a in arrs):
        raise ValueError("NN fusion needs (N, D) codes of the same shape for both streams; got "
                         + ", ".join(f"{s}: {a.shape}" for s, a in zip(streams, arrs)))
    return np.stack(arrs, axis=1)


@dataclass
class FusionNet:
    """A trained fusion network with the standardisation it was trained with."""

    model: object
    mean: np.ndarray
    std: np.ndarray
    losses: list
    device: str = "cpu"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        torch = _torch()
        z = (np.asarray(x, dtype=np.float32) - self.mean) / self.std
        self.model.eval()
        with torch.no_grad():
            out = torch.softmax(self.model(torch.from_numpy(z).to(self.device)), dim=1)
        return out.cpu().numpy().astype(np.float64)


def train_fusion_net(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, *, epochs: int = 200,
                     lr: float = 1e-3, weight_decay: float = 5e-4, batch_size: int | None = None,
                     filters: int = 50, seed: int = 0, threads: int | None = None,
                     device: str | None = "cpu", reading: str = "stacked") -> FusionNet:
    """Train a fusion network on stacked codes ``x`` (N, 2, D) with labels ``y``.

    ``batch_size`` None trains full-batch. Returns the model and the per-epoch mean loss.
    """
    torch = _torch()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 3 or x.shape[1] != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be (N, 2, D) with N = len(y); got {x.shape} and {y.shape}")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"labels must be in 0..{n_classes - 1}")
    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        return _train(torch, kind, x, y, n_classes, epochs, lr, weight_decay, batch_size, filters, seed,
                      resolve_device(device, "fusion.nn.device"), reading)
    finally:
        torch.set_num_threads(previous_threads)


def _train(torch, kind, x, y, n_classes, epochs, lr, weight_decay, batch_size, filters, seed, device,
           reading="stacked") -> FusionNet:
    mean = x.mean(axis=0, keepdims=True)[0]
    std = x.std(axis=0, keepdims=True)[0]
    std = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    z = torch.from_numpy((x - mean) / std).to(device)
    t = torch.from_numpy(y).to(device)
    gen = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))
    model = build_model(kind, x.shape[2], n_classes, filters, reading).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    bs = n if not batch_size else min(int(batch_size), n)
    losses = []
    model.train()
    for _ in range(int(epochs)):
        order = (torch.randperm(n, generator=gen) if bs < n else torch.arange(n)).to(device)
        total = 0.0
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(z[idx]), t[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / n)
    if not np.isfinite(losses[-1]):
        raise FloatingPointError(f"{kind} fusion training diverged (loss {losses[-1]})")
    return FusionNet(model=model, mean=mean, std=std, losses=losses, device=device)
