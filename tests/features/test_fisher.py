"""Fisher vectors: agreement with scikit-image's independent implementation, determinism,
bad inputs."""
import numpy as np
import pytest

from irpipe.errors import BadInputError
from irpipe.features.fisher import DescriptorPCA, DiagonalGMM, FisherEncoder, fisher_vector, sample_descriptors


def _blobs(rng, n=3000, d=8, k=4):
    centres = rng.normal(0, 4, (k, d))
    lab = rng.integers(0, k, n)
    return (centres[lab] + rng.normal(0, 1, (n, d))).astype(np.float32)


def _skimage_fv(x, gmm, improved):
    """scikit-image's fisher_vector on the same GMM, converted to vlfeat's layout."""
    from skimage.feature import fisher_vector as sk_fv
    from sklearn.mixture import GaussianMixture

    K, D = gmm.means_.shape
    sk = GaussianMixture(n_components=K, covariance_type="diag")
    sk.weights_ = gmm.weights_.astype(np.float64)
    sk.means_ = gmm.means_.astype(np.float64)
    sk.covariances_ = gmm.covariances_.astype(np.float64)
    sk.precisions_cholesky_ = 1.0 / np.sqrt(sk.covariances_)
    fv = sk_fv(x.astype(np.float64), sk, improved=False)
    # skimage: [d_pi (K), d_mu (K*D), d_sigma (K*D)] with d_sigma of opposite sign to vlfeat;
    # vlfeat: [u (K*D), v (K*D)], no prior gradient.
    out = np.concatenate([fv[K:K + K * D], -fv[K + K * D:]])
    if improved:
        out = np.sign(out) * np.sqrt(np.abs(out))
        out /= np.linalg.norm(out)
    return out


@pytest.mark.parametrize("improved", [False, True])
def test_fisher_vector_matches_skimage(improved):
    rng = np.random.default_rng(0)
    X = _blobs(rng)
    gmm = DiagonalGMM(n_components=4, seed=1).fit(X)
    x = _blobs(np.random.default_rng(5), n=400)
    ours = fisher_vector(x, gmm, improved=improved)
    ref = _skimage_fv(x, gmm, improved)
    assert ours.shape == (2 * 4 * 8,)
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
    if improved:
        assert abs(np.linalg.norm(ours) - 1) < 1e-5


def test_gmm_seeded_and_recovers_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[-10, 0], [10, 0], [0, 10]], dtype=np.float64)
    lab = rng.integers(0, 3, 3000)
    X = (centres[lab] + rng.normal(0, 0.5, (3000, 2))).astype(np.float32)
    a = DiagonalGMM(3, seed=7).fit(X)
    b = DiagonalGMM(3, seed=7).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    found = a.means_[np.argsort(a.means_[:, 0] * 100 + a.means_[:, 1])]
    expect = centres[np.argsort(centres[:, 0] * 100 + centres[:, 1])]
    np.testing.assert_allclose(found, expect, atol=0.1)
    np.testing.assert_allclose(np.sort(a.weights_), np.sort(np.bincount(lab) / 3000), atol=0.02)


def test_pca_keeps_half_and_orders_variance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6)) * np.array([10, 5, 3, 1, 0.5, 0.1])
    pca = DescriptorPCA(0.5).fit(X)
    assert pca.n_components_ == 3
    np.testing.assert_allclose(np.abs(pca.components_), np.eye(6)[:3], atol=0.05)
    Z = pca.transform(X)
    assert Z.shape == (2000, 3) and Z.dtype == np.float32
    assert Z[:, 0].var() > Z[:, 1].var() > Z[:, 2].var()


def test_encoder_deterministic_empty_video_and_bad_input():
    rng = np.random.default_rng(0)
    videos = [_blobs(rng, n=300, d=16) for _ in range(6)]
    enc1 = FisherEncoder(n_components=4, sample_size=1000, seed=3).fit(videos)
    enc2 = FisherEncoder(n_components=4, sample_size=1000, seed=3).fit(videos)
    test = videos[:2] + [np.zeros((0, 16), np.float32)]
    f1, f2 = enc1.transform(test), enc2.transform(test)
    np.testing.assert_array_equal(f1, f2)
    assert f1.shape == (3, 2 * 4 * 8)
    assert np.all(np.isfinite(f1))
    assert np.all(f1[2] == 0)  # no descriptors -> zero vector, never NaN
    np.testing.assert_allclose(np.linalg.norm(f1[:2], axis=1), 1, atol=1e-5)
    with pytest.raises(BadInputError, match="too few|only"):
        FisherEncoder(n_components=64, sample_size=1000, name="hog").fit([videos[0][:20]])


def test_gmm_rejects_constant_descriptors():
    X = np.ones((500, 4), np.float32)
    with pytest.raises(ValueError, match="distinct"):
        DiagonalGMM(4).fit(X)


def test_sample_descriptors_even_and_seeded():
    vids = [np.arange(1000)[:, None] + 10000 * i for i in range(4)]
    s1 = sample_descriptors(vids, 400, 0)
    s2 = sample_descriptors(vids, 400, 0)
    np.testing.assert_array_equal(s1, s2)
    assert len(s1) == 400
    assert all(np.sum((s1[:, 0] // 10000) == i) == 100 for i in range(4))


def test_gmm_backends_agree_and_fallback_on_degenerate_sample():
    rng = np.random.default_rng(0)
    centres = np.array([[-10, 0], [10, 0], [0, 10]], dtype=np.float64)
    X = centres[rng.integers(0, 3, 3000)] + rng.normal(0, 0.5, (3000, 2))
    a = DiagonalGMM(3, seed=7, backend="vlfeat").fit(X)
    b = DiagonalGMM(3, seed=7, backend="numpy").fit(X)
    assert a.backend_ == "vlfeat" and b.backend_ == "numpy"
    key = lambda g: np.argsort(g.means_[:, 0] * 100 + g.means_[:, 1])  # noqa: E731
    np.testing.assert_allclose(a.means_[key(a)], b.means_[key(b)], atol=0.02)
    np.testing.assert_allclose(a.covariances_[key(a)], b.covariances_[key(b)], rtol=0.05)
    # near-duplicate descriptors (vlfeat's EM returns NaN here): auto falls back to numpy
    base = rng.normal(size=(20, 24))
    D = base[rng.integers(0, 20, 200)] + rng.normal(size=(200, 24)) * 1e-4 * (rng.random(24) < 0.5)
    g = DiagonalGMM(16, seed=0, backend="auto").fit(D)
    assert g.backend_ == "numpy"
    assert np.all(np.isfinite(g.means_)) and np.all(g.covariances_ > 0)
    fv = fisher_vector(D[:50], g)
    assert np.all(np.isfinite(fv)) and abs(np.linalg.norm(fv) - 1) < 1e-4


def _gmm(d=8):
    return DiagonalGMM(n_components=4, seed=1).fit(_blobs(np.random.default_rng(0), d=d))


def test_frame_pooled_fv_of_identical_frames_is_that_frames_fv():
    from irpipe.features.fisher import frame_pooled_fisher_vector

    gmm = _gmm()
    frame = _blobs(np.random.default_rng(3), n=50)
    video = np.concatenate([frame] * 5)
    index = np.repeat(np.arange(5) * 7, 50)  # frames 0, 7, 14, ... (sampled frames keep their numbers)
    np.testing.assert_allclose(frame_pooled_fisher_vector(video, index, gmm), fisher_vector(frame, gmm), atol=1e-6)


def test_frame_pooling_weights_frames_equally():
    from irpipe.features.fisher import frame_pooled_fisher_vector, improve

    gmm = _gmm()
    rng = np.random.default_rng(4)
    a, b = _blobs(rng, n=5), _blobs(rng, n=45) + 3.0
    x, idx = np.concatenate([a, b]), np.repeat([2, 9], [5, 45])
    # improve() is vlfeat's improved step: signed sqrt then L2 of the raw vector
    np.testing.assert_allclose(improve(fisher_vector(x, gmm, improved=False)), fisher_vector(x, gmm), atol=1e-6)
    # frames weigh equally: the mean of the two frames' raw vectors, normalised after pooling
    ref = improve((fisher_vector(a, gmm, improved=False) + fisher_vector(b, gmm, improved=False)) / 2)
    pooled = frame_pooled_fisher_vector(x, idx, gmm)
    np.testing.assert_allclose(pooled, ref, atol=1e-6)
    # the whole-video FV weighs frame b 9 times as much as frame a: not the same vector
    assert np.abs(pooled - fisher_vector(x, gmm)).max() > 1e-2
    # frames of equal descriptor counts: the two poolings agree (a raw FV is a mean over descriptors)
    c = _blobs(rng, n=45)
    y, idy = np.concatenate([c, b]), np.repeat([0, 1], 45)
    np.testing.assert_allclose(frame_pooled_fisher_vector(y, idy, gmm), fisher_vector(y, gmm), atol=1e-5)
    assert np.all(frame_pooled_fisher_vector(x[:0], idx[:0], gmm) == 0)
    with pytest.raises(ValueError, match="frame indices"):
        frame_pooled_fisher_vector(x, idx[:3], gmm)


def test_encoder_frame_pooling():
    rng = np.random.default_rng(0)
    videos = [_blobs(rng, n=300, d=16) for _ in range(4)]
    enc = FisherEncoder(n_components=4, sample_size=1000, seed=3).fit(videos)
    frames = [np.arange(300) % 10 for _ in videos]  # 10 frames of 30 descriptors: same as per video
    np.testing.assert_allclose(enc.transform(videos, frame_index=frames), enc.transform(videos), atol=1e-5)
    uneven = [np.minimum(np.arange(300) // 5, 3) for _ in videos]  # frame 3 holds 285 of 300
    assert np.abs(enc.transform(videos, frame_index=uneven) - enc.transform(videos)).max() > 1e-3


def test_pca_equals_an_eigendecomposition_of_the_sample_covariance():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    pca = DescriptorPCA(0.5).fit(X)
    evals, evecs = np.linalg.eigh(np.cov(X, rowvar=False))
    ref = evecs[:, ::-1][:, :4].T
    ref *= np.sign(ref[np.arange(4), np.abs(ref).argmax(axis=1)])[:, None]
    np.testing.assert_allclose(pca.components_, ref, atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_, evals[::-1][:4], rtol=1e-10)


def test_numpy_em_equals_sklearn_gaussian_mixture_without_regularisation():
    from sklearn.mixture import GaussianMixture

    X = _blobs(np.random.default_rng(2), n=2000, d=6, k=3).astype(np.float64)
    ours = DiagonalGMM(3, max_iter=15, seed=4, var_floor=1e-14, tol=0.0).fit(X)
    w0, m0, c0 = ours.initial_parameters(X)
    sk = GaussianMixture(3, covariance_type="diag", max_iter=15, tol=0.0, reg_covar=1e-14, weights_init=w0,
                         means_init=m0, precisions_init=1.0 / c0).fit(X)
    np.testing.assert_allclose(ours.means_, sk.means_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.covariances_, sk.covariances_, rtol=1e-5)
    np.testing.assert_allclose(ours.weights_, sk.weights_, atol=1e-6)
