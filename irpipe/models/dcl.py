"""The discriminative code layer (DCL) of seed 000: p-hot target codes and the code loss.

The DC layer has N neurons; with m classes and N = p*m + r, class k owns a contiguous block of
p coordinates (in the paper's 1-based notation [p(k-1)+1, pk]) and the r remaining neurons go,
one each, to the r classes with the highest intra-class variation measured on the training data
(those classes own p+1 coordinates; blocks stay contiguous and in class order). The target code
q of a sample of class k is 1 on k's block and 0 elsewhere.

Loss: L = Lc + alpha * ||q - A x||^2, where x is the DC layer's input (the fc7 activation) and A
(N x D) the DC layer's weight, the only parameter of the code term (no bias, as in the paper).
Over a batch we average both terms over samples. Closed forms (per sample):
dL/dA = 2 alpha (A x - q) x^T and dL/dx gains 2 alpha A^T (A x - q).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def code_blocks(n_codes: int, n_classes: int, variation: np.ndarray | None = None) -> np.ndarray:
    """Per class, the [start, stop) of its coordinates: (n_classes, 2) int array.

    ``variation`` (n_classes,) ranks the classes for the r = n_codes mod n_classes extra
    neurons (highest first; ties go to the lower class index). Needed when r > 0.
    """
    if n_classes < 1 or n_codes < n_classes:
        raise ValueError(f"the DC layer needs at least one neuron per class: N={n_codes}, classes={n_classes}")
    p, r = divmod(n_codes, n_classes)
    sizes = np.full(n_classes, p, dtype=np.int64)
    if r:
        if variation is None:
            raise ValueError(f"N={n_codes} = {p}*{n_classes} + {r}: the {r} extra neurons need the "
                             "classes' intra-class variation")
        variation = np.asarray(variation, dtype=np.float64)
        if variation.shape != (n_classes,) or not np.all(np.isfinite(variation)):
            raise ValueError(f"variation must be {n_classes} finite values, got {variation}")
        order = np.lexsort((np.arange(n_classes), -variation))  # highest variation first, stable
        sizes[order[:r]] += 1
    stops = np.cumsum(sizes)
    return np.stack([stops - sizes, stops], axis=1)


def target_codes(n_codes: int, n_classes: int, variation: np.ndarray | None = None) -> np.ndarray:
    """The (n_classes, N) matrix Q whose row k is the p-hot target code of class k (float32)."""
    blocks = code_blocks(n_codes, n_classes, variation)
    q = np.zeros((n_classes, n_codes), dtype=np.float32)
    for k, (a, b) in enumerate(blocks):
        q[k, a:b] = 1.0
    return q


def intra_class_variation(features: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class, the mean squared Euclidean distance of its samples to the class mean.

    ``features`` (n, d): one row per training sample (the trainer passes down-sampled training
    clips). A class with fewer than two samples has variation 0.
    """
    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    labels = np.asarray(labels)
    out = np.zeros(n_classes, dtype=np.float64)
    for k in range(n_classes):
        f = features[labels == k]
        if len(f) > 1:
            out[k] = float(np.mean(np.sum((f - f.mean(axis=0)) ** 2, axis=1)))
    return out


def code_loss(codes: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||q - A x||^2 (``codes`` = A x, ``targets`` = q, both (B, N))."""
    return ((targets - codes.float()) ** 2).sum(dim=1).mean()


def dcl_loss(logits: torch.Tensor, labels: torch.Tensor, codes: torch.Tensor | None,
             q_table: torch.Tensor | None, alpha: float) -> tuple[torch.Tensor, dict[str, float]]:
    """L = Lc + alpha * ||q - A x||^2 (batch means). Returns the loss and its parts."""
    lc = F.cross_entropy(logits.float(), labels)
    parts = {"loss_cls": float(lc.detach())}
    if alpha > 0 and codes is not None:
        lq = code_loss(codes, q_table[labels])
        parts["loss_code"] = float(lq.detach())
        loss = lc + alpha * lq
    else:
        loss = lc
    parts["loss"] = float(loss.detach())
    return loss, parts
