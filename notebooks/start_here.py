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
# # Start here: copeval in ten minutes
#
# **copeval** evaluates how well *community-oriented policing* is implemented, site by site
# (a site is usually a municipality). Researchers code interviews, focus groups, observations
# and documents, and run surveys; copeval checks that evidence, scores each site on Hugo
# Frühling's four criteria with an honest margin of uncertainty, and writes the evaluation
# reports in Spanish or English.
#
# | | criterion | what the evidence looks for |
# |---|---|---|
# | **C1** | Small-area focus | fixed sectors, foot patrol, work planned for the sector |
# | **C2** | Community relationship and consultation | meetings with community bodies, direct channels, residents' views changing police action |
# | **C3** | Problem solving | targeted and preventive action on local problems, not only reacting to incidents |
# | **C4** | Analysis of conditions | local data, analysis and diagnosis with residents of what favours crime |
#
# A fifth dimension, **AT** (accountability and trust), is reported beside the four.
# Every rating is on a 0–4 scale, with a 90 % interval: *absent* 0.0–0.7, *limited* 0.8–1.5,
# *passable* 1.6–2.3, *acceptable* 2.4–3.1, *strong* 3.2–4.0.
#
# This notebook loads the demo project (two Guatemalan municipalities, Villa Canales and
# Totonicapán: public context figures, **synthetic** interviews and surveys), checks it,
# scores it and shows one site's ratings. Run it with **Run ▸ Run All Cells** (about ten
# seconds), or cell by cell with Shift+Enter.
#
# **En español.** copeval evalúa la implementación de la policía comunitaria sitio por sitio
# (por lo general, un municipio): a partir de entrevistas, grupos focales, observaciones y
# encuestas codificadas, califica cada sitio de 0 a 4 en los cuatro criterios de Frühling
# (enfoque en áreas pequeñas, relación y consulta con la comunidad, resolución de problemas,
# análisis de condiciones), más la rendición de cuentas y confianza, con un intervalo del
# 90 % que dice cuánta incertidumbre queda. Este cuaderno carga el proyecto de demostración,
# lo valida, lo califica y muestra las calificaciones de un sitio; ejecútelo con
# **Run ▸ Run All Cells**. Los informes se generan en español o en inglés
# (`lang = "es"` en los cuadernos de informe).

# %% tags=["parameters"]
project_path = "data/demo"
site_id = "VC"
n_boot = 2000
seed = 0

# %% [markdown]
# ## 1. Find the project
# A project is a folder of tidy CSV tables and plain-text transcripts. Paths are written
# relative to the repository root, as on the command line; `find_project` finds the folder
# wherever the notebook runs from (JupyterLab runs it from `notebooks/`).

# %%
from copeval.resources import find_project

project_folder = find_project(project_path)
project_folder

# %% [markdown]
# ## 2. Validate and load it
# `load_project` reads every file and checks it. If anything is wrong it stops with *every*
# problem at once, each with the file, row and column to fix (`copeval validate data/demo`
# does the same from a terminal). Warnings do not stop it, but are worth reading: the demo
# has two, because two interviewees refused consent, so their interviews are kept for the
# record and used nowhere.

# %%
import pandas as pd

from copeval.project import load_project

project = load_project(project_folder)
n_warnings = len(project.warnings)
print(
    f"valid: {len(project.sites)} sites, {len(project.sources)} sources, {n_warnings} warning(s)"
)
pd.DataFrame(
    [(p.file, p.row, p.column, p.message) for p in project.warnings],
    columns=["file", "row", "column", "warning"],
)

# %% [markdown]
# ## 3. The sites and their evidence
# Each source (an interview, a focus group, an observation, a document) belongs to one site;
# consent decides what may be used and quoted.

# %%
project.sites[["site_id", "name", "department", "population"]]

# %%
project.sources.groupby(["site_id", "method"]).size().unstack(fill_value=0)

# %% [markdown]
# ## 4. Score the sites
# `score_sites` combines the coded evidence and the surveys into one rating per site and
# criterion. The interval comes from a bootstrap (`n_boot` replicates, seeded: the same
# numbers every run).

# %%
from copeval.scoring import score_sites

result = score_sites(project, n_boot=n_boot, seed=seed)
table = result.table
table[["site_id", "criterion", "score", "lower", "upper", "band", "n_sources"]]

# %% [markdown]
# ## 5. One site's ratings
# The score table is language-neutral (codes, unrounded numbers); reports round for display
# and translate. Here are the ratings of the site named by `site_id` in the parameters cell
# (`"VC"`, Villa Canales; set it to `"TOT"` and run all again for Totonicapán):

# %%
import math

from copeval.vocabulary import CRITERION_LABELS, band_label, display_value


def shown(value) -> str:
    """A rating as reports print it (one decimal), or a dash when there is no evidence."""
    return "–" if value is None or math.isnan(value) else f"{display_value(value):.1f}"


rows = table[table["site_id"] == site_id]
ratings = pd.DataFrame(
    {
        "criterion": [f"{c} {CRITERION_LABELS[c]['en']}" for c in rows["criterion"]],
        "rating": [shown(v) for v in rows["score"]],
        "90 % interval": [
            f"{shown(lo)}–{shown(hi)}" for lo, hi in zip(rows["lower"], rows["upper"], strict=True)
        ],
        "band": [band_label(b, "en") for b in rows["band"]],
        "sources": rows["n_sources"].to_list(),
        "survey respondents": rows["n_respondents"].to_list(),
    }
)
print(project.site_name(site_id))
ratings.style.hide(axis="index").set_properties(subset=["criterion"], **{"text-align": "left"})

# %% [markdown]
# An interval that crosses a band boundary means the evidence cannot tell the two bands
# apart; the reports say so in words.
#
# ## 6. Where next
# - [Tutorial 1: load a project and check the reliability of its coding](tutorial_1_load_and_reliability.py)
# - [Tutorial 2: score, compare the sites, test the robustness](tutorial_2_scoring_and_comparison.py)
# - [The site report](site_report.py): run all cells to read one site's report here (set
#   `site_id` and `lang` in its parameters cell)
# - [The comparative report](comparative_report.py): the sites side by side
#
# From a terminal in the repository, the same reports as PDF and HTML:
#
# ```bash
# copeval report data/demo --site VC --lang es     # one site, in Spanish
# copeval compare data/demo --lang en              # the comparison, in English
# copeval demo my-project                          # a copy of the demo to edit and make your own
# ```
#
# The project format is described in `docs/data-model.md`, the method in `docs/method.md`.
