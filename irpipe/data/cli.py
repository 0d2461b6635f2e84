"""``irpipe synth``: write the embedded synthetic thermal dataset to a folder."""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth", help="generate the synthetic thermal-infrared dataset",
        description="Generate the synthetic recognition (12 InfAR classes) and/or detection "
                    "(drop/fight/hug, untrimmed) videos with their ground truth.")
    p.add_argument("--config", type=Path, default=None,
                   help="workflow config YAML (validated; its synthetic and dataset sections are used); "
                        "schema defaults when omitted")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--which", choices=["recognition", "detection", "both"], default="both")
    p.add_argument("--seed", type=int, default=None, help="overrides synthetic.seed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config, validate_config
    from .synthetic import generate_detection, generate_recognition, synthetic_classes

    config = load_config(args.config) if args.config else validate_config({})
    cfg = config["synthetic"]
    seed = cfg["seed"] if args.seed is None else args.seed
    todo = ["recognition", "detection"] if args.which == "both" else [args.which]
    for name in todo:
        t0 = time.perf_counter()
        out = args.out / name if args.which == "both" else args.out
        generate = generate_recognition if name == "recognition" else generate_detection
        table = generate(out, cfg, synthetic_classes(config, name), seed)
        log.info("%s: %d rows in %s (%.1f s)", name, len(table), out, time.perf_counter() - t0)
    return 0
