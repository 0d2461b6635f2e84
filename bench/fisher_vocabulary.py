"""Fisher-vector vocabulary: this package's PCA + diagonal EM vs scikit-learn's PCA and
GaussianMixture(covariance_type="diag"), on the same descriptor sample and seed.

    python bench/fisher_vocabulary.py [--out bench/results/fisher_vocabulary.json]

Descriptors: D-SIFT and IDT HOG of the embedded default's SYNTHETIC recognition videos
(first 2 videos of each class), sampled and fitted with the embedded default's encoding
settings. scikit-learn's GaussianMixture starts from the same seeded initialisation
(means_init / weights_init / precisions_init) and runs the same number of EM steps; its
reg_covar (added to every variance) stands in for the variance floor. Reported: largest
differences of the PCA projection, GMM parameters, log-likelihood and Fisher vectors.
(Since that measurement DescriptorPCA wraps scikit-learn's PCA, so the PCA rows now compare
scikit-learn's covariance eigensolver with its full SVD.)
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's irpipe, not an installed one
from irpipe.config import load_config  # noqa: E402
from irpipe.data.synthetic import generate_recognition  # noqa: E402
from irpipe.data.video import read_video  # noqa: E402
from irpipe.features.descriptors import compute  # noqa: E402
from irpipe.features.fisher import DescriptorPCA, DiagonalGMM, fisher_vector, sample_descriptors  # noqa: E402
from irpipe.io import write_json  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def compare(videos, enc, seed):
    sample = sample_descriptors(videos, enc["sample_size"], seed)
    ours_pca = DescriptorPCA(enc["pca_fraction"]).fit(sample)
    t = time.process_time()
    sk_pca = PCA(n_components=ours_pca.n_components_, svd_solver="full").fit(sample)
    sk_pca_s = time.process_time() - t
    comps = sk_pca.components_.copy()
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= signs[:, None]  # the same sign rule as DescriptorPCA
    z = ours_pca.transform(sample)
    z_sk = ((sample - sk_pca.mean_) @ comps.T).astype(np.float32)
    t = time.process_time()
    ours = DiagonalGMM(enc["gmm_components"], enc["gmm_max_iter"], seed).fit(z)
    ours_s = time.process_time() - t
    w0, m0, c0 = ours.initial_parameters(np.asarray(z, np.float64))
    t = time.process_time()
    sk = GaussianMixture(enc["gmm_components"], covariance_type="diag", max_iter=ours.n_iter_, tol=0.0,
                         reg_covar=ours._bound(np.asarray(z, np.float64)), weights_init=w0, means_init=m0,
                         precisions_init=1.0 / c0, random_state=seed).fit(z)
    sk_s = time.process_time() - t
    rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())  # noqa: E731
    # the same EM with (almost) no variance regularisation in either: isolates the floor's effect
    ours0 = DiagonalGMM(enc["gmm_components"], ours.n_iter_, seed, var_floor=1e-12, tol=0.0).fit(z)
    sk0 = GaussianMixture(enc["gmm_components"], covariance_type="diag", max_iter=ours.n_iter_, tol=0.0,
                          reg_covar=1e-12, weights_init=w0, means_init=m0, precisions_init=1.0 / c0).fit(z)
    no_reg = {"means_max_rel_diff": rel(sk0.means_, ours0.means_),
              "covariances_max_rel_diff": rel(sk0.covariances_, ours0.covariances_),
              "weights_max_abs_diff": float(np.abs(sk0.weights_ - ours0.weights_).max())}
    x = videos[0]
    fv_ours = fisher_vector(ours_pca.transform(x), ours)
    sk_model = DiagonalGMM(enc["gmm_components"])
    sk_model.means_, sk_model.covariances_, sk_model.weights_ = (sk.means_.astype(np.float32),
                                                                 sk.covariances_.astype(np.float32),
                                                                 sk.weights_.astype(np.float32))
    fv_sk = fisher_vector(((x - sk_pca.mean_) @ comps.T).astype(np.float32), sk_model)
    return {"sample": list(sample.shape), "pca_dims": int(ours_pca.n_components_),
            "pca_projection_max_abs_diff": float(np.abs(z - z_sk).max()),
            "pca_projection_scale": float(np.abs(z).max()),
            "gmm_em_steps": int(ours.n_iter_),
            "means_max_rel_diff": rel(sk.means_, ours.means_),
            "covariances_max_rel_diff": rel(sk.covariances_, ours.covariances_),
            "weights_max_abs_diff": float(np.abs(sk.weights_ - ours.weights_).max()),
            "mean_loglik_ours": ours.log_likelihood_ / len(z),
            "mean_loglik_sklearn": float(sk.score(z)),
            "fisher_vector_max_abs_diff": float(np.abs(fv_ours - fv_sk).max()),
            "without_variance_regularisation": no_reg,
            "cpu_s": {"pca_sklearn": round(sk_pca_s, 3), "gmm_ours": round(ours_s, 3), "gmm_sklearn": round(sk_s, 3)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "fisher_vocabulary.json")
    args = ap.parse_args()
    config = load_config(REPO / "config.yaml")
    hc = config["handcrafted"]
    classes = config["dataset"]["recognition"]["classes"]
    syn = dict(config["synthetic"], recognition=dict(config["synthetic"]["recognition"], videos_per_class=2))
    res = {"data": "SYNTHETIC (embedded generator), 2 videos per class", "encoding": hc["encoding"]}
    with tempfile.TemporaryDirectory() as tmp:
        gt = generate_recognition(Path(tmp), syn, classes, 0)
        frames = [read_video(Path(tmp) / p)[0] for p in gt["path"]]
    for kind, part in (("dsift", "descriptors"), ("idt", "hog")):
        videos = [compute(kind, f, hc, "<synthetic>")[0][part] for f in frames]
        res[f"{kind}/{part}"] = compare([v for v in videos if len(v)], hc["encoding"], config["seed"] + 7)
    write_json(args.out, res)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
