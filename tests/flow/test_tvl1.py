import cv2
import numpy as np
import pytest

from irpipe.config import validate_config
from irpipe.flow.images import flow_agreement, flow_to_image, image_to_flow, quantisation_step
from irpipe.flow.tvl1 import compute_video_flow
from tests.conftest import textured

PARAMS = validate_config({})["flow"]["tvl1"]


def shift(img, dx, dy):
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("dx,dy", [(1.5, -0.75), (-2.25, 0.5)])
def test_translation_end_point_error_below_tenth_of_a_pixel(dx, dy):
    base = textured(96, 128, seed=1)
    frames = np.stack([base, shift(base, dx, dy)])
    flow = compute_video_flow(frames, PARAMS)[0]
    m = 12  # borders see content entering the frame
    inner = flow[m:-m, m:-m]
    epe = np.sqrt((inner[..., 0] - dx) ** 2 + (inner[..., 1] - dy) ** 2).mean()
    assert epe < 0.1, f"mean EPE {epe:.3f} px"


def test_static_frames_give_near_zero_flow():
    base = textured(48, 64, seed=2)
    flow = compute_video_flow(np.stack([base, base, base]), PARAMS)
    assert flow.shape == (2, 48, 64, 2) and np.abs(flow).max() < 0.05


def test_flow_image_round_trip_within_quantisation():
    rng = np.random.default_rng(0)
    flow = rng.uniform(-30, 30, size=(7, 9, 2)).astype(np.float32)
    img = flow_to_image(flow, bound=20)
    assert img.dtype == np.uint8 and img.shape == (7, 9, 3)
    back = image_to_flow(img, bound=20)
    assert np.abs(back - np.clip(flow, -20, 20)).max() <= quantisation_step(20) / 2 + 1e-5


def test_flow_image_known_values():
    flow = np.array([[0.0, 0.0], [20.0, -20.0], [40.0, 0.0], [3.0, 4.0]], np.float32)
    img = flow_to_image(flow, bound=20)
    assert img[0].tolist() == [128, 128, 0]        # zero motion is 128
    assert img[1].tolist() == [255, 0, 255]        # +-bound hit the ends; |f| clipped at bound
    assert img[2].tolist() == [255, 128, 255]      # beyond bound is clipped
    assert img[3].tolist() == [147, 153, 64]       # 3*6.375+127.5, 4*6.375+127.5, 5*255/20


def test_schema_defaults_are_opencvs_defaults():
    """The benches and accuracy tests run at the schema's defaults as 'OpenCV's parameters'."""
    tv = cv2.optflow.DualTVL1OpticalFlow_create()
    assert {"tau": tv.getTau(), "lambda": tv.getLambda(), "theta": tv.getTheta(), "nscales": tv.getScalesNumber(),
            "warps": tv.getWarpingsNumber(), "epsilon": tv.getEpsilon(), "inner_iterations": tv.getInnerIterations(),
            "outer_iterations": tv.getOuterIterations(), "scale_step": tv.getScaleStep(), "gamma": tv.getGamma(),
            "median_filtering": tv.getMedianFiltering(), "use_initial_flow": tv.getUseInitialFlow()
            } == pytest.approx(PARAMS)


def test_flow_agreement_known_answers():
    ref = np.zeros((1, 4, 2), np.float32)
    # bound 20: one grey level is 0.157 px in x and y, 0.078 px in magnitude
    flow = np.array([[[0.0, 0.0], [0.1, 0.0], [0.0, -0.3], [3.0, 4.0]]], np.float32)
    got = flow_agreement(flow, ref, bound=20.0)
    assert got["mean_epe_px"] == pytest.approx((0.1 + 0.3 + 5.0) / 4)
    assert got["img8_xy_within_1"] == 0.5  # 0.3 px is 2 levels in y, (3, 4) is 19 and 25 levels
    assert got["img8_mag_within_1"] == 0.5  # 0.1 px is one magnitude level, 0.3 px four
    with pytest.raises(ValueError, match="shapes differ"):
        flow_agreement(flow, ref[:, :3])


def test_set_cpu_threads_limits_both_libraries():
    import cv2
    import torch

    from irpipe.flow.tvl1 import set_cpu_threads

    before = cv2.getNumThreads(), torch.get_num_threads()
    try:
        set_cpu_threads(1, "torch")
        assert (cv2.getNumThreads(), torch.get_num_threads()) == (1, 1)
        torch.set_num_threads(2)
        set_cpu_threads(0, "opencv")  # at least one thread; torch left alone for OpenCV jobs
        assert (cv2.getNumThreads(), torch.get_num_threads()) == (1, 2)
    finally:
        cv2.setNumThreads(before[0])
        torch.set_num_threads(before[1])


def test_opencv_backend_is_stateless_across_frame_sizes():
    """cv2's DualTVL1 lowers its own nscales after a frame too small for the pyramid; the
    backend must give a reused engine the same flow as a fresh one (a shard job reuses it)."""
    import cv2

    from irpipe.flow.tvl1 import OpenCVTVL1, opencv_tvl1

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur((rng.random((60, 76)) * 255).astype(np.uint8), (0, 0), 1.5)
    b0, b1 = big[:48, :60], big[2:50, 1:61]
    assert PARAMS["nscales"] == 5
    fresh = opencv_tvl1(PARAMS).calc(b0, b1, None)
    raw = opencv_tvl1(PARAMS)
    raw.calc(big[:30, :40], big[:30, :40], None)
    assert raw.getScalesNumber() < 5  # the OpenCV behaviour this guards against
    assert np.abs(raw.calc(b0, b1, None) - fresh).max() > 1e-3
    engine = OpenCVTVL1(PARAMS)
    engine.compute(big[:30, :40], big[:30, :40])
    np.testing.assert_array_equal(engine.compute(b0, b1), fresh)
