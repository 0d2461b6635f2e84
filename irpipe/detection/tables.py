"""Paper-shaped tables of seed 001 (Tables III-VI) from the per-variant evaluations, as data
(``irpipe.report.tables.write_tables`` writes them)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd

PAPER_T3 = {"ir": [41.83, 40.12, 38.59, 36.70, 34.05], "sca_fen": [42.41, 42.12, 41.69, 40.64, 37.83]}
TABLE3 = [("TGM (I3D features of the IR stream)", "ir"), ("InfDetNet (two-stream + SCA with FEN)", "sca_fen")]
TABLE4 = [("Infrared only", "ir", 33.77), ("Flow only (TV-L1)", "flow", 25.69), ("Two-stream", "late", 34.05),
          ("Infrared + self-attention", "ir_sa", 33.81), ("Two-stream + cross-attention", "ca", 33.82),
          ("Two-stream + SCA (TV-L1)", "sca_tvl1", 36.99), ("Two-stream + SCA (FEN)", "sca_fen", 37.83)]
TABLE5 = [("Late fusion", "late", 34.05), ("Element-wise min", "min", 35.49), ("Element-wise max", "max", 34.60),
          ("Concatenation", "concat", 34.16), ("SCA", "sca_tvl1", 36.99)]


def variant_maps(evals: Mapping[str, str | Path]) -> dict[str, pd.Series]:
    """variant -> mAP (%) indexed by tIoU, from each variant's eval.csv."""
    out = {}
    for v, path in evals.items():
        df = pd.read_csv(path)
        m = df[df["class"] == "mAP"].set_index("tiou")["ap"] * 100
        out[v] = m
    return out


def _rows(spec, maps, paper_cols) -> pd.DataFrame:
    rows = []
    for entry in spec:
        name, v = entry[0], entry[1]
        m = maps[v]
        rec = {"method": name, "variant": v}
        for t, val in m.items():
            rec[f"map@{t:.1f}"] = round(float(val), 2)
        rec["map_avg"] = round(float(m.mean()), 2)
        rec.update(paper_cols(entry))
        rows.append(rec)
    return pd.DataFrame(rows)


def build_tables(evals: Mapping[str, str | Path]) -> dict[str, pd.DataFrame]:
    maps = variant_maps(evals)
    t3 = _rows(TABLE3, maps, lambda e: {f"paper@{t}": p for t, p in zip(["0.1", "0.2", "0.3", "0.4", "0.5"],
                                                                          PAPER_T3[e[1]])})
    t4 = _rows(TABLE4, maps, lambda e: {"paper@0.5": e[2]})
    t5 = _rows(TABLE5, maps, lambda e: {"paper@0.5": e[2]})
    return {"infdet_table3": t3, "infdet_table4": t4, "infdet_table5": t5}


TITLES = {
    "infdet_table3": "Table III (seed 001): mAP (%) at tIoU 0.1-0.5, TGM baseline vs InfDetNet",
    "infdet_table4": "Table IV (seed 001): ablation of streams and attention, mAP (%)",
    "infdet_table5": "Table V (seed 001): fusion strategies, mAP (%)",
    "infdet_table6": "Table VI (seed 001): FEN parameters and FLOPs per frame at 256x256",
    "infdet_recognition": "Recognition mode (seed 001): average snippet scores over trimmed videos",
}


def table6(size: int = 256) -> pd.DataFrame:
    """FEN parameters and per-frame FLOPs counted by code, beside the paper's figures."""
    import torch

    from ..models.fen import FlowEstimationNet, count_flops, count_parameters

    fen = FlowEstimationNet(6, 2).eval()
    fl = count_flops(fen, torch.zeros(1, 6, size, size))
    enc = count_flops(torch.nn.Sequential(fen.stem, fen.pool, fen.stages), torch.zeros(1, 6, size, size))
    df = pd.DataFrame([
        {"quantity": "parameters", "counted": count_parameters(fen), "unit": "", "paper": "3.41M",
         "note": "public code's module: 3,345,058"},
        {"quantity": f"MACs per frame ({size}x{size} input)", "counted": round(fl["macs"] / 1e9, 3), "unit": "G",
         "paper": "4.4 GFLOPs", "note": "conv + transposed conv + 1x1 head; norms/activations not counted"},
        {"quantity": f"FLOPs per frame ({size}x{size} input, 2 x MACs)", "counted": round(fl["flops"] / 1e9, 3),
         "unit": "G", "paper": "4.4 GFLOPs", "note": ""},
        {"quantity": f"encoder MACs per frame ({size}x{size})", "counted": round(enc["macs"] / 1e9, 3), "unit": "G",
         "paper": "", "note": "stem + residual stages only"},
    ])
    df["counted"] = df["counted"].astype(object)  # keep the parameter count an integer
    df.loc[0, "counted"] = int(count_parameters(fen))
    return df
