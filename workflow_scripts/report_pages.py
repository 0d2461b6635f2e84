"""Report pages: the bad-inputs table, the run summary, HTML views of other stages' tables,
and copies of other stages' figures (rules bad_inputs_table, report_summary,
report_table_view, report_figure), and the job-resources page (rule benchmarks_table)."""
import shutil

from irpipe.workflow import run_script


def main(smk, run):
    import pandas as pd

    from irpipe.errors import read_bad_inputs
    from irpipe.io import write_csv, write_text
    from irpipe.report import provenance
    from irpipe.report.data_description import data_note, describe_inputs

    if smk.rule == "bad_inputs_table":
        paths = list(smk.input.tables)
        df = read_bad_inputs(paths)
        write_csv(smk.output.csv, df)
        provenance.bad_inputs_html(df, smk.output.html)
        run.log_metrics({"n_bad_inputs": len(df)})
        print(f"{len(df)} bad input(s) recorded in {len(paths)} table(s)")
    elif smk.rule == "benchmarks_table":
        from irpipe.report.benchmarks import write_benchmark_table

        table = write_benchmark_table(smk.input.records, smk.output.csv, smk.output.html)
        run.log_metrics({"jobs": int(table["jobs"].sum()), "job_seconds": float(table["total_s"].sum())})
    elif smk.rule == "report_summary":
        from irpipe.fusion.pipeline import read_scores

        attrs = {}
        for p in smk.input.scores:
            attrs.update({k: v for k, v in read_scores(p).attrs.items() if k != "split"})
        n_bad = len(pd.read_csv(smk.input.bad_inputs, dtype=str, keep_default_na=False))
        provenance.summary_html(smk.config, attrs, n_bad, smk.output.html,
                                data=describe_inputs(smk.config, smk.input))
    elif smk.rule == "report_table_view":
        provenance.table_html(smk.input.csv, smk.output.html, smk.wildcards.name,
                              note=data_note(describe_inputs(smk.config, smk.input)))
    elif smk.rule == "report_figure":
        from irpipe.io import atomic_path

        with atomic_path(smk.output.figure) as tmp:
            shutil.copyfile(smk.input.figure, tmp)
    elif smk.rule == "report_items":
        items = sorted(p for p in map(str, smk.input) if p.startswith("results/report/"))
        write_text(smk.output.index, "\n".join(items) + "\n")
    else:
        raise ValueError(f"report_pages.py has no page for rule {smk.rule}")


run_script(snakemake, main, section=None)  # noqa: F821
