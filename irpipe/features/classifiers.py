"""Linear SVMs with probability outputs (the hand-crafted baseline's classifiers).

A multi-class linear SVM, one-vs-rest (liblinear, hinge loss, seeded), turned into
posteriors by a softmax of its decision values with one temperature ``T``. ``T`` is
calibrated by minimising the log-loss of *out-of-fold* decision values (stratified folds
of the training videos, seeded): decision values of the training videos themselves are
over-confident margins and would give a useless calibration. (libsvm's Platt-scaled
one-vs-one probabilities were tried first: with the few training videos per class of the
embedded default their arg-max often disagreed with the SVM's own decision.) The arg-max
of the posteriors is the SVM's decision. Columns are always the ``n_classes`` label
indices; a class absent from training gets probability 0.
"""
from __future__ import annotations

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LinearSVMProba:
    def __init__(self, C: float = 1.0, n_classes: int | None = None, seed: int = 0,
                 standardise: bool = False, n_folds: int = 3):
        self.C = C
        self.n_classes = n_classes
        self.seed = seed
        self.standardise = standardise
        self.n_folds = n_folds

    def _svm(self):
        from sklearn.svm import LinearSVC

        return LinearSVC(C=self.C, loss="hinge", dual=True, max_iter=20000, random_state=self.seed)

    def _prep(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if self.standardise:
            X = (X - self.mu_) / self.sd_
        return X

    def _decision(self, svm, X: np.ndarray) -> np.ndarray:
        d = svm.decision_function(X)
        if d.ndim == 1:  # two classes: liblinear returns one column
            d = np.column_stack([-d, d])
        out = np.full((len(X), self.n_classes_), -np.inf)
        out[:, svm.classes_] = d
        return out

    def fit(self, X, y):
        import warnings

        from scipy.optimize import minimize_scalar
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import StratifiedKFold

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if not np.all(np.isfinite(X)):
            raise ValueError("SVM features contain NaN or Inf")
        if len(np.unique(y)) < 2:
            raise ValueError("an SVM needs at least two classes in training")
        self.n_classes_ = int(self.n_classes or (y.max() + 1))
        if self.standardise:
            self.mu_ = X.mean(axis=0)
            sd = X.std(axis=0)
            self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        Xp = self._prep(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.svm_ = self._svm().fit(Xp, y)
            counts = np.bincount(y)[np.unique(y)]
            n_folds = min(self.n_folds, int(counts.min()))
            self.temperature_ = 1.0
            if n_folds >= 2:
                oof = np.zeros((len(y), self.n_classes_))
                skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
                ok = True
                for tr, te in skf.split(Xp, y):
                    if len(np.unique(y[tr])) < len(np.unique(y)):
                        ok = False
                        break
                    oof[te] = self._decision(self._svm().fit(Xp[tr], y[tr]), Xp[te])
                if ok:
                    oof = np.where(np.isfinite(oof), oof, -1e9)

                    def nll(logt):
                        p = _softmax(np.exp(logt) * oof)
                        return -np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-300)))

                    res = minimize_scalar(nll, bounds=(np.log(1e-2), np.log(1e3)), method="bounded")
                    self.temperature_ = float(np.exp(res.x))
        return self

    def decision_function(self, X) -> np.ndarray:
        return self._decision(self.svm_, self._prep(X))

    def predict_proba(self, X) -> np.ndarray:
        d = self.decision_function(X)
        z = np.where(np.isfinite(d), self.temperature_ * d, -np.inf)
        m = np.max(np.where(np.isfinite(z), z, -np.inf), axis=1, keepdims=True)
        e = np.where(np.isfinite(z), np.exp(z - m), 0.0)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X).argmax(axis=1)
