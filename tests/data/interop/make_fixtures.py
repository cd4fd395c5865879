"""Write the synthetic interoperability fixtures of tests/test_interop_*.py.

Run from the repository root:  python tests/data/interop/make_fixtures.py

Every text is invented for testing (no real interview, no personal data). The files imitate
what each tool writes (see docs/interop.md), with offsets computed here independently of
copeval's own conversion code:

* ``nvivo_utf16.qdpx``: NVivo style, offsets in UTF-16 code units, CRLF line breaks and
  emoji (characters outside the Basic Multilingual Plane), nested codes, several codes on
  one selection, the Valence group (with a Unicode minus) on the same or overlapping
  selections; with ``nvivo_mapping.csv`` and ``nvivo_meta.csv``.
* ``cases_variables.qdpx``: MAXQDA style, code points, project file ``Estudio.qde``, folder
  ``Sources/``, site and respondent group as REFI variables on Cases (one overridden on the
  source), a text given inline (PlainTextContent), a source known only by its DOCX.
* ``atlas_crlf1/project.qde`` + ``atlas_crlf1/sources/``: a bare .qde, ATLAS.ti style, CRLF
  counted as one character, ``Group::code`` flat names.
* ``taguette_highlights.csv`` / ``.xlsx`` + ``taguette_texts/`` + ``taguette_codebook.qdc``
  (with the empty ``<Sets/>`` Taguette writes) + ``taguette_meta.csv``.
* ``kobo_community.csv`` (semicolon-separated, option columns) / ``kobo_community.xlsx``
  (no option columns) + ``kobo_items.csv`` + ``kobo_sites.csv``.

The output is deterministic (fixed zip timestamps), so a test can check that the committed
files are what this script writes.
"""

from __future__ import annotations

import csv
import io
import sys
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from copeval.project import table_columns

HERE = Path(__file__).resolve().parent
_NS = uuid.UUID("0b5e6a54-6f55-4c43-9d0e-7d1f0c3c2a10")
_DATE = (2020, 1, 1, 0, 0, 0)


def guid(key: str) -> str:
    return str(uuid.uuid5(_NS, key)).upper()


# --------------------------------------------------------------------------- offsets
def units(text: str, i: int, convention: str) -> int:
    """Offset of code point ``i`` counted the way a tool counts (independent of copeval)."""
    head = text[:i]
    if convention == "codepoints":
        return i
    if convention == "utf16":
        return len(head.encode("utf-16-le")) // 2
    if convention == "crlf1":
        return i - head.count("\r\n")
    if convention == "utf8":
        return len(head.encode("utf-8"))
    raise ValueError(convention)


def span(text: str, phrase: str, convention: str) -> tuple[int, int]:
    i = text.index(phrase)
    return units(text, i, convention), units(text, i + len(phrase), convention)


# --------------------------------------------------------------------------- writers
def write_zip(path: Path, members: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())


def write_csv(path: Path, rows: list[list], *, delimiter: str = ",") -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_xlsx(path: Path, sheet: str, rows: list[list]) -> None:
    """A minimal XLSX written by hand (deterministic, unlike openpyxl's timestamps)."""

    def col(n: int) -> str:
        s = ""
        n += 1
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(65 + r) + s
        return s

    cells = []
    for r, row in enumerate(rows, start=1):
        cs = []
        for c, v in enumerate(row):
            ref = f"{col(c)}{r}"
            if isinstance(v, int | float) and not isinstance(v, bool):
                cs.append(f'<c r="{ref}"><v>{v}</v></c>')
            elif v != "":
                cs.append(
                    f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{escape(str(v))}</t></is></c>"
                )
        cells.append(f'<row r="{r}">{"".join(cs)}</row>')
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
    )
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxml'
            'formats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    write_zip(path, {k: v.encode("utf-8") for k, v in members.items()})


def docx(paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    doc = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return _zip_bytes(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"/>',
            "word/document.xml": doc.encode("utf-8"),
        }
    )


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- QDE builder
class Qde:
    """Builds a REFI-QDA project document as text, the way the tools lay it out."""

    def __init__(self, name: str, origin: str):
        self.name, self.origin = name, origin
        self.users: list[tuple[str, str, str]] = []
        self.codes: list[str] = []
        self.variables: list[tuple[str, str]] = []
        self.cases: list[str] = []
        self.sources: list[str] = []
        self._n = 0

    @staticmethod
    def code(name: str, children: str = "", codable: bool = True) -> str:
        attrs = (
            f'guid="{guid("code:" + name)}" name={quoteattr(name)} '
            f'isCodable="{"true" if codable else "false"}"'
        )
        return f"<Code {attrs}>{children}</Code>" if children else f"<Code {attrs}/>"

    def coding(self, code_key: str, user: str | None) -> str:
        self._n += 1
        u = f' creatingUser="{guid("user:" + user)}"' if user else ""
        return (
            f'<Coding guid="{guid(f"coding:{self.name}:{self._n}")}"{u}>'
            f'<CodeRef targetGUID="{guid("code:" + code_key)}"/></Coding>'
        )

    @staticmethod
    def value(var: str, text: str, kind: str = "TextValue") -> str:
        return (
            f'<VariableValue><VariableRef targetGUID="{guid("var:" + var)}"/>'
            f"<{kind}>{escape(text)}</{kind}></VariableValue>"
        )

    def xml(self) -> bytes:
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<Project xmlns="urn:QDA-XML:project:1.0" name={quoteattr(self.name)} '
            f"origin={quoteattr(self.origin)}>",
        ]
        if self.users:
            parts.append(
                "<Users>"
                + "".join(
                    f'<User guid="{guid("user:" + k)}" name={quoteattr(n)}'
                    + (f" id={quoteattr(i)}" if i else "")
                    + "/>"
                    for k, n, i in self.users
                )
                + "</Users>"
            )
        parts.append("<CodeBook><Codes>" + "".join(self.codes) + "</Codes></CodeBook>")
        if self.variables:
            parts.append(
                "<Variables>"
                + "".join(
                    f'<Variable guid="{guid("var:" + n)}" name="{n}" typeOfVariable="{t}"/>'
                    for n, t in self.variables
                )
                + "</Variables>"
            )
        if self.cases:
            parts.append("<Cases>" + "".join(self.cases) + "</Cases>")
        parts.append("<Sources>" + "".join(self.sources) + "</Sources>")
        parts.append("</Project>")
        return "\n".join(parts).encode("utf-8")


def selection(
    key: str, text: str, phrase: str, conv: str, codings: list[str], user: str | None = None
) -> str:
    s, e = span(text, phrase, conv)
    u = f' creatingUser="{guid("user:" + user)}"' if user else ""
    return (
        f'<PlainTextSelection guid="{guid("sel:" + key)}" name={quoteattr(phrase[:40])} '
        f'startPosition="{s}" endPosition="{e}"{u}>' + "".join(codings) + "</PlainTextSelection>"
    )


# --------------------------------------------------------------------------- fixtures
NVIVO_TEXTS = {
    "Entrevista comunitaria 01": (
        "P: ¿Cómo es la relación con la policía? 🙂\r\n"
        "R: Los agentes vienen a las reuniones del comité cada mes 👮 y escuchan nuestras "
        "quejas.\r\n"
        "R: Patrullan a pie por el mercado los sábados 😀, eso da confianza.\r\n"
        "R: Pero no hay combustible para las patrullas y casi nunca llegan de noche.\r\n"
    ),
    "Entrevista policía 02": (
        "P: ¿Cómo se organiza el trabajo? 📋\r\n"
        "R: Trabajamos por sectores: a cada agente le toca su aldea 🏘️.\r\n"
        "R: Cada quincena llenamos el plan de trabajo con las aldeas que vamos a cubrir.\r\n"
    ),
}


def nvivo() -> None:
    conv = "utf16"
    q = Qde("Evaluación COP (prueba)", "NVivo 14.23.0 (Windows)")
    q.users = [("ev1", "Evaluadora Uno", "EV1"), ("ev2", "Evaluador Dos", "EV2")]
    q.codes = [
        q.code("Comunidad", q.code("Reuniones con el comité") + q.code("Relación")),
        q.code("Patrullaje", q.code("A pie")),
        q.code("C1.obs_resources"),
        q.code("Sectores"),
        q.code("Otros temas"),
        q.code(
            "Valence",
            "".join(q.code(v) for v in ("+2", "+1", "0", "-1", "\u22122")),
            codable=False,
        ),
    ]
    t1 = NVIVO_TEXTS["Entrevista comunitaria 01"]
    sels1 = [
        selection(
            "n1",
            t1,
            "Los agentes vienen a las reuniones del comité cada mes",
            conv,
            [
                q.coding("Reuniones con el comité", "ev1"),
                q.coding("Relación", "ev1"),
                q.coding("+2", "ev1"),
            ],
        ),
        selection(
            "n2",
            t1,
            "Patrullan a pie por el mercado los sábados 😀, eso da confianza",
            conv,
            [q.coding("A pie", "ev1")],
        ),
        selection("n3", t1, "Patrullan a pie por el mercado", conv, [q.coding("+1", "ev1")]),
        selection(
            "n4",
            t1,
            "no hay combustible para las patrullas",
            conv,
            [q.coding("C1.obs_resources", "ev1"), q.coding("\u22122", "ev1")],
        ),
        selection(
            "n5",
            t1,
            "¿Cómo es la relación con la policía?",
            conv,
            [q.coding("Otros temas", "ev1")],
        ),
        selection(
            "n6",
            t1,
            "no hay combustible para las patrullas",
            conv,
            [q.coding("C1.obs_resources", "ev2"), q.coding("-1", "ev2")],
        ),
    ]
    t2 = NVIVO_TEXTS["Entrevista policía 02"]
    sels2 = [
        selection(
            "m1",
            t2,
            "Trabajamos por sectores: a cada agente le toca su aldea 🏘️",
            conv,
            [q.coding("Sectores", "ev1"), q.coding("+2", "ev1")],
        ),
        selection("m2", t2, "llenamos el plan de trabajo", conv, [q.coding("Sectores", "ev1")]),
    ]
    members = {}
    for (name, text), sels in zip(NVIVO_TEXTS.items(), (sels1, sels2), strict=True):
        g = guid("src:" + name).lower()
        q.sources.append(
            f'<TextSource guid="{g}" name={quoteattr(name)} richTextPath="internal://{g}.docx" '
            f'plainTextPath="internal://{g}.txt">' + "".join(sels) + "</TextSource>"
        )
        members[f"sources/{g}.txt"] = text.encode("utf-8")
        members[f"sources/{g}.docx"] = docx(text.split("\r\n"))
    write_zip(HERE / "nvivo_utf16.qdpx", {"project.qde": q.xml(), **members})
    write_csv(
        HERE / "nvivo_mapping.csv",
        [
            ["external_name", "code"],
            ["Comunidad/Reuniones con el comité", "C2.meetings"],
            ["Relación", "C2"],
            ["Patrullaje", "C1.patrol"],
            ["Sectores", "C1.sector"],
        ],
    )
    write_csv(
        HERE / "nvivo_meta.csv",
        [
            ["source", "source_id", "site_id", "respondent_group", "method", "date", "consent"],
            [
                "Entrevista comunitaria 01",
                "VC-C01",
                "VC",
                "Community member",
                "interview",
                "2017-03-02",
                "quote",
            ],
            ["Entrevista policía 02.docx", "VC-P02", "VC", "police_operational", "", "", ""],
        ],
    )


CASES_TEXTS = {
    "P1": "Las reuniones con el COCODE sirven para priorizar los problemas del barrio.",
    "P2": "La gente ahora confía más en la policía y denuncia los robos.",
}


def cases() -> None:
    conv = "codepoints"
    q = Qde("Casos y variables (prueba)", "MAXQDA 2022 (Release 22.7.0)")
    q.users = [("a", "Coder Alpha", "")]
    q.codes = [
        q.code("C2", q.code("meetings")),
        q.code("AT", q.code("AT.trust")),
        q.code(
            "Valence", "".join(q.code(v) for v in ("+2", "+1", "0", "-1", "-2")), codable=False
        ),
    ]
    q.variables = [
        ("site_id", "Text"),
        ("respondent_group", "Text"),
        ("date", "Date"),
        ("method", "Text"),
    ]
    p1, p2 = CASES_TEXTS["P1"], CASES_TEXTS["P2"]
    src_p1 = (
        f'<TextSource guid="{guid("src:P1")}" name="P1 grupo focal">'
        f"<PlainTextContent>{escape(p1)}</PlainTextContent>"
        + selection(
            "c1",
            p1,
            "Las reuniones con el COCODE",
            conv,
            [q.coding("meetings", "a"), q.coding("+2", "a")],
            user="a",
        )
        + q.value("method", "focus group")
        + "</TextSource>"
    )
    g2 = guid("src:P2")
    src_p2 = (
        f'<TextSource guid="{g2}" name="P2 entrevista.txt" plainTextPath="internal://{g2}.txt">'
        + selection(
            "c2",
            p2,
            "La gente ahora confía más en la policía",
            conv,
            [q.coding("AT.trust", "a"), q.coding("+1", "a")],
            user="a",
        )
        + q.value("respondent_group", "community_member")
        + q.value("date", "2017-05-10", "DateValue")
        + "</TextSource>"
    )
    g3 = guid("src:D1")
    src_d1 = f'<TextSource guid="{g3}" name="D1 acta.docx" richTextPath="internal://{g3}.docx"/>'
    q.sources = [src_p1, src_p2, src_d1]
    q.cases = [
        f'<Case guid="{guid("case:tot")}" name="Totonicapán comunidad">'
        + q.value("site_id", "TOT")
        + q.value("respondent_group", "community_leader")
        + "".join(f'<SourceRef targetGUID="{guid("src:" + s)}"/>' for s in ("P1", "P2", "D1"))
        + "</Case>",
        f'<Case guid="{guid("case:other")}" name="Otro caso">'
        + q.value("site_id", "VC")
        + f'<SourceRef targetGUID="{g2}"/></Case>',
    ]
    write_zip(
        HERE / "cases_variables.qdpx",
        {
            "Estudio.qde": q.xml(),
            f"Sources/{g2}.txt": p2.encode("utf-8"),
            f"Sources/{g3}.docx": docx(
                [
                    "Acta de la junta local de seguridad.",
                    "Se acordó patrullar la plaza los domingos.",
                ]
            ),
        },
    )


ATLAS_TEXT = (
    "Observación en la subestación.\r\n"
    "El oficial revisa el mapa de incidentes con los datos de la semana.\r\n"
    "Después se asignan patrullas al sector con más robos.\r\n"
)


def atlas() -> None:
    conv = "crlf1"
    q = Qde("Observaciones (prueba)", "ATLAS.ti 23.2.1 (Windows)")
    q.users = [("fo", "Field Observer", "")]
    q.codes = [
        q.code("C4::local_analysis"),
        q.code("C3::targeted"),
        q.code("Valence::+1"),
        q.code("Valence::+2"),
    ]
    t = ATLAS_TEXT
    g = guid("src:OBS1").lower()
    q.sources = [
        f'<TextSource guid="{g}" name="Observación subestación.docx" '
        f'plainTextPath="internal://{g}.txt">'
        + selection(
            "a1",
            t,
            "revisa el mapa de incidentes con los datos de la semana",
            conv,
            [q.coding("C4::local_analysis", "fo"), q.coding("Valence::+1", "fo")],
        )
        + selection(
            "a2",
            t,
            "se asignan patrullas al sector con más robos",
            conv,
            [q.coding("C3::targeted", "fo"), q.coding("Valence::+2", "fo")],
        )
        + q.value("site_id", "TOT")
        + q.value("respondent_group", "observation")
        + "</TextSource>"
    ]
    q.variables = [("site_id", "Text"), ("respondent_group", "Text")]
    folder = HERE / "atlas_crlf1"
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    (folder / "project.qde").write_bytes(q.xml())
    (folder / "sources" / f"{g}.txt").write_bytes(t.encode("utf-8"))


TAGUETTE_TEXTS = {
    "Grupo focal VC": (
        "Moderadora: ¿Participan en reuniones con la policía?\n"
        "Participante 1: Sí, cada mes nos reunimos con los agentes\n"
        "en el salón comunal y hablamos de los problemas.\n"
        "Participante 2: Ellos patrullan a pie por la plaza.\n"
    ),
    "Entrevista TOT 02": (
        "Entrevistador: ¿Qué opina de la policía?\n"
        "Autoridad: Hay confianza, pero faltan agentes para cubrir las aldeas.\n"
    ),
}


def taguette() -> None:
    folder = HERE / "taguette_texts"
    folder.mkdir(exist_ok=True)
    for name, text in TAGUETTE_TEXTS.items():
        (folder / f"{name}.txt").write_bytes(text.encode("utf-8"))
    rows = [
        ["id", "document", "tag", "content"],
        # the export joins the highlighted lines with a space: located by white-space match
        [
            1,
            "Grupo focal VC",
            "C2.meetings",
            "cada mes nos reunimos con los agentes en el salón comunal",
        ],
        [
            1,
            "Grupo focal VC",
            "Valence.+2",
            "cada mes nos reunimos con los agentes en el salón comunal",
        ],
        [2, "Grupo focal VC", "Patrullaje.a pie", "Ellos patrullan a pie por la plaza."],
        [2, "Grupo focal VC", "Valence.+1", "Ellos patrullan a pie por la plaza."],
        [3, "Grupo focal VC", "interesting", "¿Participan en reuniones con la policía?"],
        [4, "Entrevista TOT 02.docx", "AT.trust", "Hay confianza"],
        [4, "Entrevista TOT 02.docx", "Valence.+1", "Hay confianza"],
        [5, "Entrevista TOT 02.docx", "C1.obs_resources", "faltan agentes para cubrir las aldeas"],
        [5, "Entrevista TOT 02.docx", "Valence.\u22122", "faltan agentes para cubrir las aldeas"],
        [6, "Entrevista TOT 02.docx", "AT.trust", "Este texto no está en el documento"],
    ]
    write_csv(HERE / "taguette_highlights.csv", rows)
    write_xlsx(HERE / "taguette_highlights.xlsx", "highlights", rows)
    write_csv(
        HERE / "taguette_mapping.csv", [["external_name", "code"], ["Patrullaje", "C1.patrol"]]
    )
    write_csv(
        HERE / "taguette_meta.csv",
        [
            ["source", "site_id", "respondent_group", "method", "language", "consent"],
            ["Grupo focal VC", "VC", "community_member", "focus_group", "es", "anonymous"],
            ["Entrevista TOT 02", "TOT", "municipal_authority", "interview", "es", "quote"],
        ],
    )
    tags = ["C2.meetings", "Valence.+2", "Patrullaje.a pie", "interesting", "AT.trust"]
    codes = "".join(
        f'<Code guid="{guid("tag:" + t)}" name={quoteattr(t)} isCodable="true"/>' for t in tags
    )
    (HERE / "taguette_codebook.qdc").write_bytes(
        (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette 1.4.1">'
            f"<Codes>{codes}</Codes><Sets/></CodeBook>"
        ).encode()
    )


def kobo() -> None:
    write_csv(
        HERE / "kobo_items.csv",
        [
            table_columns("items"),
            [
                "community",
                "trust_police",
                "AT",
                "trust",
                1,
                5,
                "false",
                "97;98",
                "Trust in the police",
                "Confianza en la policía",
            ],
            [
                "community",
                "patrol_seen",
                "C1",
                "patrol",
                0,
                4,
                "false",
                "97;98",
                "Saw a foot patrol",
                "Vio un patrullaje a pie",
            ],
            [
                "community",
                "meeting_attend",
                "C2",
                "participation",
                0,
                1,
                "false",
                "98",
                "Attended a meeting with police",
                "Asistió a una reunión con la policía",
            ],
            [
                "community",
                "channels_phone",
                "C2",
                "channels",
                0,
                1,
                "false",
                "",
                "Contacts police by phone",
                "Contacta a la policía por teléfono",
            ],
            [
                "community",
                "channels_meeting",
                "C2",
                "channels",
                0,
                1,
                "false",
                "",
                "Contacts police in meetings",
                "Contacta a la policía en reuniones",
            ],
            ["community", "age", "", "", 18, 99, "false", "", "Age", "Edad"],
        ],
    )
    write_csv(
        HERE / "kobo_sites.csv",
        [["value", "site_id"], ["villa_canales", "VC"], ["totonicapan", "TOT"]],
    )
    header = [
        "start",
        "end",
        "deviceid",
        "today",
        "grp_intro/site",
        "grp_intro/age",
        "grp_conf/trust_police",
        "grp_conf/patrol_seen",
        "grp_part/meeting_attend",
        "grp_part/channels",
        "grp_part/channels/phone",
        "grp_part/channels/radio",
        "grp_part/channels/meeting",
        "grp_part/comments",
        "_id",
        "_uuid",
        "_submission_time",
        "_validation_status",
        "_index",
    ]
    answers = [
        ("villa_canales", 34, 4, 3, 1, "phone meeting", "1", "0", "1", "bien"),
        ("villa_canales", 51, 98, 97, 0, "radio", "0", "1", "0", ""),
        ("totonicapan", 27, 2, 0, 98, "", "", "", "", "nada"),
        ("totonicapan", 45, 5, 4, 1, "meeting", "0", "0", "1", ""),
    ]
    rows = [header]
    for k, a in enumerate(answers, start=1):
        u = str(uuid.uuid5(_NS, f"submission-{k}"))
        rows.append(
            [
                f"2017-06-0{k}T10:00:00.000-06:00",
                f"2017-06-0{k}T10:20:00.000-06:00",
                f"collect:device{k:04d}",
                f"2017-06-0{k}",
                *a,
                1000 + k,
                u,
                f"2017-06-0{k}T16:30:00",
                "",
                k,
            ]
        )
    write_csv(HERE / "kobo_community.csv", rows, delimiter=";")
    drop = {"grp_part/channels/phone", "grp_part/channels/radio", "grp_part/channels/meeting"}
    keep = [i for i, h in enumerate(header) if h not in drop]
    write_xlsx(
        HERE / "kobo_community.xlsx", "encuesta_comunitaria", [[r[i] for i in keep] for r in rows]
    )


def main() -> int:
    nvivo()
    cases()
    atlas()
    taguette()
    kobo()
    print(f"fixtures written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
