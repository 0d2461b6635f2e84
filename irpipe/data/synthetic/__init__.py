"""Embedded synthetic thermal-infrared dataset: articulated warm figures acting out the
InfAR classes (recognition) and untrimmed InfDet-like videos (detection).

``generate_recognition(out_dir, cfg, classes, seed)`` and
``generate_detection(out_dir, cfg, classes, seed)`` write real encoded videos plus
ground-truth tables; ``cfg`` is ``config["synthetic"]``. See docs/synthetic.md.
"""
from .detection import INFDET_MEAN_DURATION_S, generate_detection, plan_instances, render_untrimmed
from .motion import CLASS_MOTIONS
from .recognition import generate_recognition, render_clip

__all__ = ["CLASS_MOTIONS", "INFDET_MEAN_DURATION_S", "generate_detection", "generate_recognition",
           "plan_instances", "render_clip", "render_untrimmed", "synthetic_classes"]


def synthetic_classes(config: dict, dataset: str) -> list[str]:
    """The classes to generate: ``dataset.<dataset>.classes`` when the config lists them (the
    manifest then uses that list too), else the papers' classes, ``synthetic.<dataset>.classes``."""
    listed = config["dataset"][dataset].get("classes")
    return list(listed) if listed is not None else list(config["synthetic"][dataset]["classes"])
