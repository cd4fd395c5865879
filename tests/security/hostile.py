"""A small project with hostile markup, paths and personal data in every free-text field.

Used by the tests in this folder. Everything a reader could see is planted: site names and
notes (and every other text column of ``sites.csv``), source IDs derived from file names,
coder notes, segment IDs, coder names, item wordings, the datapackage title, description
and fieldwork period, a ``$…$`` (matplotlib mathtext) in a site name, and the text of a
source whose consent is ``none``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: The markup of issue 11: closes the style element, embeds /etc/passwd, runs script.
MARKUP = (
    "</style><a rel=attachment href=file:///etc/passwd>pw</a>"
    "<script>alert(1)</script><img src=x onerror=alert(2)>"
    "<link rel=stylesheet href=http://127.0.0.1:9/x.css><style>"
)
#: Personal data in the written forms redaction must catch.
PHONE, EMAIL, DPI = "4103-0003", "ana.tzul@example.org", "2345 67890 0101"
PII = f"tel {PHONE}, {EMAIL}, DPI {DPI}"
#: What a test looks for in every output (digits and e-mail without separators, lower case).
PII_NEEDLES = ("41030003", "anatzul@exampleorg", "2345678900101")
#: Words of a text whose consent is ``none``: never in any output or cache.
SECRET = "la tortuga azul del comisario guarda las llaves del archivo"


def hostile(label: str) -> str:
    """A field value: a label, a double quote, the markup and the personal data."""
    return f'{label} "Q" {MARKUP} {PII}'


#: Site A's name breaks out of the running header's CSS string (no quote needed); site B's
#: holds a double quote, which used to drop the page title and the running header.
NAME_A = f"Toto{MARKUP} {PII}"
NAME_B = f'Sitio "B" {MARKUP} $\\undefinedmacro{{x}}$'  # "$…$" is mathtext to matplotlib

_S1 = "La policía patrulla a pie en el cantón y los vecinos conocen al agente."
_S2 = f" Para quejas llame al {PHONE} o escriba a {EMAIL} (DPI {DPI})."


def write_hostile_project(root: Path) -> Path:
    """Write the hostile project to ``root`` (a new folder) and return it."""
    from copeval.project import write_project

    texts = {
        "A-I01": _S1 + _S2,
        f"A-{PHONE}": "No hay combustible para las patrullas del sector, dijo el oficial.",
        "B-I01": "El comité se reúne cada mes con la policía del municipio vecino.",
        "B-N01": f"{SECRET}. Y otra frase que nadie debe leer jamás en un informe.",
    }
    span = {sid: (0, len(text)) for sid, text in texts.items()}
    sites = pd.DataFrame(
        {
            "site_id": ["A", "B"],
            "name": [NAME_A, NAME_B],
            "department": [hostile("Dep"), "Dep 2"],
            "municipality_code": ["0101", "0202"],
            "population": [1000, 2000],
            "population_source": [hostile("census"), "census"],
            "homicide_rate": [10.5, 3.0],
            "homicide_year": [2019, 2019],
            "homicide_source": [hostile("pnc"), "pnc"],
            "police_precinct": [hostile("44"), "45"],
            "police_source": [hostile("pnc"), "pnc"],
            "notes": [hostile("Notes"), f"Contacto {PII}"],
        }
    )
    sources = pd.DataFrame(
        {
            "source_id": list(texts),
            "site_id": ["A", "A", "B", "B"],
            "respondent_group": [
                "community_member",
                "police_operational",
                "community_leader",
                "community_member",
            ],
            "method": ["interview", "interview", "focus_group", "interview"],
            "date": ["2017-02-01", "2017-03-01", "2017-04-01", "2017-05-01"],
            "language": ["es", "es", "es", "es"],
            "consent": ["quote", "quote", "quote", "none"],
            "coder_notes": [hostile("note")] * 3 + [SECRET],
        }
    )
    segments = pd.DataFrame(
        {
            "segment_id": ["G1", f"G-{PHONE}", "G3", "G4", "G5"],
            "source_id": ["A-I01", f"A-{PHONE}", "B-I01", "B-N01", "A-I01"],
            "start": [0, 0, 0, 0, len(_S1)],
            "end": [
                len(_S1),
                span[f"A-{PHONE}"][1],
                span["B-I01"][1],
                span["B-N01"][1],
                len(_S1 + _S2),
            ],
            "code": ["C1.patrol", "C1.obs_resources", "C2.meetings", "C2.meetings", "C2.meetings"],
            "valence": [2, -2, 2, 1, 1],
            "coder": ["A", "A", "A", "A", "A"],
        }
    )
    items = pd.DataFrame(
        {
            "instrument": ["community", "community"],
            "item": ["trust", "patrol_seen"],
            "criterion": ["AT", "C1"],
            "scale": ["trust", "patrol"],
            "scale_min": [1, 0],
            "scale_max": [7, 4],
            "reverse": [False, False],
            "missing_codes": ["97;98", "97;98"],
            "label_en": [hostile("Trust"), "Patrol seen"],
            "label_es": [hostile("Confianza"), "Patrulla vista"],
        }
    )
    responses = {
        "community": pd.DataFrame(
            {
                "respondent_id": ["R1", "R2", "R3", "R4"],
                "site_id": ["A", "A", "B", "B"],
                "weight": [1.0, 1.0, 0.5, 1.5],
                "trust": [5, 6, 98, 3],
                "patrol_seen": [4, 3, 2, 97],
            }
        )
    }
    meta = {"title": hostile("Project"), "synthetic": True}
    write_project(
        root,
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        items=items,
        responses=responses,
        meta=meta,
    )
    package = root / "datapackage.json"
    desc = json.loads(package.read_text(encoding="utf-8"))
    desc["description"] = hostile("Description")
    desc["copeval"]["period"] = hostile("2017-02/2018-05")  # printed on every cover
    package.write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")
    return root
