# Report stage: pages for `snakemake --report results/report.html` (see docs/fusion.md).
#
# - bad_inputs_table: every stage's bad-input table (declared, listed by irpipe.workflow_logic)
#   concatenated, with a count; it also waits for every other target.
# - benchmarks_table: every job's benchmark record (declared) tabled per rule: jobs, wall time, memory.
# - report_summary: what was run (each dataset named and counted from its manifests, splits, substitutes).
# Every page that names the data declares the manifests it counts (W.summary_data, W.report_page_data)
# and passes the wording to its report caption as params.data (W.data_caption).
# - report_table_view / report_figure: every other stage's table (results/tables/*.csv among
#   ALL_TARGETS) gets an HTML view and every other stage's figure a copy marked for the report,
#   so the report shows every table and figure even where a stage's own rule does not mark it.
# Include this file after every stage file: its input functions read ALL_TARGETS lazily.

localrules:
    bad_inputs_table,
    benchmarks_table,
    report_summary,
    report_table_view,
    report_figure,
    report_items,


rule bad_inputs_table:
    input:
        tables=W.bad_input_tables,
        upstream=W.report_upstream_targets,
        tracking=TRACKING,
    output:
        csv="results/tables/bad_inputs.csv",
        html=report("results/report/bad_inputs.html", caption="../report/bad_inputs.rst",
                    category="Run summary", labels={"page": "Bad inputs"}),
    log:
        "results/logs/bad_inputs_table/bad_inputs_table.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


rule benchmarks_table:
    input:
        records=W.benchmark_records,
        tracking=TRACKING,
    output:
        csv="results/tables/benchmarks.csv",
        html=report("results/report/benchmarks.html", caption="../report/benchmarks.rst",
                    category="Run summary", labels={"page": "Job resources"}),
    log:
        "results/logs/benchmarks_table/benchmarks_table.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


rule report_summary:
    input:
        unpack(W.summary_data),
        bad_inputs="results/tables/bad_inputs.csv",
        scores=W.report_fusion_scores,
        classes=W.class_files,
        tracking=TRACKING,
    output:
        html=report("results/report/summary.html", caption="../report/summary.rst",
                    category="Run summary", labels={"page": "What was run"}),
    params:
        data=W.data_caption,
    log:
        "results/logs/report_summary/report_summary.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


rule report_table_view:
    input:
        unpack(W.report_page_data),
        csv="results/tables/{name}.csv",
        tracking=TRACKING,
    output:
        html=report("results/report/tables/{name}.html", caption="../report/table.rst",
                    category="Tables", subcategory="Other stages", labels={"table": "{name}"}),
    params:
        data=W.data_caption,
    wildcard_constraints:
        name=r"(?!table3$|bad_inputs$|benchmarks$)[A-Za-z0-9_.-]+",
    log:
        "results/logs/report_table_view/{name}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


rule report_figure:
    input:
        unpack(W.report_page_data),
        figure="results/figures/{name}.{ext}",
        tracking=TRACKING,
    output:
        figure=report("results/report/figures/{name}.{ext}", caption="../report/figure.rst",
                      category="Figures", subcategory="Other stages", labels={"figure": "{name}", "format": "{ext}"}),
    params:
        data=W.data_caption,
    wildcard_constraints:
        name=r"[A-Za-z0-9_.-]+",
        ext=r"png|svg|pdf|jpg|jpeg",
    log:
        "results/logs/report_figure/{name}.{ext}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


rule report_items:
    input:
        W.report_views,
        "results/report/summary.html",
        "results/report/bad_inputs.html",
        "results/report/benchmarks.html",
        TRACKING,
    output:
        index="results/report/items.txt",
    log:
        "results/logs/report_items/report_items.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/report_pages.py"


ALL_TARGETS.append("results/report/items.txt")
