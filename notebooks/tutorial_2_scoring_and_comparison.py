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

# %% [markdown]
# # Tutorial 2 — Score the sites, compare them, and produce the reports
#
# Scores each site on Frühling's four criteria (C1–C4) and accountability and trust (AT),
# with calibrated intervals; compares the two demo sites; checks how robust the comparison is
# to the weighting choices; and renders the bilingual PDF reports. `docs/method.md` explains
# every step of the scoring.

# %% tags=["parameters"]
project_path = "data/demo"
n_boot = 2000
seed = 0

# %%
from copeval.project import load_project
from copeval.resources import find_project
from copeval.scoring import score_sites

project_folder = find_project(project_path)  # also from notebooks/, as in JupyterLab
project = load_project(project_folder)
result = score_sites(project, n_boot=n_boot, seed=seed)
result

# %% [markdown]
# ## 1. The score table
# One row per site and criterion: the combined rating (0–4), its 90% interval and standard
# error, the rating band (a code: absent, limited, passable, acceptable, strong), how much
# evidence stands behind it, boolean flags (insufficient or thin evidence, capped, low
# reliability) and the IDs of the segments and survey items that produced it. The table is
# language-neutral: reports translate the codes.

# %%
table = result.table
table[
    [
        "site_id",
        "criterion",
        "score",
        "lower",
        "upper",
        "band",
        "basis",
        "n_sources",
        "n_groups",
        "n_respondents",
        "insufficient_evidence",
        "thin_evidence",
        "low_reliability",
    ]
].round(2)

# %%
table.loc[table["criterion"] == "C4", ["site_id", "segment_ids"]].head()

# %% [markdown]
# ## 2. Figures
# The report figures are plain functions of the score table (a matplotlib figure out).

# %%
# %matplotlib inline
from copeval.report.figures import forest_figure, heatmap_figure

names = dict(zip(project.sites["site_id"], project.sites["name"], strict=True))
heatmap_figure(table, lang="en", site_names=names)

# %%
forest_figure(table, lang="en", site_names=names)

# %% [markdown]
# ## 3. Is one site really ahead?
# A hierarchical model over the project's sites gives the probability that a site rates
# above another on each criterion,
# and the probability of each rank. A probability near 0.5 means the data cannot tell the two
# apart.

# %%
result.pairwise().round(3)

# %%
result.ranks().query("rank == 1").round(3)

# %% [markdown]
# ## 4. Sensitivity
# Recompute under other qualitative weights and aggregation choices: which orderings of
# sites change?

# %%
orderings = result.sensitivity()
orderings.groupby("criterion")["changed"].mean().round(2)

# %% [markdown]
# ## 5. Reports
# The site and comparative reports are papermill notebooks (`notebooks/site_report.py`,
# `notebooks/comparative_report.py`) that only call `copeval.report`. Any section can be
# shown here too:

# %%
from copeval.report import ReportData, SiteReport

data = ReportData.load(project_folder, n_boot=n_boot, seed=seed)
report = SiteReport(data, site_id="TOT", lang="en")
report.summary()

# %% [markdown]
# To produce the PDFs (code hidden, Spanish and English), from a terminal:
#
# ```bash
# copeval report data/demo --site TOT --lang en     # one site
# copeval compare data/demo --lang es               # the comparison
# copeval batch data/demo --jobs 2 --resume         # every site, both languages
# ```
