"""What was run: dataset, synthetic or real, split count, substitutes; and the report's HTML views.

The Snakemake report shows PNG/SVG/HTML inline and offers other files as downloads, so every
table gets an HTML view (:func:`table_html`) beside its CSV, and the run summary
(:func:`summary_html`) lists the dataset, the substitutes named in the config and in the
stage outputs' attributes, and the bad inputs recorded under ``on_bad_input: skip``.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..io import write_text
from .data_description import DataDescription

PAPER_DATASETS = {"recognition": "InfAR", "detection": "InfDet"}


def dataset_classes_note(data_dir: str | Path, name: str) -> tuple[int | None, str]:
    """(number of classes, where the list came from) as the manifest job recorded them in
    ``<data_dir>/<name>/classes.txt`` and ``classes_source.txt``; (None, "") before it ran."""
    folder = Path(data_dir) / name
    classes, source = folder / "classes.txt", folder / "classes_source.txt"
    if not classes.exists():
        return None, ""
    n = sum(1 for line in classes.read_text().splitlines() if line.strip())
    return n, (source.read_text().strip() if source.exists() else "")


def describe_dataset(config: Mapping, data_dir: str | Path = "results/data") -> dict[str, Any]:
    """Dataset facts for captions; the class count and its origin come from the manifest job's
    class list (the config may leave the classes to the data)."""
    ds = config.get("dataset", {})
    out = {}
    for name in ("recognition", "detection"):
        d = ds.get(name, {})
        if not d.get("enabled", True):
            continue
        source = d.get("source", "synthetic")
        n, origin = dataset_classes_note(data_dir, name)
        if n is None:
            listed = d.get("classes")
            n, origin = (len(listed), "configured") if listed else (0, "from the data (manifest not built yet)")
        out[name] = {
            "source": source,
            "synthetic": source == "synthetic",
            "path": d.get("path") or d.get("videos"),
            "classes": n,
            "classes_source": origin,
        }
    out["n_splits"] = int(config.get("splits", {}).get("n_splits", 0))
    return out


def _walk(node: Any, prefix: str = ""):
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _walk(v, f"{prefix}{k}.")
            yield f"{prefix}{k}", v


def substitutes_from_config(config: Mapping) -> list[str]:
    """Substitutes the config implies (synthetic data, random init, concept bank, pseudo-colour)."""
    subs = []
    for name, d in describe_dataset(config).items():
        if isinstance(d, dict) and d["synthetic"]:
            subs.append(f"{name} data: embedded synthetic thermal-like videos instead of "
                        f"{PAPER_DATASETS[name]} (numbers are not comparable with the paper's)")
    for key, value in _walk(config):
        leaf = key.rsplit(".", 1)[-1]
        if (leaf == "pretrained" or leaf.endswith("weights") or leaf.endswith("checkpoint")) and value is None:
            subs.append(f"{key}: none given: random initialisation, trained from scratch, instead of "
                        "pretrained weights")
    hc = config.get("handcrafted")
    if isinstance(hc, Mapping) and hc.get("enabled", True):
        # the key is osift.colour_mode (auto resolves to the pseudo-colour map on grey IR frames)
        osift = hc.get("osift", {})
        if osift.get("colour_mode", "auto") in ("auto", "pseudo"):
            subs.append(f"handcrafted.osift.colour_mode = {osift.get('colour_mode', 'auto')}: pseudo-colour map "
                        f"(COLORMAP_{str(osift.get('colormap', 'jet')).upper()}) of the grey IR frames so that "
                        "opponent SIFT sees colour")
        subs.append("concept detectors: a substitute concept bank instead of VideoStory46K (not available)")
    return subs


def substitutes_from_attrs(attrs: Mapping[str, Any]) -> list[str]:
    """Attribute values of stage outputs that name a substitute (e.g. ``ir.pretrained``)."""
    out = []
    for k, v in sorted(attrs.items()):
        text = str(v)
        if "substitut" in text.lower() or (k.endswith("pretrained") and text.lower() in ("", "none", "false", "null")):
            out.append(f"{k}: {text}")
    return out


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, classes="tbl", na_rep="", escape=True)


STYLE = ("<style>body{font-family:sans-serif;margin:1em}table.tbl{border-collapse:collapse}"
         "table.tbl td,table.tbl th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
         "table.tbl td:first-child{text-align:left}</style>")


def table_html(csv_path: str | Path, out_path: str | Path, title: str, note: str = "",
               metrics: Sequence[str] = ("accuracy", "macro_ap")) -> None:
    """An HTML view of a paper-shaped table: mean +- std per metric, paper figure, per split."""
    df = pd.read_csv(csv_path)
    view = pd.DataFrame({"Method": df["method"]}) if "method" in df else df.copy()
    if "method" in df:
        for m in metrics:
            if f"{m}_mean" in df:
                label = {"accuracy": "Mean per-class accuracy %", "macro_ap": "Macro one-vs-rest AP %"}.get(m, m)
                view[f"{label} (mean ± std)"] = [f"{a:.2f} ± {b:.2f}" for a, b in zip(df[f"{m}_mean"], df[f"{m}_std"])]
        if "paper" in df:
            view["Paper"] = df["paper"]
        for c in df.columns:
            if "_split" in c:
                view[c] = df[c]
    body = [f"<h2>{html.escape(title)}</h2>", _table(view)]
    if note:
        body.append(f"<p>{html.escape(note)}</p>")
    write_text(out_path, f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}</head><body>"
               + "\n".join(body) + "</body></html>\n")


def bad_inputs_html(df: pd.DataFrame, out_path: str | Path) -> None:
    n = len(df)
    head = f"<h2>Bad inputs: {n} recorded</h2>"
    text = ("<p>Inputs skipped under <code>on_bad_input: skip</code>, from results/bad_inputs/*.csv. "
            "Under <code>on_bad_input: error</code> a bad input stops the run instead.</p>")
    table = _table(df) if n else "<p>None: every input was used.</p>"
    write_text(out_path, f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}</head><body>{head}{text}{table}</body></html>\n")


def summary_html(config: Mapping, attrs: Mapping[str, Any], n_bad_inputs: int, out_path: str | Path,
                 data: Sequence[DataDescription] = ()) -> None:
    """The run summary page: each dataset named and counted (``data``, from the manifests), synthetic
    or read from where, where its classes came from; splits, substitutes, bad-input count."""
    ds = describe_dataset(config)
    counted = {d.dataset: d for d in data}
    rows = []
    for name in ("recognition", "detection"):
        if name in ds:
            d = ds[name]
            where = ("SYNTHETIC (embedded generator)" if d["synthetic"] else
                     f"Read by the {d['source']} reader" + (f" from {d['path']}" if d.get("path") else ""))
            origin = f"{d['classes']} classes" + (f" ({d['classes_source']})" if d.get("classes_source") else "")
            head = counted[name].text() if name in counted else "not counted (manifest not built)"
            rows.append((f"{name} dataset", f"{head}. {where}; {origin}"))
    rows.append(("recognition splits", str(ds["n_splits"])))
    rows.append(("seed", str(config.get("seed"))))
    rows.append(("bad inputs recorded", str(n_bad_inputs)))
    subs = substitutes_from_config(config) + substitutes_from_attrs(attrs)
    items = "".join(f"<li>{html.escape(s)}</li>" for s in subs) or "<li>none</li>"
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    prov = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in sorted(attrs.items()))
    write_text(out_path, f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}</head><body>"
               f"<h2>What was run</h2><table class='tbl'>{table}</table>"
               f"<h3>Substitutes used</h3><ul>{items}</ul>"
               f"<h3>Attributes of the fused inputs</h3><table class='tbl'>{prov}</table></body></html>\n")
