# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: copeval (.venv)
#     language: python
#     name: copeval
# ---

# %% [markdown] tags=["remove-cell"]
# # Comparative evaluation report (papermill template)
#
# Compares sites on the same 0-4 scale, with the probability of each difference. Render it
# with copeval, which also exports PDF and HTML:
#
#     copeval compare data/demo --sites all --lang es
#
# `sites` is a string: `"all"` or comma-separated site IDs (`"VC,TOT"`), so that IDs such as
# `0101` are never turned into numbers. The cell below is tagged `parameters`; keep it to
# plain literals. This notebook holds no logic: each cell calls `copeval.report`.

# %% tags=["parameters"]
project_path = "data/demo"
sites = "all"
lang = "es"
weight = 0.6
n_boot = 2000
seed = 0
ci = 0.9
cache_dir = None
crosswalk = None

# %%
from copeval.report import ComparativeReport

report = ComparativeReport.build(
    project_path,
    sites=sites,
    lang=lang,
    weight=weight,
    n_boot=n_boot,
    seed=seed,
    ci=ci,
    cache_dir=cache_dir,
)
report.cover()

# %%
report.contents()

# %%
report.summary()

# %%
report.results()

# %%
report.differences()

# %%
report.coverage()

# %%
report.methods()
