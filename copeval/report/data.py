"""Everything a report shows, computed once per project and parameter set.

:class:`ReportData` loads a project and computes the language-independent results every
report section draws on: the score table with intervals, pairwise and rank probabilities,
the sensitivity grid, inter-coder and scale reliability. Scoring a large project once and
reusing it for hundreds of site reports is what keeps a national batch fast, so the results
can be cached on disk (``cache_dir``, see :mod:`copeval.report.cache`): the cache key is a
hash of every file of the project, the scoring parameters and the copeval version, so a
changed input never reuses a stale result. The cache holds derived tables only (no text),
in a format that cannot run code; the project itself is read again from its folder.

Reports never see the project as loaded: :meth:`ReportData.for_readers` gives the view
they render, with every free-text field redacted (:func:`copeval.privacy.redact`).

A project with evaluation rounds (``datapackage.json`` ``copeval.rounds``) is shown one round
at a time: ``ReportData.load(path, round=R)`` (default: the latest round with evidence) gives
that round's scores, evidence, sources and survey answers, exactly the tables a one-round
project gives, and :meth:`ReportData.change` the change of every rating since the previous
round (:func:`copeval.change.project_change`), computed once and cached with the scores.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from copeval import __version__, _io
from copeval.errors import CopevalError
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT

__all__ = [
    "REPORTS_MARKER",
    "ReportData",
    "analysis_key",
    "clear_memo",
    "project_fingerprint",
]

DEFAULTS = {
    "weight": DEFAULT_WEIGHT,
    "n_boot": DEFAULT_DRAWS,
    "seed": DEFAULT_SEED,
    "ci": DEFAULT_CI,
}
#: Pairwise tables and per-site scale reliability are precomputed (and cached) for projects
#: with at most this many sites; larger projects compute them when a report needs them.
PRECOMPUTE_PAIRS_UP_TO = 12


#: Tables :meth:`ReportData.compute_all` always computes (only full reports show them).
COMPLETE_TABLES = ("code_reliability", "site_sensitivity")
#: Version of the cached analysis layout (see :mod:`copeval.report.cache`).
CACHE_FORMAT = 4
#: A file naming a folder as a reports folder, and the folders never part of a project's
#: inputs: one rule for every folder hash (:func:`copeval._io.tree_files`).
REPORTS_MARKER = _io.REPORTS_MARKER
SKIP_DIRS = _io.SKIP_DIRS
#: Analyses kept in memory per process (see :meth:`ReportData.load`).
MEMO_SIZE = 2
#: A project with a file modified less than this many nanoseconds ago is not memoised.
RACY_NS = 2_000_000_000
_LOADED: OrderedDict = OrderedDict()


def _project_files(path: str | Path, exclude=()):
    """``(relative POSIX path, DirEntry)`` of every input file of a project, unsorted
    (:func:`copeval._io.tree_files`: hidden files count; version-control folders, temporary
    files, reports folders inside the project and ``exclude`` do not)."""
    return _io.tree_files(path, exclude)


def _stat_signature(path: str | Path) -> tuple | None:
    """Names, sizes, inodes and change times (ns) of a project's files: change detection.

    The files are those :func:`project_fingerprint` hashes (:func:`_project_files`). The
    inode-change time (``st_ctime_ns``) moves with any write, even one that restores the
    modification time (``cp -p``, ``rsync -a``, unzip). None when the folder cannot be read
    completely (then nothing is memoised).
    """
    entries = []
    try:
        for _, entry in _project_files(path):
            st = entry.stat(follow_symlinks=True)
            entries.append((entry.path, st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    except OSError:
        return None
    return tuple(sorted(entries))


def clear_memo() -> None:
    """Forget the analyses kept in memory by :meth:`ReportData.load`."""
    _LOADED.clear()


def project_fingerprint(path: str | Path, *, exclude=()) -> str:
    """SHA-256 over the relative path and bytes of every input file of a project folder.

    Any change to any table, text (hidden ones too: ``texts/.X.txt``) or descriptor changes
    the fingerprint. Version-control folders, a reports folder inside the project (one
    holding :data:`REPORTS_MARKER`, or listed in ``exclude``) and temporary files are not
    inputs and are left out (see :func:`_project_files`).
    """
    root = Path(path)
    if not root.is_dir():
        raise CopevalError(f"Project folder not found: {root}")
    try:
        return _io.hash_tree(root, exclude=exclude)
    except OSError as exc:
        raise CopevalError(f"cannot read project file {exc.filename}: {exc.strerror}") from None


#: Modules whose code decides what an analysis holds: a change to any of them (a new column,
#: a new interval method) invalidates every cached analysis, whatever the version number says.
ANALYSIS_MODULES = (
    "copeval.codebook",
    "copeval.change",
    "copeval.project",
    "copeval.scoring",
    "copeval.uncertainty",
    "copeval.params",
    "copeval.survey",
    "copeval.reliability",
    "copeval.privacy",
    "copeval.vocabulary",
    "copeval.report.data",
    "copeval.report.cache",
)

#: Packaged data files (``copeval/data/``) whose content decides what an analysis holds.
ANALYSIS_DATA = ("codebook.csv", "lexicon.csv")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the source of :data:`ANALYSIS_MODULES` (computed once per process)."""
    import importlib.util

    digest = hashlib.sha256()
    for name in ANALYSIS_MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        digest.update(name.encode())
        if origin and os.path.isfile(origin):
            digest.update(Path(origin).read_bytes())
    # the packaged data the analysis reads (the codebook maps every code to its criterion)
    from importlib import resources

    for name in ANALYSIS_DATA:
        digest.update(name.encode())
        with contextlib.suppress(OSError):
            digest.update(resources.files("copeval").joinpath("data", name).read_bytes())
    return digest.hexdigest()[:16]


def analysis_key(path: str | Path, params: dict, round: str | None = None) -> str:
    """Cache key of a project's analysis: fingerprint, scoring parameters, the round shown
    (None: the latest), copeval version, the analysis code's fingerprint and the cache
    format."""
    payload = json.dumps(
        {
            "project": project_fingerprint(path),
            "params": _params(params),
            "round": None if round is None else str(round),
            "copeval": __version__,
            "code": code_fingerprint(),
            "format": CACHE_FORMAT,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _params(params: dict) -> dict:
    out = dict(DEFAULTS)
    out.update({k: v for k, v in params.items() if k in DEFAULTS})
    return {
        "weight": float(out["weight"]),
        "n_boot": int(out["n_boot"]),
        "seed": int(out["seed"]),
        "ci": float(out["ci"]),
    }


@dataclass(eq=False)
class ReportData:
    """A loaded project with its scores and the tables the report sections need.

    Build it with :meth:`load`. Attributes are computed lazily and cached on the instance.

    Attributes
    ----------
    project : Project
    result : ScoreResult
        From :func:`copeval.scoring.score_sites` (labels are recomputed per language by the
        report, so one result serves both languages).
    params : dict
        ``weight``, ``n_boot``, ``seed``, ``ci``.
    project_all : Project
        For a project with rounds: the project with every round (``project`` then holds the
        shown round's sources, segments and survey answers only; see :attr:`round`). None
        when it is ``project`` itself (a project without rounds).
    """

    project: object
    result: object
    params: dict
    extras: dict = field(default_factory=dict)
    _site_rows: dict = field(default_factory=dict, repr=False)
    project_all: object = field(default=None, repr=False)

    # ---------------------------------------------------------------- construction
    @classmethod
    def load(
        cls,
        project_path: str | Path,
        *,
        weight: float = DEFAULT_WEIGHT,
        n_boot: int = 2000,
        seed: int = 0,
        ci: float = 0.9,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        memo: bool = True,
        complete: bool = True,
        round: str | None = None,
    ) -> ReportData:
        """Load the project and score it, or reuse a cached analysis from ``cache_dir``.

        ``round``: for a project with evaluation rounds, the round the report shows (its
        scores, evidence, sources and survey answers; default: the latest round with
        evidence), with the change since the previous round (:meth:`change`) computed and
        cached with it. A round the project does not declare is a :class:`CopevalError`
        naming the declared rounds. A project without rounds is shown as always (``round``
        must then be None).

        ``n_jobs`` threads share the bootstrap when the project must be scored (as in
        :func:`copeval.scoring.score_sites`; the result does not depend on it). With
        ``memo=False`` the analysis is neither taken from nor kept in memory (a batch's
        parent process, which only fills the disk cache for its workers). With
        ``complete=False`` a newly scored analysis is cached without the tables only the
        full reports show (inter-coder reliability, sensitivity grid; see
        :meth:`compute_all`): they are computed when a report first asks for them.

        The cache holds the computed tables only (scores, replicates, reliability...; no
        text), keyed on the hash of every project file, the parameters and the copeval
        version, in a format that cannot run code (:mod:`copeval.report.cache`); the project
        is read from its folder each time. The batch engine uses the user cache folder
        (:func:`copeval.report.cache.default_cache_dir`), never the reports folder.

        Within one process the loaded analysis is also kept in memory (the last
        :data:`MEMO_SIZE` projects) and returned again while no project file has changed
        (same names, sizes and modification times): a warm kernel rendering 340 site
        reports loads the project once, not 340 times. Treat the result as read-only.
        """
        from copeval.project import load_project

        params = _params({"weight": weight, "n_boot": n_boot, "seed": seed, "ci": ci})
        rnd = _round_arg(round)
        memo_key = (
            str(Path(project_path).resolve()),
            tuple(sorted(params.items())),
            str(Path(cache_dir).resolve()) if cache_dir is not None else None,
            rnd,
        )
        if not memo:
            return cls._load(project_path, params, cache_dir, load_project, n_jobs, complete, rnd)
        signature = _stat_signature(project_path)
        hit = _LOADED.pop(memo_key, None)
        if signature is not None and hit is not None and hit[0] == signature:
            if complete and not all(k in hit[1].extras for k in COMPLETE_TABLES):
                hit[1].compute_all()
            _LOADED[memo_key] = hit
            return hit[1]
        data = cls._load(project_path, params, cache_dir, load_project, n_jobs, complete, rnd)
        newest = max((e[3] for e in signature or ()), default=0)  # modification times
        if signature is not None and time.time_ns() - newest > RACY_NS:
            # a file changed in the last moments could change again within the clock's
            # granularity with the same size: such a project is not kept (as git does)
            _LOADED[memo_key] = (signature, data)
            while len(_LOADED) > MEMO_SIZE:
                _LOADED.popitem(last=False)
        return data

    @classmethod
    def _load(
        cls, project_path, params, cache_dir, load_project, n_jobs=None, complete=True, rnd=None
    ) -> ReportData:
        from .cache import CacheFormatError, cache_file, load_tables, touch

        path = project = key = None
        if cache_dir is not None:
            key = analysis_key(project_path, params, rnd)
            path = cache_file(cache_dir, key)
            if path.is_file():
                project = load_project(project_path)
                _check_round(project, rnd)
                if analysis_key(project_path, params, rnd) != key:
                    # the files changed while they were read: neither trust nor fill the cache
                    path = None
            if path is not None and path.is_file():
                try:
                    tables, meta = load_tables(path)
                    tables = _IdCodec(project).decode(tables)
                    result = _result_from_tables(tables, meta)
                    if project.round_ids and result.settings.get("round") not in project.round_ids:
                        raise CacheFormatError("cached analysis names no round of the project")
                except CacheFormatError:  # corrupt, foreign or planted: recompute, replace
                    path.unlink(missing_ok=True)
                else:
                    touch(path)  # recently used: kept when the folder is pruned
                    extras = {k[1]: v for k, v in tables.items() if k[0] == "extras"}
                    data = cls._of(project, result, params, extras)
                    stale = False
                    if complete and not all(k in data.extras for k in COMPLETE_TABLES):
                        data.compute_all()  # cached by a batch of briefs: complete it
                        stale = True
                    if data._complete_rounds():
                        stale = True
                    if stale:
                        data._save(path)
                    return data
        project = project if project is not None else load_project(project_path)
        _check_round(project, rnd)
        data = cls._of(project, _score(project, params, n_jobs, rnd), params)
        if complete:
            data.compute_all()
        data._complete_rounds()  # every report of a round shows its change: once, cached
        if path is not None and analysis_key(project_path, params, rnd) == key:
            data._save(path)  # only when the files scored are still the files of the key
        return data

    @classmethod
    def _of(cls, project, result, params, extras=None) -> ReportData:
        """The analysis of ``project`` as a report shows it: for a project with rounds, the
        scored round's view of the project, the whole project kept in ``project_all``."""
        rnd = result.settings.get("round") if project.round_ids else None
        if rnd is None:
            return cls(project, result, params, dict(extras or {}))
        view = _round_view(project, str(rnd))
        return cls(view, result, params, dict(extras or {}), project_all=project)

    def _save(self, path: Path) -> None:
        """Write the derived tables (never the project, never a text) to ``path``."""
        from .cache import save_tables

        r = self.result
        tables = {
            ("result", "table"): r.table,
            ("result", "replicates"): r.replicates,
            ("result", "evidence"): r.evidence,
            ("result", "respondents"): r.respondents,
        }
        tables.update({("extras", k): v for k, v in self.extras.items()})
        try:
            json.dumps(r.settings)
            tables = _IdCodec(self._root.all_rounds).encode(tables)
        except (TypeError, KeyError):
            return  # settings or IDs this layout cannot hold: no cache
        skipped = save_tables(path, tables, {"settings": r.settings})
        if any(k[0] == "result" for k in skipped):
            path.unlink(missing_ok=True)  # an incomplete result is no cache

    # ---------------------------------------------------------------- the readers' view
    def for_readers(self, lang: str) -> ReportData:
        """The data a report in ``lang`` renders: the project with every free-text field
        redacted, sharing this analysis's scores.

        :func:`copeval.privacy.redact` (the project's registry, tags in ``lang``) is applied
        to every text column of ``sites`` (names, departments, notes, sources of figures...),
        to ``sources.coder_notes``, to the wording of survey items, to every text entry of the
        project's metadata (title, description, the fieldwork period printed on every cover;
        not the primary coder or reference site, which are IDs), and to the names made from
        file and column names: source and segment IDs, survey instruments
        (``responses/<instrument>.csv``) and items. Names that redaction changes are renamed
        consistently in every table and text lookup (and kept unique), also in the score
        table and the tables shared with this analysis as the view shows them
        (:meth:`table`, :meth:`scale_reliability`); names it does not touch are unchanged, as
        are site IDs, codes and numbers.
        Quotes are redacted where they are cut (:mod:`copeval.report.quotes`). The view is
        computed once per language and kept with this analysis.
        """
        base = self.__dict__.get("_base", self)  # a view of a view: from the original
        views = base.__dict__.setdefault("_views", {})
        view = views.get(lang)
        if view is None:
            project, names = _redacted_project(base.project, lang)
            view = ReportData(project, base.result, base.params)
            view.extras = base.extras  # the same computed tables, one memo
            view.__dict__["_base"] = base
            view.__dict__["_names"] = names  # raw name -> shown name, for the shared tables
            views[lang] = view
        return view

    # ---------------------------------------------------------------- rounds
    @property
    def _root(self) -> ReportData:
        """The analysis this one is a readers' view of (itself when it is not a view)."""
        return self.__dict__.get("_base", self)

    @property
    def all_rounds(self):
        """The project with every round (the loaded project; not redacted: use it for
        numbers, never print its text). ``project`` itself for a project without rounds."""
        root = self._root
        return root.project_all if root.project_all is not None else root.project

    @property
    def rounds(self) -> list[str]:
        """The project's declared evaluation rounds, oldest first (``[]`` without rounds)."""
        return list(self._root.all_rounds.round_ids)

    @property
    def round(self) -> str | None:
        """The round this analysis shows (None for a project without rounds)."""
        if not self.rounds:
            return None
        rnd = self.result.settings.get("round")
        return None if rnd is None else str(rnd)

    @property
    def scored_rounds(self) -> list[str]:
        """Declared rounds with coded evidence or survey answers, oldest first."""
        root = self._root
        cached = root.__dict__.get("_scored_rounds")
        if cached is None:
            project = root.all_rounds
            used = set()
            if project.round_ids:
                used = set(project.evidence()["round"].dropna().astype(str))
                for df in (project.responses or {}).values():
                    if "round" in df.columns:
                        used |= set(df["round"].dropna().astype(str))
            cached = root.__dict__["_scored_rounds"] = [r for r in project.round_ids if r in used]
        return list(cached)

    def round_label(self, round_id: str, lang: str) -> str:
        """The label of a round in ``lang`` from ``datapackage.json`` (its ID when none)."""
        rnd = self.check_round(round_id)
        return self.project.round_label(rnd, lang)

    def check_round(self, round_id) -> str:
        """``round_id`` as a string if the project declares it; else a clear error."""
        rnd = _round_arg(round_id)
        if rnd is None:
            raise CopevalError("round_id must be a round ID such as '2017', not None")
        _check_round(self.all_rounds, rnd)
        return rnd

    def previous_round(self, round_id: str | None = None) -> str | None:
        """The latest round with evidence before ``round_id`` (default: the round shown);
        None when there is none (the first round, or a project without rounds)."""
        if not self.rounds:
            return None
        to = self.check_round(round_id) if round_id is not None else self.round
        order = self.rounds
        earlier = [r for r in self.scored_rounds if order.index(r) < order.index(to)]
        return earlier[-1] if earlier else None

    def change(self, round_from: str | None = None, round_to: str | None = None):
        """Change of every rating between two rounds: the table of
        :func:`copeval.change.project_change` (columns :data:`copeval.change.CHANGE_COLUMNS`,
        one row per site x criterion), computed once and cached with the analysis.

        Default: from the previous round with evidence (:meth:`previous_round`) to the round
        shown. None when there is no earlier round to compare with (a project without
        rounds, or the first round shown). Rounds the project does not declare are a
        :class:`CopevalError` naming the declared rounds.
        """
        root = self._root
        if not self.rounds:
            if round_from is not None or round_to is not None:
                _check_round(self.all_rounds, _round_arg(round_from or round_to))
            return None
        rt = self.check_round(round_to) if round_to is not None else self.round
        rf = self.check_round(round_from) if round_from is not None else self.previous_round(rt)
        if rf is None:
            return None
        if rf == rt:
            raise CopevalError(f"A change needs two different rounds; both are {rf!r}")
        key = ("change", rf, rt)
        if key not in root.extras:
            from copeval.change import project_change
            from copeval.params import ScoringParams

            p = root.params
            params = ScoringParams(
                weight=p["weight"], ci=p["ci"], seed=p["seed"], draws=p["n_boot"]
            )
            res = project_change(root.all_rounds, round_from=rf, round_to=rt, params=params)
            root.extras[key] = res.table
            for rnd, scored in res.scores.items():
                root.extras.setdefault(("round_table", rnd), _round_table(scored.table, rnd))
        return root.extras[key]

    def round_table(self, round_id: str) -> pd.DataFrame:
        """The ratings of one round (site, criterion, score, interval, band, basis, flags),
        as that round's report shows them; cached with the analysis."""
        root = self._root
        rnd = self.check_round(round_id)
        key = ("round_table", rnd)
        if key not in root.extras:
            if rnd == self.round:
                root.extras[key] = _round_table(self.result.table, rnd)
            else:
                from copeval.scoring import score_sites

                p = root.params
                scored = score_sites(
                    root.all_rounds,
                    weight=p["weight"],
                    n_boot=p["n_boot"],
                    seed=p["seed"],
                    ci=p["ci"],
                    round=rnd,
                )
                root.extras[key] = _round_table(scored.table, rnd)
        return root.extras[key]

    def _complete_rounds(self) -> bool:
        """Compute what every report of the round shown needs and the cache should hold:
        the change since the previous round and the ratings of every earlier round (the
        wave plot). True when something was computed (the cache file is then rewritten)."""
        prev = self.previous_round() if self.rounds else None
        if prev is None:
            return False
        done = False
        if ("change", prev, self.round) not in self._root.extras:
            self.change()
            done = True
        order = self.rounds
        for rnd in self.scored_rounds:
            earlier = order.index(rnd) < order.index(self.round)
            if earlier and ("round_table", rnd) not in self._root.extras:
                self.round_table(rnd)
                done = True
        return done

    def compute_all(self) -> None:
        """Compute the lazily cached tables now (before caching to disk).

        Pairwise and rank probabilities and the ordering sensitivity grow with the square of
        the number of sites; they are precomputed for small projects only (the comparative
        report computes them when needed).
        """
        for name in COMPLETE_TABLES:
            getattr(self, name)
        if len(self.site_names) <= PRECOMPUTE_PAIRS_UP_TO:
            for site in self.site_names:
                self.scale_reliability(site)
            self.pairwise()
            self.ranks()
            self.orderings()

    def _memo(self, name, fn):
        if name not in self.extras:
            self.extras[name] = fn()
        return self.extras[name]

    # ---------------------------------------------------------------- tables
    @property
    def table(self) -> pd.DataFrame:
        """The score table (one row per site x criterion); in a readers' view, with the
        survey items and segment IDs behind each rating named as the view names them."""
        if not self.__dict__.get("_names"):
            return self.result.table
        shown = self.__dict__.get("_shown_table")
        if shown is None:
            shown = self.__dict__["_shown_table"] = self._shown(self.result.table)
        return shown

    @functools.cached_property
    def evidence(self) -> pd.DataFrame:
        """``Project.evidence()``: primary coder, rated segments, consented sources."""
        return self.project.evidence()

    @functools.cached_property
    def site_names(self) -> dict:
        sites = self.project.sites
        return dict(zip(sites["site_id"].astype(str), sites["name"].astype(str), strict=True))

    @functools.cached_property
    def scaled_items(self) -> pd.DataFrame:
        """Survey answers rescaled to 0-4, long format (empty when there are no surveys)."""
        if not self.project.responses:
            return pd.DataFrame(
                columns=["respondent_id", "instrument", "site_id", "item", "criterion", "value"]
            )
        from copeval.survey import scale_items

        return scale_items(self.project.items, self.project.responses)

    @property
    def code_reliability(self) -> pd.DataFrame | None:
        """Inter-coder reliability per code (None when the project has a single coder)."""

        def compute():
            # every round's double coding: the reliability gate of scoring pools the rounds
            # (copeval.scoring.round_inputs), so the table explains the ratings' flags
            project = self._root.all_rounds
            consented = set(project.sources.loc[project.sources["consent"] != "none", "source_id"])
            seg = project.segments[project.segments["source_id"].isin(consented)]
            if seg["coder"].nunique() < 2:
                return None
            from copeval.reliability import N_BOOT_DEFAULT, code_reliability

            return code_reliability(seg, n_boot=N_BOOT_DEFAULT, seed=self.params["seed"])

        return self._memo("code_reliability", compute)

    def scale_reliability(self, site_id: str) -> pd.DataFrame | None:
        """Cronbach's alpha and McDonald's omega per instrument x criterion, for one site.

        Computed from that site's responses only, on demand: the whole-project table costs
        time in proportion to the number of sites, and a site report needs one site's rows.
        """

        def compute():
            if not self.project.responses:
                return None
            import warnings

            from copeval.survey import scale_reliability

            responses = {
                inst: _rows_of(self._site_rows, ("responses", inst), df, site_id)
                for inst, df in self.project.responses.items()
            }
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return scale_reliability(self.project.items, responses)

        return self._shown(self._memo(("scale_reliability", site_id), compute))

    def _shown(self, df):
        """``df`` as this view shows it: instrument, item and segment names renamed as in
        the redacted project (the table itself when nothing is renamed)."""
        names = self.__dict__.get("_names")
        if df is None or not names or not any(names.values()):
            return df
        return _show_names(df, names)

    @property
    def site_sensitivity(self) -> pd.DataFrame:
        """Point scores of every site x criterion under the sensitivity grid."""

        def compute():
            from copeval.scoring import sensitivity_scores

            return sensitivity_scores(self.result.evidence, self.result.respondents)

        return self._memo("site_sensitivity", compute)

    def pairwise(self, sites=None) -> pd.DataFrame:
        """P(site A > site B) per criterion (restricted to ``sites`` when given)."""
        full = self.extras.get(("pairwise", None))
        if full is not None and sites is not None:
            keep = full["site_a"].isin(sites) & full["site_b"].isin(sites)
            return full[keep].reset_index(drop=True)
        key = ("pairwise", tuple(sites) if sites is not None else None)
        return self._memo(key, lambda: self.result.pairwise(sites=sites))

    def ranks(self) -> pd.DataFrame:
        return self._memo("ranks", lambda: self.result.ranks())

    def orderings(self) -> pd.DataFrame:
        """Pairwise orderings that change under the sensitivity grid (changed rows only)."""
        return self._memo("orderings", lambda: self.result.sensitivity(only_changed=True))

    # ---------------------------------------------------------------- one site's rows
    #: Site-keyed tables :meth:`for_site` slices (attribute name -> how to get the frame).
    SITE_TABLES = ("table", "evidence", "sources", "scaled_items", "site_sensitivity")

    def for_site(self, name: str, site_id: str) -> pd.DataFrame:
        """The rows of one site in a site-keyed table, as ``frame[frame.site_id == site_id]``.

        ``name`` is one of :data:`SITE_TABLES`. The positions of every site's rows are found
        once per table (one ``groupby``), so a report pays a lookup, not a scan of a
        national table, each time it needs its site's rows.
        """
        if name not in self.SITE_TABLES:
            raise CopevalError(
                f"Unknown site table {name!r}. Known: {', '.join(self.SITE_TABLES)}"
            )
        frame = self.project.sources if name == "sources" else getattr(self, name)
        return _rows_of(self._site_rows, name, frame, site_id)

    def site_row(self, site_id: str, criterion: str) -> pd.Series | None:
        rows = self.table[
            (self.table["site_id"] == site_id) & (self.table["criterion"] == criterion)
        ]
        return None if rows.empty else rows.iloc[0]

    def check_site(self, site_id) -> str:
        """``site_id`` as a string if the project has it; else a clear error."""
        if not isinstance(site_id, str):
            raise CopevalError(
                f"site_id must be a string, got {type(site_id).__name__} {site_id!r}. "
                "With papermill, pass it raw: `papermill ... -r site_id 0101` "
                "(-p converts 0101 to the number 101)."
            )
        ids = list(self.site_names)
        if site_id not in ids:
            raise CopevalError(
                f"No site {site_id!r} in project {self.project.path}. "
                f"Available site IDs: {', '.join(ids)}"
            )
        return site_id


def _rows_of(index: dict, key, frame: pd.DataFrame, site_id: str) -> pd.DataFrame:
    """``frame[frame.site_id == site_id]`` through a per-frame index of row positions.

    The index is kept in ``index[key]`` with the frame it was built from, and rebuilt if
    that frame is replaced. Rows keep their order and index labels, as a boolean mask would.
    """
    cached = index.get(key)
    if cached is None or cached[0] is not frame:
        ids = frame["site_id"].astype(str) if len(frame) else frame["site_id"]
        positions = ids.groupby(ids, sort=False).indices if len(frame) else {}
        cached = (frame, positions)
        index[key] = cached
    rows = cached[1].get(str(site_id))
    return frame.iloc[rows] if rows is not None else frame.iloc[0:0]


def _score(project, params: dict, n_jobs: int | None = None, rnd: str | None = None):
    from copeval.scoring import score_sites

    return score_sites(
        project,
        weight=params["weight"],
        n_boot=params["n_boot"],
        seed=params["seed"],
        ci=params["ci"],
        n_jobs=n_jobs,
        round=rnd,
    )


# ------------------------------------------------------------------------------ rounds
#: Columns of a round's ratings kept by :meth:`ReportData.round_table` (no IDs, no text).
ROUND_TABLE_COLUMNS = (
    "round",
    "site_id",
    "criterion",
    "score",
    "lower",
    "upper",
    "band",
    "basis",
    "n_sources",
    "n_respondents",
    "insufficient_evidence",
    "capped",
    "no_evidence",
    "thin_evidence",
    "low_reliability",
)


def _round_table(table: pd.DataFrame, rnd: str) -> pd.DataFrame:
    table = table.assign(round=rnd)
    return table[[c for c in ROUND_TABLE_COLUMNS if c in table.columns]].reset_index(drop=True)


def _round_arg(value) -> str | None:
    """A ``round`` argument as text (a number given for a round ID such as 2017 is read as
    its digits); anything else is a clear error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CopevalError(
            f"round must be a round ID such as '2017' (text), got {type(value).__name__} {value!r}"
        )
    return str(value)


def _check_round(project, rnd: str | None) -> None:
    """A clear error unless ``rnd`` is None or a round ``project`` declares."""
    if rnd is None:
        return
    ids = list(project.round_ids)
    if not ids:
        raise CopevalError(
            f"round {rnd!r} given, but project {project.path} declares no evaluation rounds "
            "(datapackage.json, copeval.rounds); leave round empty"
        )
    if rnd not in ids:
        raise CopevalError(
            f"No round {rnd!r} in project {project.path}. Declared rounds: {', '.join(ids)}"
        )


def _round_view(project, rnd: str):
    """``project`` restricted to one round: its sources, their segments and texts, and the
    round's survey answers (instruments without answers in the round are left out)."""
    import dataclasses

    sources = project.sources
    sources = sources[sources["round"].astype(str) == rnd].reset_index(drop=True)
    ids = set(sources["source_id"])
    segments = project.segments
    segments = segments[segments["source_id"].isin(ids)].reset_index(drop=True)
    responses = {}
    for inst, df in (project.responses or {}).items():
        part = df[df["round"].astype(str) == rnd] if "round" in df.columns else df.iloc[0:0]
        if len(part):
            responses[inst] = part.reset_index(drop=True)
    texts = {k: v for k, v in project._texts.items() if k in ids}
    return dataclasses.replace(
        project, sources=sources, segments=segments, responses=responses, _texts=texts, _index={}
    )


def _result_from_tables(tables: dict, meta: dict):
    from copeval.scoring import ScoreResult

    from .cache import CacheFormatError

    try:
        return ScoreResult(
            table=tables[("result", "table")],
            replicates=tables[("result", "replicates")],
            evidence=tables[("result", "evidence")],
            respondents=tables[("result", "respondents")],
            settings=dict(meta["settings"]),
        )
    except (KeyError, TypeError) as exc:
        raise CacheFormatError(f"incomplete cached analysis: {exc}") from None


#: Columns of each table that hold free text a report may print (redacted for readers).
_FREE_TEXT = {
    "sources": ("coder_notes",),
    "items": ("label_en", "label_es"),
}
#: Entries of ``project.meta`` that are identifiers or switches, never redacted (a coder or a
#: site ID selects rows); every other text entry (title, description, the fieldwork
#: ``period`` printed on every cover, and any entry a later version adds) is free text.
_META_IDS = frozenset({"primary_coder", "reference_site", "format_version", "written_by"})


#: Entries of a round declaration (``meta["rounds"]``) holding free text.
_ROUND_TEXT = frozenset({"label_es", "label_en"})


def _round_entries(meta: dict) -> list:
    rounds = meta.get("rounds")
    return [r for r in rounds if isinstance(r, dict)] if isinstance(rounds, list) else []


def _meta_text_keys(meta: dict) -> list:
    """Keys of ``meta`` holding free text a report may print (see :data:`_META_IDS`)."""
    return [k for k, v in meta.items() if isinstance(v, str) and k not in _META_IDS]


#: A person's translation of a segment's text (``text_es``, ``text_en``).
_TRANSLATION = re.compile(r"text_[a-z]{2,3}")


def _text_columns(df, *, exclude=()) -> list:
    """Text columns of ``df`` (None: no table) except ``exclude``."""
    if df is None:
        return []
    return [
        c
        for c in df.columns
        if c not in exclude and (df[c].dtype == object or str(df[c].dtype) in ("string", "str"))
    ]


def _redacted_project(project, lang: str):
    """A copy of ``project`` with its free-text fields and ID-like names redacted."""
    import dataclasses

    from copeval import privacy

    registry = privacy.load_registry(project)
    sites = project.sites
    text_cols = [
        c
        for c in sites.columns
        if c != "site_id"
        and (sites[c].dtype == object or str(sites[c].dtype) in ("string", "str"))
    ]
    # site_rounds.csv: a round's context laid over sites.csv (Project.site_context), with
    # the same free-text columns and language variants; segments: people's translations.
    site_rounds = project.site_rounds
    round_cols = _text_columns(site_rounds, exclude=("site_id", "round"))
    translation_cols = [c for c in project.segments.columns if _TRANSLATION.fullmatch(str(c))]
    wanted = [
        *(v for c in text_cols for v in sites[c]),
        *(v for c in round_cols for v in site_rounds[c]),
        *(v for c in translation_cols for v in project.segments[c]),
        *(v for c in _FREE_TEXT["sources"] if c in project.sources for v in project.sources[c]),
        *project.sources["source_id"],
        *project.segments["segment_id"],
        *(project.meta[k] for k in _meta_text_keys(project.meta)),
        *(v for r in _round_entries(project.meta) for k, v in r.items() if k in _ROUND_TEXT),
    ]
    if project.items is not None and len(project.items):
        wanted += [v for c in _FREE_TEXT["items"] if c in project.items for v in project.items[c]]
    memo = redact_values(wanted, registry=registry, lang=lang)

    def red(value):
        if not isinstance(value, str) or not value:
            return value
        out = memo.get(value)
        if out is None:
            out = memo[value] = privacy.redact(value, registry=registry, lang=lang)[0]
        return out

    def redact_columns(df: pd.DataFrame, columns) -> pd.DataFrame:
        cols = [c for c in columns if c in df.columns]
        if not cols:
            return df
        df = df.copy()
        for c in cols:
            df[c] = df[c].map(red)
        return df

    sites = redact_columns(sites, text_cols)
    if round_cols:
        site_rounds = redact_columns(site_rounds, round_cols)
    sources = redact_columns(project.sources, _FREE_TEXT["sources"])
    items = project.items
    if items is not None and len(items):
        items = redact_columns(items, _FREE_TEXT["items"])
    meta = dict(project.meta)
    for key in _meta_text_keys(meta):
        meta[key] = red(meta[key])
    if _round_entries(meta):  # round labels are printed ("Change since <label>")
        meta["rounds"] = [
            {k: red(v) if k in _ROUND_TEXT else v for k, v in r.items()}
            for r in _round_entries(meta)
        ]

    segments = redact_columns(project.segments, translation_cols)
    texts = project._texts
    src_map = _id_map(sources["source_id"], red)
    seg_map = _id_map(segments["segment_id"], red)
    # survey instruments are file names (responses/<instrument>.csv) and items column names
    responses = project.responses
    inst_map = item_map = {}
    if items is not None and len(items):
        inst_map = _id_map(pd.Series([*items["instrument"], *responses]), red)
        item_map = _id_map(items["item"], red)
    if inst_map or item_map:
        items = items.copy()
        items["instrument"] = items["instrument"].map(lambda v: inst_map.get(v, v))
        items["item"] = items["item"].map(lambda v: item_map.get(v, v))
        responses = {
            inst_map.get(k, k): df.rename(columns=item_map) if item_map else df
            for k, df in responses.items()
        }
    if src_map:
        sources = sources.copy()
        sources["source_id"] = sources["source_id"].map(lambda v: src_map.get(v, v))
        texts = {src_map.get(k, k): v for k, v in texts.items()}
    if src_map or seg_map:
        segments = segments.copy()
        segments["source_id"] = segments["source_id"].map(lambda v: src_map.get(v, v))
        segments["segment_id"] = segments["segment_id"].map(lambda v: seg_map.get(v, v))
    return dataclasses.replace(
        project,
        meta=meta,
        sites=sites,
        site_rounds=site_rounds,
        sources=sources,
        segments=segments,
        items=items,
        responses=responses,
        _texts=texts,
        _index={},
    ), {"instrument": inst_map, "item": item_map, "segment": seg_map, "source": src_map}


def _show_names(df: pd.DataFrame, names: dict) -> pd.DataFrame:
    """A copy of ``df`` with the names of ``names`` (kind -> {raw: shown}) replaced in the
    columns that hold them: ``instrument``, ``item``, ``items`` (``"instrument:item;…"`` or a
    tuple of items), ``segment_id``, ``segment_ids`` (``";"``-joined), ``source_id``."""
    inst, item, seg, src = (
        names.get(k) or {} for k in ("instrument", "item", "segment", "source")
    )

    def one_item(part: str) -> str:
        head, sep, tail = part.partition(":")
        if sep:
            return f"{inst.get(head, head)}:{item.get(tail, tail)}"
        return item.get(part, part)

    def items_cell(v):
        if isinstance(v, tuple):
            return tuple(item.get(x, x) for x in v)
        if isinstance(v, str) and v:
            return ";".join(one_item(x) for x in v.split(";"))
        return v

    def joined(mapping):
        def cell(v):
            if isinstance(v, tuple):
                return tuple(mapping.get(x, x) for x in v)
            if isinstance(v, str) and v:
                return ";".join(mapping.get(x, x) for x in v.split(";"))
            return v

        return cell

    def plain(mapping):
        return lambda v: mapping.get(v, v) if isinstance(v, str) else v

    rules = {
        "instrument": (inst, plain(inst)),
        "item": (item, plain(item)),
        "items": (inst or item, items_cell),
        "segment_id": (seg, plain(seg)),
        "segment_ids": (seg, joined(seg)),
        "source_id": (src, plain(src)),
    }
    out = None
    for col, (mapping, fn) in rules.items():
        if mapping and col in df.columns:
            out = df.copy() if out is None else out
            out[col] = out[col].map(fn)
    return df if out is None else out


#: Between values redacted in one call: nothing any redaction pattern matches can span it
#: (no word character, white space, dash, dot, ``@`` or digit), and it starts and ends as a
#: value does, after a line break.
_JOIN = "\n\u2042\u2042\u2042\n"


def redact_values(values, *, registry=None, lang: str = "en") -> dict:
    """``{value: redacted value}`` for the distinct non-empty strings in ``values``.

    :func:`copeval.privacy.redact` costs about a millisecond per call whatever the length
    of the text, and a national project has tens of thousands of IDs and notes: the values
    are redacted as one text, joined by :data:`_JOIN`, and split again. If a finding ever
    spans a join (the parts no longer match the values), every value is redacted on its
    own instead, so the result is always what one call per value gives.
    """
    from copeval import privacy

    distinct = [v for v in dict.fromkeys(values) if isinstance(v, str) and v]
    if not distinct:
        return {}
    parts = privacy.redact(_JOIN.join(distinct), registry=registry, lang=lang)[0].split(_JOIN)
    if len(parts) != len(distinct):
        parts = [privacy.redact(v, registry=registry, lang=lang)[0] for v in distinct]
    return dict(zip(distinct, parts, strict=True))


def _id_map(ids: pd.Series, red) -> dict:
    """``{id: shown id}`` for the IDs redaction changes, kept unique (``[PHONE]~2``)."""
    values = [str(v) for v in dict.fromkeys(ids)]
    changed = {v: red(v) for v in values}
    changed = {k: v for k, v in changed.items() if v != k}
    if not changed:
        return {}
    taken = set(values) - set(changed)
    out = {}
    for raw in sorted(changed):
        shown, n = changed[raw], 1
        while shown in taken:
            n += 1
            shown = f"{changed[raw]}~{n}"
        taken.add(shown)
        out[raw] = shown
    return out


class _IdCodec:
    """Segment, source and respondent IDs and cluster names in a cached table, as tokens.

    IDs are often made from file names or written by hand and may hold personal data (a
    phone number in a file name): the cache stores ``~g12`` for the 13th segment ID in
    sorted order, and the IDs are restored from the project, which is loaded anyway (the
    cache key includes every project file, so the order is the same). Survey instruments
    (file names, ``responses/<instrument>.csv``) and items (column names) are stored the
    same way in every table, in the columns ``instrument``, ``item`` and ``items``
    (``"instrument:item;…"`` or a tuple of items).
    """

    #: (table key, column, kind, joined by ";")
    COLUMNS = (
        (("result", "evidence"), "segment_id", "g", False),
        (("result", "evidence"), "source_id", "s", False),
        (("result", "table"), "segment_ids", "g", True),
        (("result", "respondents"), "respondent_id", "r", False),
        (("result", "respondents"), "cluster", "k", False),
    )

    def __init__(self, project):
        responses = list((project.responses or {}).values())

        def values(frames, column):
            out = set()
            for df in frames:
                if column in df.columns:
                    out.update(str(v) for v in df[column].dropna())
            return sorted(out)

        items = project.items if project.items is not None else pd.DataFrame()
        self.ids = {
            "g": values([project.segments], "segment_id"),
            "s": values([project.sources], "source_id"),
            "r": values(responses, "respondent_id"),
            "k": values(responses, "cluster"),
            "i": sorted({*values([items], "instrument"), *map(str, project.responses or {})}),
            "t": values([items], "item"),
        }
        self.fwd = {k: {v: f"~{k}{i}" for i, v in enumerate(ids)} for k, ids in self.ids.items()}
        self.back = {k: {t: v for v, t in m.items()} for k, m in self.fwd.items()}

    def _apply(self, tables: dict, maps: dict, error) -> dict:
        out = dict(tables)
        for key, column, kind, joined in self.COLUMNS:
            df = out.get(key)
            if df is None or column not in df.columns:
                continue
            mapping = maps[kind]

            def one(v, mapping=mapping, joined=joined):
                if not isinstance(v, str):
                    return v
                if joined:
                    return ";".join(mapping[x] if x else x for x in v.split(";"))
                return mapping[v]

            df = df.copy()
            try:
                df[column] = df[column].map(one).astype(df[column].dtype)
            except KeyError as exc:
                raise error(f"{column} {exc} not in the project") from None
            out[key] = df
        inst, item = maps["i"], maps["t"]

        def plain(mapping):
            return lambda v: mapping.get(v, v) if isinstance(v, str) else v

        def items_cell(v):
            if isinstance(v, tuple):
                return tuple(item.get(x, x) for x in v)
            if not isinstance(v, str) or not v:
                return v
            parts = []
            for part in v.split(";"):
                head, sep, tail = part.partition(":")
                parts.append(
                    f"{inst.get(head, head)}:{item.get(tail, tail)}"
                    if sep
                    else item.get(part, part)
                )
            return ";".join(parts)

        rules = {"instrument": plain(inst), "item": plain(item), "items": items_cell}
        for key, df in out.items():
            if not isinstance(df, pd.DataFrame):
                continue
            cols = [c for c in rules if c in df.columns]
            if not cols:
                continue
            df = df.copy()
            for c in cols:
                df[c] = df[c].map(rules[c]).astype(df[c].dtype)
            out[key] = df
        return out

    def encode(self, tables: dict) -> dict:
        return self._apply(tables, self.fwd, KeyError)

    def decode(self, tables: dict) -> dict:
        from .cache import CacheFormatError

        return self._apply(tables, self.back, CacheFormatError)
