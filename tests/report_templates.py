"""Tiny report templates for batch tests: the real templates' parameters, little else."""

#: The parameters cell of the real report templates (what the batch engine injects).
PARAMETERS_CELL = """\
# %% tags=["parameters"]
project_path = "x"
site_id = "x"
sites = "all"
lang = "es"
weight = 0.6
n_boot = 10
seed = 0
ci = 0.9
cache_dir = None
crosswalk = None
"""
