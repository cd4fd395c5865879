"""Hostile input: XXE, billion laughs, zip bombs, zip slip, symlinks... each refused, nothing
written outside (or inside) the target folder."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from copeval.cli import main
from copeval.errors import ImportFormatError, UnsafeInputError
from copeval.interop import Limits, SafeZip, import_refi, parse_xml, read_qda, read_qdc
from copeval.interop.safe import decode_text, read_table

MINI_QDE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="test">'
    "<Sources>{sources}</Sources></Project>"
)
XXE = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>'
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">\n'
        if i > 1
        else '<!ENTITY lol1 "' + "&lol;" * 10 + '">\n'
        for i in range(1, 10)
    )
    + ']>\n<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>'
)


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == symlink:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, data)
    return path


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _text_source(path: str) -> str:
    return (
        '<TextSource guid="11111111-1111-1111-1111-111111111111" name="s" '
        f'plainTextPath="{path}"/>'
    )


# --------------------------------------------------------------------------- XML
def test_xxe_is_refused():
    with pytest.raises(UnsafeInputError, match="DTD"):
        parse_xml(XXE.encode(), name="evil.qde")


def test_billion_laughs_is_refused():
    with pytest.raises(UnsafeInputError, match="refused"):
        parse_xml(BILLION_LAUGHS.encode(), name="lol.qde")


def test_external_entity_without_doctype_subset_is_refused():
    data = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>'
    with pytest.raises(UnsafeInputError, match="DTD"):
        parse_xml(data, name="x.xml")


def test_malformed_xml_names_line_and_column():
    with pytest.raises(ImportFormatError, match=r"bad\.qde: not well-formed XML \(line 2"):
        parse_xml(b"<Project>\n<Sources></Project>", name="bad.qde")


def test_oversized_xml_is_refused():
    with pytest.raises(UnsafeInputError, match="larger than the limit"):
        parse_xml(
            b"<x>" + b" " * 200 + b"</x>", name="big.xml", limits=Limits(max_entry_bytes=100)
        )


def test_xxe_in_a_qdc_is_refused(tmp_path):
    f = tmp_path / "evil.qdc"
    f.write_text(XXE.replace("Project", "CodeBook"), encoding="utf-8")
    with pytest.raises(UnsafeInputError, match="DTD"):
        read_qdc(f)


def test_xxe_inside_a_qdpx_is_refused_and_nothing_written(tmp_path, capsys):
    evil = _zip(tmp_path / "evil.qdpx", {"project.qde": XXE.encode()})
    target = tmp_path / "proj"
    before = _tree(tmp_path)
    assert main(["import", str(evil), "--into", str(target)]) == 1
    assert "refused" in capsys.readouterr().err
    assert _tree(tmp_path) == before


def test_billion_laughs_inside_a_docx_inside_a_qdpx_is_refused(tmp_path):
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", BILLION_LAUGHS)
    qde = MINI_QDE.format(
        sources=(
            '<TextSource guid="11111111-1111-1111-1111-111111111111" name="s" '
            'richTextPath="internal://s.docx"/>'
        )
    )
    f = _zip(tmp_path / "x.qdpx", {"project.qde": qde.encode(), "sources/s.docx": docx.getvalue()})
    with pytest.raises(UnsafeInputError, match=r"s\.docx:word/document\.xml: refused"):
        read_qda(f)


# --------------------------------------------------------------------------- zip
def test_zip_bomb_high_ratio_is_refused(tmp_path):
    bomb = _zip(
        tmp_path / "bomb.qdpx",
        {"project.qde": b"<Project/>", "sources/zeros.txt": b"\0" * (8 * 1024 * 1024)},
    )
    with pytest.raises(UnsafeInputError, match=r"zeros\.txt' is compressed .*zip bomb"):
        SafeZip(bomb)


def test_zip_bomb_via_cli_writes_nothing(tmp_path, capsys):
    bomb = _zip(
        tmp_path / "bomb.qdpx",
        {"project.qde": b"<Project/>", "sources/zeros.txt": b"\0" * (8 * 1024 * 1024)},
    )
    before = _tree(tmp_path)
    assert main(["import", str(bomb), "--into", str(tmp_path / "p")]) == 1
    assert "zip bomb" in capsys.readouterr().err
    assert _tree(tmp_path) == before


def test_nested_docx_bomb_is_refused(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b" " * (4 * 1024 * 1024))
    qde = MINI_QDE.format(
        sources=(
            '<TextSource guid="11111111-1111-1111-1111-111111111111" name="s" '
            'richTextPath="internal://s.docx"/>'
        )
    )
    f = _zip(
        tmp_path / "x.qdpx", {"project.qde": qde.encode(), "sources/s.docx": inner.getvalue()}
    )
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        read_qda(f)


def test_total_size_and_entry_count_caps(tmp_path):
    f = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" * 100 for i in range(6)})
    with pytest.raises(UnsafeInputError, match="6 entries"):
        SafeZip(f, limits=Limits(max_entries=5))
    with pytest.raises(UnsafeInputError, match="more than"):
        SafeZip(f, limits=Limits(max_total_bytes=500))
    with pytest.raises(UnsafeInputError, match="per member"):
        SafeZip(f, limits=Limits(max_entry_bytes=99))
    with SafeZip(f) as z:
        assert len(z.names) == 6


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil.txt", r"'\.\.'"),
        ("sources/../../evil.txt", r"'\.\.'"),
        ("/tmp/evil.txt", "absolute"),
        ("C:/evil.txt", "absolute"),
        ("..\\evil.txt", r"'\.\.'"),
    ],
)
def test_zip_slip_is_refused(tmp_path, member, why):
    f = _zip(tmp_path / "slip.qdpx", {"project.qde": b"<Project/>", member: b"owned"})
    with pytest.raises(UnsafeInputError, match=why):
        read_qda(f)


def test_zip_slip_via_cli_writes_nothing_anywhere(tmp_path, capsys):
    inner = tmp_path / "inner"
    inner.mkdir()
    f = _zip(inner / "slip.qdpx", {"project.qde": b"<Project/>", "../../evil.txt": b"owned"})
    before = _tree(tmp_path)
    assert main(["import", str(f), "--into", str(inner / "proj")]) == 1
    assert "zip slip" in capsys.readouterr().err
    assert _tree(tmp_path) == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_member_is_refused(tmp_path):
    f = _zip(
        tmp_path / "link.qdpx",
        {"project.qde": b"<Project/>", "sources/a.txt": b"/etc/passwd"},
        symlink="sources/a.txt",
    )
    with pytest.raises(UnsafeInputError, match="symbolic link"):
        read_qda(f)


def test_source_path_escaping_the_project_is_refused(tmp_path):
    qde = MINI_QDE.format(sources=_text_source("internal://../../etc/passwd"))
    f = _zip(tmp_path / "x.qdpx", {"project.qde": qde.encode()})
    with pytest.raises(UnsafeInputError, match="points outside the project"):
        read_qda(f)


def test_bare_qde_never_reads_outside_its_folder(tmp_path):
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    folder = tmp_path / "study"
    folder.mkdir()
    qde = MINI_QDE.format(sources=_text_source("relative://../secret.txt"))
    (folder / "project.qde").write_text(qde, encoding="utf-8")
    qda = read_qda(folder / "project.qde")
    assert qda.sources[0].text is None
    assert "not found" in qda.sources[0].problem
    with pytest.raises(ImportFormatError, match="nothing to import"):
        import_refi(folder / "project.qde")


def test_not_a_zip(tmp_path):
    f = tmp_path / "x.qdpx"
    f.write_bytes(b"this is not a zip")
    with pytest.raises(ImportFormatError, match="not a valid zip archive"):
        read_qda(f)


def test_xlsx_zip_bomb_is_refused_before_openpyxl(tmp_path):
    f = _zip(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b" " * (8 * 1024 * 1024)})
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        read_table(f)


# --------------------------------------------------------------------------- text
def test_decode_text_bom_and_errors():
    assert decode_text("\ufeffhola".encode(), name="a.txt") == "hola"
    assert decode_text("hola\r\n".encode("utf-16"), name="a.txt") == "hola\r\n"
    with pytest.raises(
        ImportFormatError, match=r"a\.txt: not valid UTF-8 \(byte 0xE9 on line 2\)"
    ):
        decode_text("ok\ncaf\xe9".encode("latin-1"), name="a.txt")
