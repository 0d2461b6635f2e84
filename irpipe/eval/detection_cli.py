"""``irpipe evaluate-detection``: mAP at tIoU thresholds on THUMOS14-style files."""
from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate-detection",
        help="temporal action detection mAP (THUMOS14 toolkit protocol or ActivityNet)",
        description="Evaluate a THUMOS14 detection file (lines 'video t_start t_end class_id score') "
                    "against ground-truth files <class>_<subset>.txt (lines 'video t_start t_end'). "
                    "Ambiguous_<subset>.txt is honoured when present.")
    p.add_argument("--gt", required=True, help="folder of <class>_<subset>.txt ground-truth files")
    p.add_argument("--detections", required=True, help="detection file in THUMOS14 format")
    p.add_argument("--classes", default=None, help="class list 'id name' (default: <gt>/detclasslist.txt)")
    p.add_argument("--subset", default="test")
    p.add_argument("--tiou", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.5])
    p.add_argument("--protocol", choices=["thumos14", "activitynet"], default="thumos14")
    p.add_argument("--missing-gt", choices=["error", "exclude"], default="error",
                   help="a class without ground truth: error (as the toolkit) or leave it out of the mean")
    p.add_argument("--no-ambiguous", action="store_true", help="ignore Ambiguous_<subset>.txt")
    p.add_argument("--out", default=None, help="write the per-class table here (.csv or .json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import write_csv, write_json
    from .detection import evaluate_files

    res = evaluate_files(args.gt, args.detections, args.classes, args.subset, args.tiou,
                         args.protocol, args.missing_gt, use_ambiguous=not args.no_ambiguous)
    table = res.table()
    width = max(len(c) for c in res.classes + ["mAP"])
    print(f"protocol {res.protocol}; AP per class at tIoU")
    print(" " * width + "".join(f"{t:>9.2f}" for t in res.thresholds))
    for ci, c in enumerate(res.classes):
        mark = "" if c not in res.excluded else "  (no ground truth, excluded)"
        print(f"{c:<{width}}" + "".join(f"{res.ap[ti, ci]:9.4f}" for ti in range(len(res.thresholds))) + mark)
    print(f"{'mAP':<{width}}" + "".join(f"{m:9.4f}" for m in res.map))
    if args.out:
        if args.out.endswith(".json"):
            write_json(args.out, {"protocol": res.protocol, "tiou": list(res.thresholds),
                                  "map": res.map.tolist(),
                                  "ap": {c: res.ap[:, i].tolist() for i, c in enumerate(res.classes)},
                                  "excluded": res.excluded})
        else:
            write_csv(args.out, table)
    return 0
