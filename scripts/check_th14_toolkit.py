#!/usr/bin/env python
"""Compare irpipe's THUMOS14 evaluator with the official toolkit (TH14evalDet.m) under GNU Octave.

The toolkit is NOT part of irpipe: pass the folder that holds ``TH14evalDet.m`` (from the
THUMOS14 evaluation kit, e.g. ``THUMOS14_evalkit_20150930/`` of a public repository).

    python scripts/check_th14_toolkit.py --toolkit /path/to/THUMOS14_evalkit_20150930 \
        [--cases 20] [--seed 0] [--gt results/detection/gt --detections results/detection/variants/*/detections_thumos.txt]

Generated cases hold several videos and classes, ground truth in file order, Ambiguous
segments, near-duplicates, jittered and random detections, reversed intervals and tied
scores. Each case (and each given real detection file) is evaluated at tIoU 0.1..0.5 by
both; the script exits non-zero if any mAP or per-class AP differs by 5e-5 or more (i.e.
they do not agree to four decimals). Needs ``octave`` on PATH.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from irpipe.eval.detection import evaluate_files  # noqa: E402

THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5]


def make_case(rng: np.random.Generator, case_dir: Path) -> None:
    classes = ["drop", "fight", "hug", "wave"][: int(rng.integers(2, 5))]
    gt_dir = case_dir / "gt"
    gt_dir.mkdir(parents=True)
    (gt_dir / "detclasslist.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    videos = [f"video_test_{i:07d}" for i in range(int(rng.integers(2, 7)))]
    gts = {c: [] for c in classes}
    for v in videos:
        t = 0.0
        while True:
            t += float(rng.exponential(8.0))
            d = float(rng.uniform(0.5, 8.0))
            if t + d > 60:
                break
            c = classes[int(rng.integers(len(classes)))]
            gts[c].append((v, round(t, 2), round(t + d, 2)))
            t += d * float(rng.uniform(-0.3, 1.0))  # sometimes overlapping instances
    for c in classes:  # the toolkit asserts npos > 0
        if not gts[c]:
            gts[c].append((videos[0], 1.0, 3.0))
    for c in classes:
        order = rng.permutation(len(gts[c]))  # ground truth in arbitrary file order
        (gt_dir / f"{c}_test.txt").write_text("".join(f"{gts[c][i][0]} {gts[c][i][1]:.2f} {gts[c][i][2]:.2f}\n"
                                                      for i in order))
    amb = [(videos[int(rng.integers(len(videos)))], s, s + float(rng.uniform(0.5, 4)))
           for s in rng.uniform(0, 55, size=int(rng.integers(0, 6)))]
    (gt_dir / "Ambiguous_test.txt").write_text("".join(f"{v} {s:.2f} {e:.2f}\n" for v, s, e in amb))
    det = []
    for ci, c in enumerate(classes):
        for v, s, e in gts[c]:
            for _ in range(int(rng.integers(0, 4))):  # jittered copies, some duplicates
                j = float(rng.normal(0, 0.25 * (e - s)))
                det.append((v, s + j, e + float(rng.normal(0, 0.25 * (e - s))), ci + 1))
            if rng.random() < 0.3:  # overlap exactly 0.5 (integer times): matches below 0.5 only
                det.append((v, float(np.floor(s)), float(np.floor(s)) + 2.0, ci + 1))
                det.append((v, float(np.floor(s)), float(np.floor(s)) + 1.0, ci + 1))
        for _ in range(int(rng.integers(0, 15))):  # false alarms
            v = videos[int(rng.integers(len(videos)))]
            s = float(rng.uniform(0, 58))
            det.append((v, s, s + float(rng.uniform(0.3, 6)), ci + 1))
    lines = []
    for v, s, e, cid in det:
        if rng.random() < 0.05:
            s, e = e, s  # reversed interval: the toolkit reorders it
        score = round(float(rng.random()), 2)  # two decimals -> ties
        name = v + (".mp4" if rng.random() < 0.2 else "")
        lines.append(f"{name} {s:.2f} {e:.2f} {cid} {score:.2f}\n")
    order = rng.permutation(len(lines))
    (case_dir / "det.txt").write_text("".join(lines[i] for i in order))


def run_toolkit(toolkit: Path, gt_dir: Path, det_file: Path) -> dict:
    """mAP and per-class AP from TH14evalDet under Octave, for each threshold."""
    work = Path(tempfile.mkdtemp(prefix="th14_"))
    shutil.copytree(gt_dir, work / "gt")
    shutil.copy(det_file, work / "det.txt")
    thr = " ".join(str(t) for t in THRESHOLDS)
    script = (f"addpath('{toolkit}'); cd('{work}'); "
              # public copies differ in the outputs: [pr_all,ap_all,map] or [ap_all,map]
              "n=nargout('TH14evalDet'); "
              f"for thr=[{thr}] if n==3 [pr,ap,map]=TH14evalDet('det.txt','gt','test',thr); "
              "else [ap,map]=TH14evalDet('det.txt','gt','test',thr); end; "
              "fprintf('IRPIPE %.2f %.10f', thr, map); fprintf(' %.10f', ap); fprintf('\\n'); end")
    out = subprocess.run(["octave", "--no-gui", "--quiet", "--no-window-system", "--eval", script],
                         capture_output=True, text=True, timeout=600)
    res = {}
    for line in out.stdout.splitlines():
        if line.startswith("IRPIPE"):
            vals = [float(x) for x in line.split()[1:]]
            res[round(vals[0], 2)] = (vals[1], vals[2:])
    shutil.rmtree(work, ignore_errors=True)
    if len(res) != len(THRESHOLDS):
        raise RuntimeError(f"octave did not report all thresholds:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return res


def compare(toolkit: Path, gt_dir: Path, det_file: Path, label: str) -> tuple[float, list[str]]:
    ours = evaluate_files(gt_dir, det_file, thresholds=THRESHOLDS)
    theirs = run_toolkit(toolkit, gt_dir, det_file)
    worst, rows = 0.0, []
    for ti, t in enumerate(THRESHOLDS):
        m_ref, ap_ref = theirs[round(t, 2)]
        d = max([abs(ours.map[ti] - m_ref)] + [abs(a - b) for a, b in zip(ours.ap[ti], ap_ref)])
        worst = max(worst, d)
        rows.append(f"{label} tIoU {t:.1f}: irpipe mAP {ours.map[ti]:.6f}  toolkit {m_ref:.6f}  max |diff| {d:.2e}")
    return worst, rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toolkit", required=True, type=Path, help="folder holding TH14evalDet.m")
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gt", type=Path, help="real ground-truth folder (detclasslist.txt, <class>_test.txt)")
    ap.add_argument("--detections", type=Path, nargs="*", default=[], help="real THUMOS14 detection files")
    ap.add_argument("--report", type=Path, help="write the comparison lines here")
    args = ap.parse_args(argv)
    if not (args.toolkit / "TH14evalDet.m").exists():
        ap.error(f"{args.toolkit}/TH14evalDet.m not found")
    if shutil.which("octave") is None:
        ap.error("octave is not on PATH")
    rng = np.random.default_rng(args.seed)
    worst, lines, n_real = 0.0, [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.cases):
            case = Path(tmp) / f"case{k}"
            make_case(rng, case)
            w, rows = compare(args.toolkit.resolve(), case / "gt", case / "det.txt", f"case {k:02d}")
            worst = max(worst, w)
            lines += rows
    for det in args.detections:
        if args.gt is None:
            ap.error("--detections needs --gt")
        if not det.read_text().strip():
            # the toolkit fails on a file without detections (detevents undefined); irpipe gives AP 0
            lines.append(f"{det}: no detections, skipped (the toolkit cannot read an empty file)")
            continue
        w, rows = compare(args.toolkit.resolve(), args.gt, det, det.parent.name or det.name)
        n_real += 1
        worst = max(worst, w)
        lines += rows
    ok = worst < 5e-5
    lines.append(f"{args.cases} generated cases + {n_real} real files x {len(THRESHOLDS)} thresholds: "
                 f"largest |irpipe - toolkit| over mAP and per-class AP = {worst:.2e} -> "
                 f"{'AGREE to 4 decimals' if ok else 'DISAGREE'}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
