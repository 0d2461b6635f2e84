"""PCA + seeded diagonal GMM + improved Fisher vectors, as scikit-learn-style transformers.

The encoders take a *list* of per-video descriptor arrays (each ``(n_i, D)``, any float or
uint8 dtype) and return one row per video: descriptors are pooled over the whole video
(spatio-temporal sum pooling, as in the paper's hand-crafted baseline).

- :class:`DescriptorPCA` fits PCA on a seeded sample of the training descriptors and keeps
  ``round(pca_fraction * D)`` components (half the dimension in the paper).
- :class:`DiagonalGMM` fits a diagonal-covariance GMM with cyvlfeat. cyvlfeat's GMM has no
  seed, so the initialisation is computed here from a seeded generator (means = distinct
  random samples, covariances = the data's per-dimension variance, uniform priors) and
  passed as ``init_mode='custom'``: the same data and seed give the same model.
- :func:`fisher_vector` wraps cyvlfeat's ``fisher`` (improved = signed square root + L2).
  The layout is vlfeat's: ``[u_1 .. u_K, v_1 .. v_K]`` (mean then variance gradients, each
  block ``D`` long), dimension ``2 K D``. A video with no descriptors gets the zero vector
  (documented fallback; never NaN).
- :class:`FisherEncoder` chains the three.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..errors import BadInputError

log = logging.getLogger(__name__)


def _as_list(X) -> list[np.ndarray]:
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return [X]
    return [np.asarray(x) for x in X]


def sample_descriptors(videos: Sequence[np.ndarray], n_samples: int, seed: int) -> np.ndarray:
    """A seeded sample of about ``n_samples`` descriptors, spread evenly over the videos.

    Each video contributes ``ceil(n_samples / n_videos)`` descriptors (all of them if it has
    fewer); the result is float64 and its order depends only on the inputs and the seed.
    """
    rng = np.random.default_rng(seed)
    videos = [v for v in videos if len(v)]
    if not videos:
        return np.zeros((0, 0))
    per = int(np.ceil(n_samples / len(videos)))
    parts = []
    for v in videos:
        if len(v) > per:
            idx = np.sort(rng.choice(len(v), per, replace=False))
            parts.append(np.asarray(v[idx], dtype=np.float64))
        else:
            parts.append(np.asarray(v, dtype=np.float64))
    return np.concatenate(parts)


class DescriptorPCA(BaseEstimator, TransformerMixin):
    """PCA to ``pca_fraction`` of the input dimension, fitted on a descriptor sample.

    ``fit`` takes an ``(N, D)`` sample; ``transform`` maps an ``(n, D)`` array to
    ``(n, d)`` float32. Components are sign-normalised (largest |loading| positive), so the
    projection is reproducible across LAPACK builds.
    """

    def __init__(self, pca_fraction: float = 0.5, n_components: int | None = None,
                 whiten: bool = False):
        self.pca_fraction = pca_fraction
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"PCA needs an (N>=2, D) sample, got shape {X.shape}")
        D = X.shape[1]
        d = self.n_components or max(1, int(round(self.pca_fraction * D)))
        d = min(d, D, X.shape[0])
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        cov = Xc.T @ Xc / max(1, X.shape[0] - 1)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1][:d]
        comps = evecs[:, order].T
        signs = np.sign(comps[np.arange(d), np.abs(comps).argmax(axis=1)])
        signs[signs == 0] = 1
        self.components_ = comps * signs[:, None]
        self.explained_variance_ = np.maximum(evals[order], 0)
        self.n_components_ = d
        self.n_features_in_ = D
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected (n, {self.n_features_in_}) descriptors, got {X.shape}")
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z /= np.sqrt(self.explained_variance_ + 1e-12)
        return Z.astype(np.float32)


class DiagonalGMM(BaseEstimator):
    """Diagonal GMM fitted by cyvlfeat's EM from a seeded initialisation."""

    def __init__(self, n_components: int = 16, max_iter: int = 100, seed: int = 0,
                 var_floor: float = 1e-4, min_per_component: int = 2):
        self.n_components = n_components
        self.max_iter = max_iter
        self.seed = seed
        self.var_floor = var_floor
        self.min_per_component = min_per_component

    def initial_parameters(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        K = self.n_components
        # distinct rows, in a seeded order, as initial means (duplicates would give
        # identical components)
        order = rng.permutation(len(X))
        means, seen = [], set()
        for i in order:
            key = X[i].tobytes()
            if key not in seen:
                seen.add(key)
                means.append(X[i])
                if len(means) == K:
                    break
        if len(means) < K:
            raise ValueError(f"only {len(means)} distinct descriptors for {K} Gaussians")
        means = np.stack(means)
        var = np.maximum(X.var(axis=0), self._bound(X))
        covars = np.tile(var, (K, 1))
        priors = np.full(K, 1.0 / K)
        return priors, means, covars

    def _bound(self, X: np.ndarray) -> np.ndarray:
        v = X.var(axis=0)
        return np.full(X.shape[1], max(float(v.max()) * self.var_floor, 1e-10))

    def fit(self, X, y=None):
        # cyvlfeat.gmm.gmm() tests ``any((init_priors, init_means, init_covars))`` on
        # arrays, which raises for any custom initialisation (cyvlfeat 0.7.1); its checks are
        # done here and the extension called directly.
        from cyvlfeat.gmm.cygmm import cy_gmm

        X = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
        K = self.n_components
        if X.ndim != 2 or X.shape[0] < K * self.min_per_component:
            raise ValueError(
                f"too few descriptors for a {K}-component GMM: {X.shape[0]} "
                f"(need at least {K * self.min_per_component})")
        priors, means, covars = self.initial_parameters(X)
        if not np.all(np.isfinite(X)):
            raise ValueError("descriptors contain NaN or Inf")
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        m, c, p, ll, _post = cy_gmm(
            X, K, int(self.max_iter), b"custom", 1, 0,
            covariance_bound=f32(self._bound(X)), init_priors=f32(priors),
            init_means=f32(means), init_covars=f32(covars))
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(c)) and np.all(np.isfinite(p))):
            raise ValueError("GMM fit produced non-finite parameters")
        self.means_ = np.asarray(m, dtype=np.float32)
        self.covariances_ = np.asarray(c, dtype=np.float32)
        self.weights_ = np.asarray(p, dtype=np.float32)
        self.log_likelihood_ = float(ll)
        return self


def fisher_vector(descriptors: np.ndarray, gmm: DiagonalGMM, improved: bool = True) -> np.ndarray:
    """Improved Fisher vector (vlfeat layout, ``2 K D``) of one set of descriptors."""
    from cyvlfeat.fisher import fisher

    K, D = gmm.means_.shape
    x = np.ascontiguousarray(np.asarray(descriptors, dtype=np.float32))
    if x.ndim != 2 or x.shape[1] != D:
        raise ValueError(f"descriptors must be (n, {D}), got {x.shape}")
    if x.shape[0] == 0:
        return np.zeros(2 * K * D, dtype=np.float32)
    fv = fisher(x, gmm.means_, gmm.covariances_, gmm.weights_, improved=improved)
    fv = np.asarray(fv, dtype=np.float32).ravel()
    if not np.all(np.isfinite(fv)):
        raise ValueError("Fisher vector is not finite")
    return fv


class FisherEncoder(BaseEstimator, TransformerMixin):
    """PCA -> diagonal GMM -> improved Fisher vector, one row per video.

    ``fit(videos)`` with ``videos`` a list of ``(n_i, D)`` descriptor arrays (training
    videos only); ``transform(videos)`` gives ``(n_videos, 2 K d)`` float32.
    """

    def __init__(self, n_components: int = 16, pca_fraction: float = 0.5, sample_size: int = 20000,
                 max_iter: int = 100, seed: int = 0, name: str = "descriptor",
                 min_per_component: int = 2):
        self.n_components = n_components
        self.pca_fraction = pca_fraction
        self.sample_size = sample_size
        self.max_iter = max_iter
        self.seed = seed
        self.name = name
        self.min_per_component = min_per_component

    def fit(self, X, y=None):
        videos = _as_list(X)
        sample = sample_descriptors(videos, self.sample_size, self.seed)
        K = self.n_components
        if sample.shape[0] < K * self.min_per_component:
            raise BadInputError(
                f"<training descriptors: {self.name}>",
                f"only {sample.shape[0]} training descriptors from {len(videos)} videos; "
                f"a {K}-Gaussian GMM needs at least {K * self.min_per_component} "
                "(lower handcrafted.encoding.gmm_components or check the inputs)")
        self.pca_ = DescriptorPCA(self.pca_fraction).fit(sample)
        z = self.pca_.transform(sample)
        try:
            self.gmm_ = DiagonalGMM(K, self.max_iter, self.seed, min_per_component=self.min_per_component).fit(z)
        except ValueError as exc:
            raise BadInputError(f"<training descriptors: {self.name}>", str(exc)) from exc
        self.n_samples_fit_ = int(sample.shape[0])
        self.dim_ = 2 * K * self.pca_.n_components_
        return self

    def transform(self, X):
        videos = _as_list(X)
        out = np.zeros((len(videos), self.dim_), dtype=np.float32)
        for i, v in enumerate(videos):
            if len(v):
                out[i] = fisher_vector(self.pca_.transform(v), self.gmm_)
        return out
