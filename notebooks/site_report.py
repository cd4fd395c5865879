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
# # Site evaluation report (papermill template)
#
# Renders the evaluation report of one site. Run it through copeval, which also exports the
# PDF and HTML:
#
#     copeval report data/demo --site VC --lang es
#
# or with papermill directly (pass the site ID *raw* with `-r`: `-p site_id 0101` would turn
# it into the number 101):
#
#     papermill notebooks/site_report.ipynb out.ipynb -r site_id VC -p lang en
#
# `profile` is "full" (the complete report) or "brief" (a short municipal brief for national
# rounds: the sections outside it display nothing).
#
# Every section is one call into `copeval.report`; this notebook holds no logic. The cell
# below is tagged `parameters`: papermill injects new values after it. Keep it to plain
# literals (no values computed from other parameters: they would not be recomputed).

# %% tags=["parameters"]
project_path = "data/demo"
site_id = "VC"
lang = "es"
weight = 0.6
n_boot = 2000
seed = 0
ci = 0.9
cache_dir = None
crosswalk = None
profile = "full"

# %%
from copeval.report import SiteReport

report = SiteReport.build(
    project_path,
    site_id=site_id,
    lang=lang,
    weight=weight,
    n_boot=n_boot,
    seed=seed,
    ci=ci,
    cache_dir=cache_dir,
    crosswalk=crosswalk,
    profile=profile,
)
report.cover()

# %%
report.contents()

# %%
report.summary()

# %%
report.results()

# %%
report.context()

# %%
report.criteria()

# %%
report.coverage()

# %%
report.survey()

# %%
report.robustness()

# %%
report.recommendations()

# %%
report.methods()

# %%
report.evidence_appendix()
