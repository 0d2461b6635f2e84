"""``irpipe`` command line: generate synthetic data, evaluate detections, compare runs.

Subcommands are registered by the modules that implement them (``register(subparsers)``),
imported lazily so that ``irpipe --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import IrpipeError

# (module, attribute) pairs; each attribute is ``register(subparsers)``.
SUBCOMMAND_MODULES = [
    "irpipe.data.cli",          # synth
    "irpipe.eval.detection_cli",  # evaluate-detection
    "irpipe.report.compare",    # runs compare
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="irpipe", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # stage not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except IrpipeError as exc:
        print(f"irpipe: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
