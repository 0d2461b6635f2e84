"""Table VI of seed 001: FEN parameters and FLOPs per frame at 256x256, counted by code."""
from pathlib import Path

from irpipe.detection.tables import TITLES, table6
from irpipe.report.data_description import NO_DATA
from irpipe.report.tables import write_tables
from irpipe.workflow import run_script


def main(smk, run):
    df = table6(256)
    write_tables({"infdet_table6": df}, Path(smk.output.csv).parent, TITLES,
              f"{NO_DATA} Counted by forward hooks on irpipe.models.fen.FlowEstimationNet(6, 2); the paper's 4.4 GFLOPs "
              "and 3.41M are its own figures (the public code's module has 3,345,058 parameters).")
    run.log_metrics({"fen_parameters": float(df.loc[0, "counted"]), "fen_gmacs_256": float(df.loc[1, "counted"])})


run_script(snakemake, main, section="detection")
