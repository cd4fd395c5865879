"""Extract the strategic actions of Guatemala's Plan Estratégico de Seguridad de la Nación
2020-2024 (PESN) from its text into ``pesn_actions.csv``.

Usage (from the repository root)::

    python data/crosswalk/build_pesn_actions.py ../shared/seeds/002_b1a6c29769724a5d.txt

The plan lists each action as a table row ``<number> TAB <action> TAB <responsible>`` under
its programme ("Programa Estratégico N: ...") and specific objective ("N.N. Objetivo
específico: ..."). The script keeps the action text and the responsible institutions verbatim,
except that trailing commas and full stops are stripped and the number's trailing dot is
dropped (the plan writes both ``1.1.1.`` and ``1.1.2``). It refuses to write a table that does
not hold the 73 actions the plan announces ("73 matrices de cumplimiento").
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

EXPECTED = 73
ACTION = re.compile(r"^(\d+\.\d+\.\d+)\.?\t([^\t]+)\t([^\t]*)$")
PROGRAMME = re.compile(r"^Programa Estratégico (\d+): (.+?)\s*(?:\t\d+)?$")
OBJECTIVE = re.compile(r"^(\d+\.\d+)\. Objetivo específico: (.+)$")
AMBITO = re.compile(r"^Ámbito de (.+)$")


def parse(text: str) -> list[dict]:
    rows, programme, objective, ambito = [], {}, {}, ""
    for line in text.splitlines():
        line = line.rstrip()
        if m := PROGRAMME.match(line):
            programme[m.group(1)] = m.group(2).strip()
        elif m := OBJECTIVE.match(line):
            objective[m.group(1)] = m.group(2).strip()
        elif m := AMBITO.match(line):
            ambito = m.group(1).strip()
        elif m := ACTION.match(line):
            number = m.group(1)
            prog, obj = number.split(".")[0], ".".join(number.split(".")[:2])
            rows.append(
                {
                    "action": number,
                    "programme": prog,
                    "programme_name": programme.get(prog, ""),
                    "objective": obj,
                    "objective_text": objective.get(obj, ""),
                    "scope": ambito,
                    "action_es": m.group(2).strip(),
                    "responsible": m.group(3).strip().rstrip(",.").strip(),
                }
            )
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = parse(Path(argv[0]).read_text(encoding="utf-8"))
    if len(rows) != EXPECTED:
        print(f"expected {EXPECTED} actions, found {len(rows)}", file=sys.stderr)
        return 1
    out = Path(__file__).with_name("pesn_actions.csv")
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} actions to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
