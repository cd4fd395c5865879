"""Build the two-round demo: the study's 2017-2018 fieldwork plus a synthetic 2025 follow-up.

Usage (from the repository root)::

    python data/scripts/build_round2.py                      # writes data/demo-rounds
    python data/scripts/build_round2.py --out DIR --seed 2025

The first round ("2017", the 2017-02 to 2018-05 visits) is ``data/demo`` unchanged, every
source and response marked ``round = 2017``. The second round ("2025") is **invented**: what a
follow-up after the PNC's 2020-2024 strategic plan could plausibly find (issue 15, section 5).
Its story, per criterion:

- **C4 (conditions analysis) improves at both sites**: the PNC's Statistics Section was
  re-equipped and its staff trained (InfoSegura/UNDP programme, seed ``004_*``): monthly
  statistical bulletins with sector maps reach the precincts, forms are entered on computers,
  diagnoses with complaint data are presented to COCODEs; rural substations still lack
  internet and information still flows upward;
- **C2 holds**: strong in Totonicapán (the 48 Cantones keep monthly meetings), passable in
  Villa Canales;
- C1, C3 and AT stay about where they were.

Eight new sources per site (interviews, one focus group, one observation, one document), the
operational officer of 2017 re-interviewed (``panel_id``), texts written from the sentences
below, one coded segment per sentence (coder ``A``). The 2025 surveys are new samples drawn
from the 2017 answers of the same site and clusters (seeded bootstrap), with the C4 items
shifted one step toward "better" for half the answers. Everything is seeded (``--seed``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from copeval.project import text_fingerprint  # noqa: E402

SOURCE = REPO / "data" / "demo"
DEFAULT_OUT = REPO / "data" / "demo-rounds"
ROUNDS = [
    {
        "id": "2017",
        "label_es": "Línea de base 2017–2018",
        "label_en": "2017–2018 baseline",
        "start": "2017-02-01",
        "end": "2018-05-31",
    },
    {
        "id": "2025",
        "label_es": "Seguimiento 2025 (sintético)",
        "label_en": "2025 follow-up (synthetic)",
        "start": "2025-03-01",
        "end": "2025-06-30",
    },
]

#: Sentences by criterion and valence: (code, text). ``{place}`` is the site's name.
SENTENCES = {
    "C1": {
        2: (
            "C1.sector",
            "Cada subestación tiene ahora sectores fijos con agentes asignados, y "
            "los vecinos saben quién patrulla su colonia.",
        ),
        1: (
            "C1.patrol",
            "El patrullaje a pie sigue con parejas por turno en el centro de "
            "{place}, aunque las aldeas lejanas se visitan menos.",
        ),
        0: (
            "C1.planning",
            "El plan de sector existe en papel, pero se revisa solo cuando llega una supervisión.",
        ),
        -1: (
            "C1.obs_rotation",
            "Los traslados siguen cortando la relación con el sector: "
            "muchos agentes llegaron este mismo año.",
        ),
        -2: (
            "C1.obs_resources",
            "Con una sola patrulla para todo el territorio, los recorridos "
            "fuera del casco urbano casi no existen.",
        ),
    },
    "C2": {
        2: (
            "C2.traditional_authority",
            "Las reuniones con las autoridades comunales se "
            "mantienen cada mes y la policía rinde cuentas de lo acordado.",
        ),
        1: (
            "C2.meetings",
            "La comisaría convoca a los COCODE cada dos meses y lleva un acta de los compromisos.",
        ),
        0: (
            "C2.channels",
            "Hay un grupo de WhatsApp con líderes, pero se usa sobre todo para avisos.",
        ),
        -1: (
            "C2.responsiveness",
            "Los vecinos dicen que plantean los mismos problemas en cada reunión sin ver cambios.",
        ),
        -2: (
            "C2.obs_passive",
            "La comunidad asiste a las reuniones solo para escuchar; la "
            "agenda la pone la policía.",
        ),
    },
    "C3": {
        2: (
            "C3.targeted",
            "Se identificó un punto de asaltos en una parada de buses y, con la "
            "municipalidad, se iluminó; los robos bajaron.",
        ),
        1: (
            "C3.prevention",
            "Las charlas en escuelas continúan y ahora incluyen a padres de familia.",
        ),
        0: (
            "C3.followup",
            "Algunos problemas se registran con seguimiento, pero la mayoría "
            "queda en la primera visita.",
        ),
        -1: (
            "C3.obs_reactive",
            "La mayor parte del turno se va en atender llamadas; queda poco "
            "tiempo para trabajar problemas.",
        ),
        -2: (
            "C3.obs_unsustained",
            "El proyecto de prevención con jóvenes terminó cuando se "
            "fue el jefe que lo impulsaba.",
        ),
    },
    "C4": {
        2: (
            "C4.local_analysis",
            "Cada mes llega de la Sección de Estadística un boletín con "
            "mapas del sector, y el jefe lo usa para asignar patrullajes.",
        ),
        1: (
            "C4.joint_diagnosis",
            "Este año se presentó a los COCODE un diagnóstico con datos de denuncias por aldea.",
        ),
        0: (
            "C4.data_collection",
            "Las boletas se ingresan en computadora desde que llegó el "
            "equipo nuevo, aunque el análisis todavía se hace en la capital.",
        ),
        -1: (
            "C4.obs_upward",
            "La información sigue subiendo a la dirección y pocas veces "
            "regresa con algo útil para el sector.",
        ),
        -2: (
            "C4.obs_equipment",
            "En las subestaciones rurales no hay internet y los reportes se llevan en papel.",
        ),
    },
    "AT": {
        2: (
            "AT.trust",
            "Varias vecinas dicen que ahora se animan a denunciar porque conocen "
            "al agente del sector.",
        ),
        1: (
            "AT.reporting",
            "La comisaría informa en las reuniones cuántas denuncias recibió "
            "y qué se hizo con ellas.",
        ),
        0: (
            "AT.conditions",
            "Los turnos de siete días seguidos cansan al personal y se nota en el trato.",
        ),
        -1: (
            "AT.complaints",
            "Las quejas contra agentes se reciben, pero nadie sabe en qué terminan.",
        ),
        -2: (
            "AT.misconduct",
            "Un vecino contó que tuvo que insistir varias veces para que le "
            "recibieran la denuncia.",
        ),
    },
}

#: The 2025 sources of each site: (suffix, respondent_group, method, criteria covered).
PLAN = (
    ("I01", "police_operational", "interview", ("C1", "C2", "C3", "C4", "AT")),
    ("I02", "police_command", "interview", ("C1", "C3", "C4", "AT")),
    ("I03", "police_prevention", "interview", ("C2", "C3", "C4")),
    ("G01", "community_member", "focus_group", ("C1", "C2", "C3", "AT")),
    ("I04", "community_leader", "interview", ("C2", "C4", "AT", "C1")),
    ("I05", "municipal_authority", "interview", ("C2", "C3", "C4", "AT")),
    ("O01", "observation", "observation", ("C1", "C4", "C2")),
    ("D01", "document", "document", ("C4", "AT", "C3")),
)
#: Valences of each site x criterion, used in turn by the sources that cover it.
VALENCES = {
    "VC": {
        "C1": (1, 1, 0, 2, -1, 1, 1),
        "C2": (0, 1, -1, 0, 1, 0, 0),
        "C3": (-1, 0, -1, -1, 1, -2),
        "C4": (0, 1, -1, 1, 0, 1, -1, 0),
        "AT": (0, 1, -1, 0, 1, 0),
    },
    "TOT": {
        "C1": (1, 1, 0, 2, 0, 1, 1),
        "C2": (2, 1, 2, 1, 2, 1, 2),
        "C3": (-1, 0, -1, 0, -1, -2),
        "C4": (0, 1, -1, 1, 0, 2, -1, 0),
        "AT": (1, 0, 0, 1, -1, 1),
    },
}
PLACES = {"VC": "Villa Canales", "TOT": "Totonicapán"}
DATES = (
    "2025-03-11",
    "2025-03-12",
    "2025-04-02",
    "2025-04-09",
    "2025-04-23",
    "2025-05-06",
    "2025-05-14",
    "2025-06-03",
)


def round2_sources(site: str):
    """Sources, texts and segments of the 2025 round of one site."""
    used = {c: 0 for c in VALENCES[site]}
    sources, texts, segments = [], {}, []
    for k, (suffix, group, method, crits) in enumerate(PLAN):
        sid = f"{site}-25-{suffix}"
        header = f"[Texto sintético del seguimiento 2025, {PLACES[site]}; {group}, {method}.]\n\n"
        text, spans = header, []
        for crit in crits:
            valence = VALENCES[site][crit][used[crit] % len(VALENCES[site][crit])]
            used[crit] += 1
            code, sentence = SENTENCES[crit][valence]
            sentence = sentence.format(place=PLACES[site])
            start = len(text)
            text += sentence
            spans.append((start, len(text), code, valence))
            text += " "
        text = text.rstrip() + "\n"
        texts[sid] = text
        n_chars, sha = text_fingerprint(text)
        sources.append(
            {
                "source_id": sid,
                "site_id": site,
                "respondent_group": group,
                "method": method,
                "date": DATES[k],
                "language": "es",
                "consent": "quote" if method != "focus_group" else "anonymous",
                "coder_notes": (
                    "Synthetic text written for the copeval two-round demo (2025 follow-up, "
                    "invented); see data/README.md"
                ),
                "text_path": f"texts/{sid}.txt",
                "text_chars": n_chars,
                "text_sha256": sha,
                "round": "2025",
                "panel_id": f"{site}-P-OP1" if suffix == "I01" else "",
            }
        )
        for i, (start, end, code, valence) in enumerate(spans, start=1):
            segments.append(
                {
                    "segment_id": f"{sid}-S{i:03d}",
                    "source_id": sid,
                    "start": start,
                    "end": end,
                    "code": code,
                    "valence": valence,
                    "coder": "A",
                }
            )
    return sources, texts, segments


def round2_survey(df: pd.DataFrame, items: pd.DataFrame, inst: str, rng) -> pd.DataFrame:
    """A new 2025 sample per site: the 2017 rows of the same site resampled (same clusters),
    new respondent IDs, C4 items one step better for half the answers."""
    out = []
    for site, rows in df.groupby("site_id", sort=True):
        pick = rows.iloc[rng.integers(0, len(rows), size=len(rows))].copy()
        pick["respondent_id"] = [
            f"{site}-{inst[0].upper()}25-{i:04d}" for i in range(1, len(pick) + 1)
        ]
        out.append(pick)
    new = pd.concat(out, ignore_index=True)
    c4 = items[(items["instrument"] == inst) & (items["criterion"] == "C4")]
    for it in c4.itertuples(index=False):
        lo, hi = int(it.scale_min), int(it.scale_max)
        col = pd.to_numeric(new[it.item], errors="coerce")
        valid = col.between(lo, hi)
        move = valid & (rng.random(len(new)) < 0.5)
        reverse = str(it.reverse).strip().lower() == "true"
        step = -1 if reverse else 1
        moved = (col + step).clip(lo, hi)
        new.loc[move, it.item] = moved[move].astype(int).astype(str)
    new["round"] = "2025"
    return new


def build(out: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(SOURCE, out)
    # the authoring sheet builds demo/'s segments; here they are copied, not rebuilt
    shutil.rmtree(out / "authoring", ignore_errors=True)
    read = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
    sources = read(out / "sources.csv")
    sources["round"] = "2017"
    sources["panel_id"] = [
        f"{s}-P-OP1" if sid in ("VC-I01", "TOT-I01") else ""
        for sid, s in zip(sources["source_id"], sources["site_id"], strict=True)
    ]
    segments = read(out / "segments.csv")
    new_src, new_seg = [], []
    for site in ("VC", "TOT"):
        src, texts, seg = round2_sources(site)
        new_src += src
        new_seg += seg
        for sid, text in texts.items():
            (out / "texts" / f"{sid}.txt").write_bytes(text.encode("utf-8"))
    for col in ("text_chars", "text_sha256"):
        if col not in sources.columns:
            sources[col] = ""
    sources = pd.concat([sources, pd.DataFrame(new_src)], ignore_index=True)
    segments = pd.concat([segments, pd.DataFrame(new_seg).astype(str)], ignore_index=True)
    sources.to_csv(out / "sources.csv", index=False, lineterminator="\n")
    segments.to_csv(out / "segments.csv", index=False, lineterminator="\n")
    items = read(out / "items.csv")
    for path in sorted((out / "responses").glob("*.csv")):
        df = read(path)
        df["round"] = "2017"
        new = round2_survey(df.drop(columns="round"), items, path.stem, rng)
        pd.concat([df, new], ignore_index=True).to_csv(path, index=False, lineterminator="\n")
    dp = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    block = dp.setdefault("copeval", {})
    block["title"] = "MOPSIC demo: Villa Canales and Totonicapán, with a synthetic 2025 follow-up"
    block["title_en"] = block["title"]
    block["title_es"] = (
        "Demostración MOPSIC: Villa Canales y Totonicapán, con un seguimiento sintético en 2025"
    )
    block["period"] = "2017-02/2018-05; 2025-03/2025-06 (synthetic)"
    block["rounds"] = ROUNDS
    dp["title"] = block["title"]
    (out / "datapackage.json").write_text(
        json.dumps(dp, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="project folder to write")
    ap.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    args = ap.parse_args(argv)
    build(args.out, args.seed)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
