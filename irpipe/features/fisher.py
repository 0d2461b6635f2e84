"""PCA + seeded diagonal GMM + improved Fisher vectors, as scikit-learn-style transformers.

The encoders take a *list* of per-video descriptor arrays (each ``(n_i, D)``, any float or
uint8 dtype) and return one row per video. Two poolings (``handcrafted.encoding.pooling``):

- ``frames`` (seed 000, section 3.1: "video-level features are computed by spatio-temporal
  pooling of the frame-based FV features"): one raw (unnormalised) Fisher vector per frame
  from that frame's descriptors, averaged over the frames that have descriptors, THEN the
  signed square root and L2 normalisation on the pooled vector. Normalising after pooling
  keeps the pooled vector a Fisher vector of the video (normalising each frame first would
  make the average depend on the frames' norms and break the improved-FV power + L2 step).
  A raw FV is the mean of its descriptors' terms, so with the same number of descriptors in
  every frame both poolings are equal; they differ when frames have different counts
  (``video`` weights a frame by its descriptor count, ``frames`` weights frames equally).
- ``video``: one Fisher vector over all of the video's descriptors at once.

- :class:`DescriptorPCA` fits PCA on a seeded sample of the training descriptors and keeps
  ``round(pca_fraction * D)`` components (half the dimension in the paper).
- :class:`DiagonalGMM` fits a diagonal-covariance GMM by EM from a seeded initialisation
  (means = distinct random samples, covariances = the data's per-dimension variance,
  uniform priors): the same data and seed give the same model. (cyvlfeat's GMM has no
  seed and diverged to NaN on small samples; see the class.)
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
    ``(n, d)`` float32. scikit-learn's PCA with the covariance eigensolver (N >> D: one D x D
    eigendecomposition); it reproduced the earlier hand-written eigendecomposition to 6e-8 on
    projections of scale 400 (bench/results/fisher_vocabulary.json). Components are
    sign-normalised (largest |loading| positive), so the projection is reproducible across
    LAPACK builds.
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
        from sklearn.decomposition import PCA

        D = X.shape[1]
        d = self.n_components or max(1, int(round(self.pca_fraction * D)))
        d = min(d, D, X.shape[0])
        pca = PCA(n_components=d, svd_solver="covariance_eigh").fit(X)
        self.mean_ = pca.mean_
        comps = pca.components_
        signs = np.sign(comps[np.arange(d), np.abs(comps).argmax(axis=1)])
        signs[signs == 0] = 1
        self.components_ = comps * signs[:, None]
        self.explained_variance_ = np.maximum(pca.explained_variance_, 0)
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
    """Diagonal GMM fitted by EM from a seeded initialisation.

    Why not scikit-learn's GaussianMixture(covariance_type="diag") (measured,
    bench/results/fisher_vocabulary.json): from the same initialisation and for the same number
    of steps, with variance regularisation off in both, the two EMs agree to 3e-8 (a test keeps
    it so); but scikit-learn can only ADD ``reg_covar`` to every variance, while this EM
    FLOORS variances at 1e-4 x the data's largest variance (vlfeat's rule), and with its
    closest setting (reg_covar = that floor) the embedded default's IDT-HOG GMM means moved by
    up to 26 % of their scale (D-SIFT 0.9 %). scikit-learn also does not re-seed a component
    that loses all its mass.

    ``backend='numpy'`` (default) runs EM here; ``'vlfeat'`` runs cyvlfeat's EM from the
    seeded initialisation (``init_mode='custom'``, one thread); ``'auto'`` tries vlfeat and
    falls back to numpy when vlfeat returns non-finite parameters. vlfeat is not the
    default because, from a custom initialisation, its EM returned NaN parameters on most
    real descriptor samples tried here (dense SIFT, O-SIFT, IDT; also on Gaussian noise of
    20000 x 192) within a few iterations, with or without a covariance lower bound, and
    with two OpenMP threads even where one thread converged (cyvlfeat 0.7.1 / vlfeat
    0.9.21); its random / k-means initialisations, which work, take no seed. The numpy EM is vectorised over samples and components (the Gaussian
    log-densities are two matrix products), in chunks of ``chunk`` samples, with a variance
    floor of ``var_floor`` x the largest per-dimension variance of the data (vlfeat's rule);
    a component that loses all its mass is re-seeded on the worst-explained sample.
    ``backend_`` records which one produced the model.
    """

    def __init__(self, n_components: int = 16, max_iter: int = 100, seed: int = 0,
                 var_floor: float = 1e-4, min_per_component: int = 2, tol: float = 1e-5,
                 chunk: int = 32768, backend: str = "numpy"):
        self.backend = backend
        self.n_components = n_components
        self.max_iter = max_iter
        self.seed = seed
        self.var_floor = var_floor
        self.min_per_component = min_per_component
        self.tol = tol
        self.chunk = chunk

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

    def _bound(self, X: np.ndarray) -> float:
        return max(float(X.var(axis=0).max()) * self.var_floor, 1e-10)

    @staticmethod
    def _log_joint(X, X2, priors, means, covars):
        """(n, K) log p(x, k) for diagonal Gaussians."""
        inv = 1.0 / covars
        const = (np.log(priors) - 0.5 * (np.log(2 * np.pi * covars).sum(axis=1) + (means ** 2 * inv).sum(axis=1)))
        return const[None, :] - 0.5 * (X2 @ inv.T) + X @ (means * inv).T

    def log_posteriors(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, np.float64)
        lj = self._log_joint(X, X * X, self.weights_.astype(np.float64), self.means_.astype(np.float64),
                             self.covariances_.astype(np.float64))
        m = lj.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(lj - m).sum(axis=1))
        return lj - lse[:, None], lse

    def fit(self, X, y=None):
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
        K = self.n_components
        if X.ndim != 2 or X.shape[0] < K * self.min_per_component:
            raise ValueError(
                f"too few descriptors for a {K}-component GMM: {X.shape[0]} "
                f"(need at least {K * self.min_per_component})")
        if not np.all(np.isfinite(X)):
            raise ValueError("descriptors contain NaN or Inf")
        priors, means, covars = self.initial_parameters(X)
        floor = self._bound(X)
        if self.backend in ("auto", "vlfeat"):
            ok = self._fit_vlfeat(X, priors, means, covars, floor)
            if ok:
                return self
            if self.backend == "vlfeat":
                raise ValueError("GMM fit produced non-finite parameters (vlfeat)")
            log.warning("vlfeat GMM diverged (non-finite parameters) on %d x %d descriptors; "
                        "refitting with numpy EM", *X.shape)
        elif self.backend != "numpy":
            raise ValueError(f"unknown GMM backend '{self.backend}' (auto, vlfeat, numpy)")
        X2 = X * X
        N = len(X)
        prev = -np.inf
        ll = -np.inf
        for it in range(self.max_iter):
            Nk = np.zeros(K)
            Sx = np.zeros_like(means)
            Sxx = np.zeros_like(means)
            ll = 0.0
            worst_val, worst_idx = np.inf, 0
            for a in range(0, N, self.chunk):
                xb, x2b = X[a:a + self.chunk], X2[a:a + self.chunk]
                lj = self._log_joint(xb, x2b, priors, means, covars)
                m = lj.max(axis=1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(lj - m).sum(axis=1))
                post = np.exp(lj - lse[:, None])
                ll += float(lse.sum())
                Nk += post.sum(axis=0)
                Sx += post.T @ xb
                Sxx += post.T @ x2b
                j = int(np.argmin(lse))
                if lse[j] < worst_val:
                    worst_val, worst_idx = float(lse[j]), a + j
            empty = Nk < 1e-8 * N
            safe = np.maximum(Nk, 1e-300)[:, None]
            means = np.where(empty[:, None], means, Sx / safe)
            covars = np.where(empty[:, None], covars, np.maximum(Sxx / safe - means ** 2, floor))
            priors = np.maximum(Nk / N, 1e-12)
            if empty.any():  # re-seed dead components on the worst-explained sample
                k = int(np.flatnonzero(empty)[0])
                means[k] = X[worst_idx]
                covars[k] = np.maximum(X.var(axis=0), floor)
                priors[k] = 1.0 / N
            priors /= priors.sum()
            if it > 0 and not empty.any() and abs(ll - prev) <= self.tol * abs(ll):
                break
            prev = ll
        if not (np.all(np.isfinite(means)) and np.all(np.isfinite(covars)) and np.all(np.isfinite(priors))):
            raise ValueError("GMM fit produced non-finite parameters")
        self.means_ = means.astype(np.float32)
        self.covariances_ = covars.astype(np.float32)
        self.weights_ = priors.astype(np.float32)
        self.log_likelihood_ = float(ll)
        self.n_iter_ = it + 1
        self.backend_ = "numpy"
        return self

    def _fit_vlfeat(self, X, priors, means, covars, floor) -> bool:
        # cyvlfeat.gmm.gmm() tests ``any((init_priors, init_means, init_covars))`` on arrays,
        # which raises for any custom initialisation (cyvlfeat 0.7.1); its checks are done
        # here and the extension is called directly.
        from cyvlfeat.generic import set_num_threads
        from cyvlfeat.gmm.cygmm import cy_gmm

        # vlfeat's multi-threaded EM is not reproducible and, on two threads here, diverged
        # where the single-threaded one converged: always one thread.
        set_num_threads(1)
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        m, c, p, ll, _post = cy_gmm(
            f32(X), self.n_components, int(self.max_iter), b"custom", 1, 0,
            covariance_bound=f32(np.full(X.shape[1], floor)), init_priors=f32(priors),
            init_means=f32(means), init_covars=f32(covars))
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(c)) and np.all(np.isfinite(p))
                and np.isfinite(ll)):
            return False
        self.means_, self.covariances_, self.weights_ = f32(m), f32(c), f32(p)
        self.log_likelihood_ = float(ll)
        self.backend_ = "vlfeat"
        return True


def fisher_vector(descriptors: np.ndarray, gmm: DiagonalGMM, improved: bool = True) -> np.ndarray:
    """Improved Fisher vector (vlfeat layout, ``2 K D``) of one set of descriptors."""
    from cyvlfeat.fisher import fisher
    from cyvlfeat.generic import set_num_threads

    set_num_threads(1)  # reproducible sums
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


def raw_fisher_vector(descriptors: np.ndarray, gmm: DiagonalGMM) -> np.ndarray:
    """Unnormalised Fisher vector (vlfeat layout): the mean of the descriptors' gradient terms."""
    return fisher_vector(descriptors, gmm, improved=False)


def improve(fv: np.ndarray) -> np.ndarray:
    """Signed square root, then L2 normalisation (vlfeat's 'improved' order); 0 stays 0."""
    v = np.sign(fv) * np.sqrt(np.abs(np.asarray(fv, np.float64)))
    n = np.linalg.norm(v)
    return (v / n if n > 0 else v).astype(np.float32)


POOLINGS = ("frames", "video")


def frame_pooled_fisher_vector(descriptors: np.ndarray, frame_index: np.ndarray, gmm: DiagonalGMM) -> np.ndarray:
    """Average of the per-frame raw Fisher vectors, then signed square root + L2.

    ``frame_index`` (n,) gives each descriptor's frame; frames without descriptors do not
    enter the average; no descriptors at all gives the zero vector."""
    x = np.asarray(descriptors)
    f = np.asarray(frame_index).reshape(-1)
    if len(f) != len(x):
        raise ValueError(f"{len(x)} descriptors but {len(f)} frame indices")
    K, D = gmm.means_.shape
    if len(x) == 0:
        return np.zeros(2 * K * D, dtype=np.float32)
    order = np.argsort(f, kind="stable")
    frames, starts = np.unique(f[order], return_index=True)
    bounds = list(starts) + [len(order)]
    acc = np.zeros(2 * K * D, np.float64)
    for a, b in zip(bounds[:-1], bounds[1:]):
        acc += raw_fisher_vector(x[order[a:b]], gmm)
    return improve(acc / len(frames))


class FisherEncoder(BaseEstimator, TransformerMixin):
    """PCA -> diagonal GMM -> improved Fisher vector, one row per video.

    ``fit(videos)`` with ``videos`` a list of ``(n_i, D)`` descriptor arrays (training
    videos only); ``transform(videos)`` gives ``(n_videos, 2 K d)`` float32.
    """

    def __init__(self, n_components: int = 16, pca_fraction: float = 0.5, sample_size: int = 20000,
                 max_iter: int = 100, seed: int = 0, name: str = "descriptor",
                 min_per_component: int = 2, gmm_backend: str = "numpy"):
        self.gmm_backend = gmm_backend
        self.n_components = n_components
        self.pca_fraction = pca_fraction
        self.sample_size = sample_size
        self.max_iter = max_iter
        self.seed = seed
        self.name = name
        self.min_per_component = min_per_component

    def fit(self, X, y=None):
        videos = _as_list(X)
        return self.fit_sample(sample_descriptors(videos, self.sample_size, self.seed), n_videos=len(videos))

    def fit_sample(self, sample: np.ndarray, n_videos: int | None = None):
        """Fit PCA and GMM on an already drawn ``(N, D)`` descriptor sample."""
        sample = np.asarray(sample, dtype=np.float64)
        K = self.n_components
        if sample.ndim != 2 or sample.shape[0] < K * self.min_per_component:
            raise BadInputError(
                f"<training descriptors: {self.name}>",
                f"only {sample.shape[0] if sample.ndim == 2 else 0} training descriptors"
                f"{'' if n_videos is None else f' from {n_videos} videos'}; "
                f"a {K}-Gaussian GMM needs at least {K * self.min_per_component} "
                "(lower handcrafted.encoding.gmm_components or check the inputs)")
        self.pca_ = DescriptorPCA(self.pca_fraction).fit(sample)
        z = self.pca_.transform(sample)
        try:
            self.gmm_ = DiagonalGMM(K, self.max_iter, self.seed, min_per_component=self.min_per_component,
                                    backend=self.gmm_backend).fit(z)
        except ValueError as exc:
            raise BadInputError(f"<training descriptors: {self.name}>", str(exc)) from exc
        self.n_samples_fit_ = int(sample.shape[0])
        self.dim_ = 2 * K * self.pca_.n_components_
        return self

    def transform(self, X, frame_index=None):
        """Fisher vectors pooled over each whole video, or (``frame_index``: one (n_i,) array
        per video) per-frame FVs averaged over the frames (see the module docstring)."""
        videos = _as_list(X)
        if frame_index is not None and len(frame_index) != len(videos):
            raise ValueError(f"{len(videos)} videos but {len(frame_index)} frame-index arrays")
        out = np.zeros((len(videos), self.dim_), dtype=np.float32)
        for i, v in enumerate(videos):
            if len(v):
                z = self.pca_.transform(v)
                out[i] = (fisher_vector(z, self.gmm_) if frame_index is None
                          else frame_pooled_fisher_vector(z, frame_index[i], self.gmm_))
        return out
