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
# # Tutorial 1 — Load a project and check how reliable its coding is
#
# An evaluation **project** is a folder of tidy CSV tables and plain-text transcripts
# (`docs/data-model.md`). This tutorial loads the demo project (Villa Canales and
# Totonicapán; public context figures, *synthetic* interviews and surveys), looks at the
# evidence, and measures whether the coding can be trusted before anything is scored.
#
# Next: `tutorial_2_scoring_and_comparison`.

# %% tags=["parameters"]
project_path = "data/demo"
n_boot = 1000

# %% [markdown]
# ## 1. Load and validate
# Project paths are written relative to the repository root, as on the command line;
# `find_project` finds the folder also when the notebook runs from `notebooks/` (as in
# JupyterLab). `load_project` reads every file and reports *all* problems at once (file, row,
# column, value). Warnings do not stop loading; errors do.

# %%
from copeval.project import load_project
from copeval.resources import find_project

project = load_project(find_project(project_path))
project

# %%
project.meta

# %%
project.sites[["site_id", "name", "department", "population", "homicide_rate"]]

# %%
[str(w) for w in project.warnings][:5]

# %% [markdown]
# ## 2. The evidence
# Each source (interview, focus group, observation, document) belongs to one site and one
# respondent group; groups fall into four triangulation strata. Consent decides what may be
# used: `quote` (may be quoted, by role and site), `anonymous` (evidence, never quoted),
# `none` (excluded from everything).

# %%
project.sources.groupby(["site_id", "stratum", "consent"]).size().unstack(fill_value=0)

# %% [markdown]
# `Project.evidence()` is what scoring uses: the primary coder's rated segments from
# consented sources, joined with their source's site, group and consent.

# %%
evidence = project.evidence()
evidence.groupby(["site_id", "criterion"])["valence"].agg(["size", "mean"]).round(2)

# %%
first = evidence.iloc[0]
first["segment_id"], first["code"], first["valence"], project.segment_text(first["segment_id"])

# %% [markdown]
# ## 3. Inter-coder reliability
# A second coder coded part of the sources. Agreement per code: Cohen's kappa and
# Krippendorff's alpha (nominal for whether a code was applied, ordinal for its valence), with
# bootstrap intervals. Krippendorff: alpha >= 0.800 reliable, >= 0.667 tentative; ratings that
# rest on codes below 0.667 carry a warning in the reports.

# %%
from copeval.reliability import code_reliability, criterion_reliability, disagreements

codes = code_reliability(project.segments, n_boot=n_boot, seed=0)
codes[
    [
        "code",
        "n_units",
        "kappa",
        "alpha_nominal",
        "alpha_nominal_lower",
        "alpha_nominal_upper",
        "alpha_ordinal",
        "below_threshold",
    ]
].round(3)

# %%
criterion_reliability(project.segments, n_boot=n_boot, seed=0)[
    ["criterion", "n_units", "kappa", "alpha_nominal", "alpha_ordinal"]
].round(3)

# %% [markdown]
# Where do the coders disagree? Each row names the segments involved, so the team can
# discuss the passages and refine the codebook definitions.

# %%
disagreements(project.segments).head(10)

# %% [markdown]
# ## 4. Reliability of the survey scales
# Survey items are put on 0–4 (reverse-coded where negatively worded; don't know and
# refused stay missing). Cronbach's alpha and McDonald's omega per instrument, criterion and
# site:

# %%
from copeval.survey import scale_reliability

scale_reliability(project.items, project.responses)[
    ["instrument", "criterion", "site_id", "n_items", "n_respondents", "alpha", "omega"]
].round(2)
