"""Recommendations: weak criteria linked to MOPSIC tools and national security plan actions.

The crosswalk (``data/crosswalk/recommendations.csv``, see its README) maps each criterion and
sub-code weakness to a recommendation, the MOPSIC tools it uses (FIAPOL work-period planning,
FAES statistical analysis) and the actions of the *Plan Estratégico de Seguridad de la Nación
2020–2024* (PESN) it bears on. ``pesn_actions.csv`` holds those actions verbatim, with their
responsible institutions, and ``institutions.csv`` spells out every acronym.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from copeval import resources
from copeval.errors import CrosswalkError
from copeval.vocabulary import CRITERIA

__all__ = ["Crosswalk", "load_crosswalk", "recommendations", "select_recommendations"]

CROSSWALK_COLUMNS = (
    "code",
    "criterion",
    "weakness_en",
    "weakness_es",
    "recommendation_en",
    "recommendation_es",
    "mopsic_tools",
    "pesn_actions",
    "other_institutions",
    "basis",
)
ACTION_COLUMNS = ("action", "objective", "programme_name", "action_es", "responsible")
#: Scores below this (the lower bound of "acceptable") count as weak.
WEAK_THRESHOLD = 2.4


def __getattr__(name: str):
    # CROSSWALK_DIR: the shipped crosswalk, found when first asked for (copeval.resources)
    if name == "CROSSWALK_DIR":
        return resources.crosswalk_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Crosswalk:
    """The three crosswalk tables.

    Attributes
    ----------
    table : DataFrame
        One row per code (criterion or sub-code), columns :data:`CROSSWALK_COLUMNS`.
    actions : DataFrame
        PESN 2020–2024 actions: ``action`` (e.g. ``"2.1.1"``), ``objective``,
        ``programme_name``, ``action_es`` (verbatim), ``responsible`` (verbatim).
    institutions : DataFrame
        ``acronym``, ``name_es``, ``name_en``, ``source``.
    path : Path
        The folder the tables were read from.
    """

    table: pd.DataFrame
    actions: pd.DataFrame
    institutions: pd.DataFrame
    path: Path
    #: The project's English translations of cited actions (``pesn_actions_en.csv``:
    #: ``action``, ``action_en``), empty when the file is absent.
    actions_en: pd.DataFrame | None = None
    #: MOPSIC tools (``mopsic_tools.csv``: ``tool``, ``name_es``, ``name_en``,
    #: ``purpose_es``, ``purpose_en``), empty when the file is absent.
    tools: pd.DataFrame | None = None

    def action_text(self, action: str, lang: str) -> tuple[str, bool]:
        """The text of a PESN action in ``lang`` and whether it is a translation.

        The Plan is in Spanish: ``lang="es"`` gives its text verbatim; another language
        gives the crosswalk's translation when it has one (``pesn_actions_<lang>.csv``),
        else the Spanish original (``False``: not translated).
        """
        original = self.actions.loc[self.actions["action"] == action, "action_es"]
        text = original.iloc[0] if len(original) else ""
        if lang != "es" and self.actions_en is not None and lang == "en":
            tr = self.actions_en.loc[self.actions_en["action"] == action, "action_en"]
            if len(tr) and str(tr.iloc[0]).strip():
                return str(tr.iloc[0]).strip(), True
        return str(text), False

    def responsible(self, action: str) -> str:
        """Responsible institutions of an action, as the Plan names them (commas tidied)."""
        import re

        sel = self.actions.loc[self.actions["action"] == action, "responsible"]
        return re.sub(r"\s+,", ",", str(sel.iloc[0])) if len(sel) else ""

    def tool_text(self, tool: str, lang: str) -> str:
        """``"FIAPOL (Formato Integral de Actividades Policiales: …)"``, or ``""`` when the
        tool is not described."""
        if self.tools is None or tool not in set(self.tools["tool"]):
            return ""
        row = self.tools.loc[self.tools["tool"] == tool].iloc[0]
        name, purpose = str(row[f"name_{lang}"]).strip(), str(row[f"purpose_{lang}"]).strip()
        if name == tool:
            return f"{tool} ({purpose})" if purpose else ""
        return f"{tool} ({name}, {purpose})" if purpose else f"{tool} ({name})"


def _read(path: Path, required) -> pd.DataFrame:
    if not path.is_file():
        raise CrosswalkError(
            f"Crosswalk file not found: {path}. Pass crosswalk=<folder> holding "
            "recommendations.csv, pesn_actions.csv and institutions.csv"
        )
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CrosswalkError(
            f"{path.name} lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(df.columns)}"
        )
    return df


def load_crosswalk(path: str | Path | None = None) -> Crosswalk:
    """Read the crosswalk folder (default: the one copeval ships, ``data/crosswalk`` of the
    repository, found by :func:`copeval.resources.crosswalk_dir`).

    Every action number cited in ``recommendations.csv`` must exist in ``pesn_actions.csv``
    and every criterion must be one of C1..C4, AT; otherwise :class:`CrosswalkError` names
    the file, row and value.
    """
    folder = Path(path) if path is not None else resources.crosswalk_dir()
    table = _read(folder / "recommendations.csv", CROSSWALK_COLUMNS)
    actions = _read(folder / "pesn_actions.csv", ACTION_COLUMNS)
    institutions = _read(folder / "institutions.csv", ("acronym", "name_es", "name_en"))
    actions_en = tools = None
    if (folder / "pesn_actions_en.csv").is_file():
        actions_en = _read(folder / "pesn_actions_en.csv", ("action", "action_en"))
    if (folder / "mopsic_tools.csv").is_file():
        tools = _read(
            folder / "mopsic_tools.csv",
            ("tool", "name_es", "name_en", "purpose_es", "purpose_en"),
        )
    known = set(actions["action"])
    for i, row in table.iterrows():
        if row["criterion"] not in CRITERIA:
            raise CrosswalkError(
                f"recommendations.csv row {i + 2}, column 'criterion': {row['criterion']!r} "
                f"is not one of {', '.join(CRITERIA)}"
            )
        for action in _split(row["pesn_actions"]):
            if action not in known:
                raise CrosswalkError(
                    f"recommendations.csv row {i + 2}, column 'pesn_actions': action "
                    f"{action!r} is not in pesn_actions.csv"
                )
    if actions_en is not None:
        for i, action in enumerate(actions_en["action"]):
            if action not in known:
                raise CrosswalkError(
                    f"pesn_actions_en.csv row {i + 2}, column 'action': action {action!r} "
                    "is not in pesn_actions.csv"
                )
    return Crosswalk(
        table=table,
        actions=actions,
        institutions=institutions,
        path=folder,
        actions_en=actions_en,
        tools=tools,
    )


def _split(value: str) -> list[str]:
    return [v.strip() for v in str(value).split(";") if v.strip()]


def select_recommendations(
    scores: pd.DataFrame,
    evidence: pd.DataFrame,
    *,
    crosswalk: Crosswalk,
    threshold: float = WEAK_THRESHOLD,
    max_per_criterion: int = 3,
) -> pd.DataFrame:
    """The recommendations of the weak criteria of one site, as codes (no words).

    A criterion is weak when its score is below ``threshold`` (default 2.4, the lower bound
    of "acceptable"). For each weak criterion the general recommendation comes first, then
    those of the sub-codes the site's evidence points at most: obstacle codes and practices
    coded with a negative valence, ordered by how many such segments there are.

    Returns one row per recommendation, in criterion order: ``criterion``, ``score``,
    ``code`` (the crosswalk row: its text is ``weakness_<lang>`` and
    ``recommendation_<lang>``), ``mopsic_tools`` (list of str), ``pesn_actions`` (list of
    str), ``institutions`` (list of str: responsible institutions of the cited actions,
    verbatim from the plan, then the other institutions named by the crosswalk),
    ``n_negative`` (negative segments behind a sub-code row; 0 for the general row).
    """
    neg = evidence[(evidence["valence"].astype("Float64") < 0)]
    counts = neg.groupby("code").size() if not neg.empty else pd.Series(dtype=int)
    resp = dict(zip(crosswalk.actions["action"], crosswalk.actions["responsible"], strict=True))
    rows = []
    by_code = crosswalk.table.set_index("code")
    for criterion in CRITERIA:
        sel = scores[scores["criterion"] == criterion]
        if sel.empty or pd.isna(sel["score"].iloc[0]):
            continue
        score = float(sel["score"].iloc[0])
        if score >= threshold:
            continue
        picked = [(criterion, 0)] if criterion in by_code.index else []
        subs = [
            (code, int(n))
            for code, n in counts.items()
            if code in by_code.index
            and code != criterion
            and by_code.loc[code, "criterion"] == criterion
        ]
        subs.sort(key=lambda x: (-x[1], x[0]))
        picked += subs[: max(0, max_per_criterion - len(picked))]
        for code, n in picked:
            row = by_code.loc[code]
            actions = _split(row["pesn_actions"])
            institutions = []
            for a in actions:
                institutions += [s.strip() for s in resp.get(a, "").split(",") if s.strip()]
            institutions += _split(row["other_institutions"])
            rows.append(
                {
                    "criterion": criterion,
                    "score": score,
                    "code": code,
                    "mopsic_tools": _split(row["mopsic_tools"]),
                    "pesn_actions": actions,
                    "institutions": list(dict.fromkeys(institutions)),
                    "n_negative": n,
                }
            )
    columns = [
        "criterion",
        "score",
        "code",
        "mopsic_tools",
        "pesn_actions",
        "institutions",
        "n_negative",
    ]
    return pd.DataFrame(rows, columns=columns)


def recommendations(
    scores: pd.DataFrame,
    evidence: pd.DataFrame,
    *,
    crosswalk: Crosswalk,
    lang: str = "en",
    threshold: float = WEAK_THRESHOLD,
    max_per_criterion: int = 3,
) -> pd.DataFrame:
    """:func:`select_recommendations` with the crosswalk's text in ``lang``: adds
    ``weakness`` and ``recommendation``; ``mopsic_tools`` is ``;``-joined (as the crosswalk
    writes it)."""
    out = select_recommendations(
        scores,
        evidence,
        crosswalk=crosswalk,
        threshold=threshold,
        max_per_criterion=max_per_criterion,
    )
    by_code = crosswalk.table.set_index("code")
    out.insert(3, "weakness", [by_code.loc[c, f"weakness_{lang}"] for c in out["code"]])
    out.insert(
        4, "recommendation", [by_code.loc[c, f"recommendation_{lang}"] for c in out["code"]]
    )
    out["mopsic_tools"] = [";".join(x) for x in out["mopsic_tools"]]
    return out
