"""SUBSTITUTE concept bank for the paper's 2,784 VideoStory46K concept detectors.

The paper represents each video by the scores of 2,784 concept detectors trained on
VideoStory46K (web videos with text descriptions); that data set and those detectors are
not available. This module builds a **substitute**: a bank of ``n_concepts`` linear
concept detectors trained on the TRAINING videos of the split, on the same Fisher vectors,
for a concept vocabulary derived here:

- ``class_subsets`` (attribute-based, default): each concept is a random non-trivial subset
  of the action classes ("moves the arms", "two people", ... in spirit: attributes shared
  by several classes), drawn from a seeded generator, without repeats;
- ``clusters`` (data-driven, label-free): each concept is membership of one cluster of a
  seeded k-means of the training Fisher vectors, with several granularities.

Detectors are ridge-regression (least-squares) linear classifiers, all concepts solved in
one linear system in the dual. A video's concept vector is the detectors' scores. Scores
of TRAINING videos are computed out of fold (stratified folds: the detectors that score a
training video never saw it), so a classifier trained on them sees the same kind of
scores it will get on test videos.

It is not VideoStory: its concepts come from the target data set's own training split.
Tables and the report name it "substitute concept bank".
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

SUBSTITUTE_NAME = "substitute concept bank (not VideoStory46K)"


def class_subset_concepts(n_classes: int, n_concepts: int, seed: int) -> np.ndarray:
    """(n_concepts, n_classes) bool: distinct random non-trivial class subsets."""
    if n_classes < 2:
        raise ValueError("attribute-like concepts need at least two classes")
    rng = np.random.default_rng(seed)
    possible = 2 ** n_classes - 2
    seen: set[bytes] = set()
    out = []
    while len(out) < n_concepts:
        m = rng.random(n_classes) < 0.5
        if not m.any() or m.all():
            continue
        key = m.tobytes()
        if key in seen and len(seen) < possible:
            continue  # repeats only once every subset is used
        seen.add(key)
        out.append(m)
    return np.array(out)


def _kmeans_labels(X: np.ndarray, k: int, seed: int, n_iter: int = 30) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=1, max_iter=n_iter, random_state=seed).fit_predict(X)


class SubstituteConceptBank(BaseEstimator, TransformerMixin):
    """Substitute concept detectors (see module doc): ``fit(X, y)``, ``transform(X)``,
    ``fit_transform_oof(X, y)`` for out-of-fold training scores."""

    def __init__(self, n_concepts: int = 64, kind: str = "class_subsets", ridge: float = 1.0,
                 n_folds: int = 3, seed: int = 0):
        self.n_concepts = n_concepts
        self.kind = kind
        self.ridge = ridge
        self.n_folds = n_folds
        self.seed = seed

    # concept vocabulary ------------------------------------------------------------
    def _targets(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(n_train, M) targets in {-1, +1} of the concept vocabulary."""
        if self.kind == "class_subsets":
            n_classes = int(y.max()) + 1
            if not hasattr(self, "subsets_"):
                self.subsets_ = class_subset_concepts(n_classes, self.n_concepts, self.seed)
            return np.where(self.subsets_[:, y].T, 1.0, -1.0)
        if self.kind == "clusters":
            if not hasattr(self, "cluster_targets_"):
                rng = np.random.default_rng(self.seed)
                cols, total, r = [], 0, 0
                kmax = max(2, min(len(X) // 2, 64))
                while total < self.n_concepts:
                    k = int(rng.integers(2, kmax + 1))
                    lab = _kmeans_labels(X, k, self.seed + r)
                    r += 1
                    for c in range(k):
                        if total == self.n_concepts:
                            break
                        cols.append(lab == c)
                        total += 1
                self.cluster_targets_ = np.column_stack(cols)
            return np.where(self.cluster_targets_, 1.0, -1.0)
        raise ValueError(f"unknown concept kind '{self.kind}' (class_subsets or clusters)")

    # detectors ------------------------------------------------------------------------
    def _solve(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = X.mean(axis=0)
        Xc = X - mu
        ym = Y.mean(axis=0)
        G = Xc @ Xc.T
        A = np.linalg.solve(G + self.ridge * np.eye(len(G)), Y - ym)
        W = Xc.T @ A
        return W, ym - mu @ W

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        self.train_X_, self.train_y_ = X, y  # concept definitions depend on the whole train set
        Y = self._targets(X, y)
        self.coef_, self.intercept_ = self._solve(X, Y)
        return self

    def transform(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_).astype(np.float32)

    def fit_transform_oof(self, X, y) -> np.ndarray:
        """Fit on all of ``X`` and return out-of-fold concept scores of ``X`` itself."""
        from sklearn.model_selection import StratifiedKFold

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        self.fit(X, y)
        Y = self._targets(X, y)
        min_count = np.bincount(y)[np.bincount(y) > 0].min()
        n_folds = max(2, min(self.n_folds, int(min_count)))
        skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
        out = np.zeros((len(X), Y.shape[1]), dtype=np.float32)
        for tr, te in skf.split(X, y):
            W, b = self._solve(X[tr], Y[tr])
            out[te] = X[te] @ W + b
        return out
