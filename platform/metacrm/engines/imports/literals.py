"""The literal digits of long numbers in an .xlsx sheet, read from its XML.

A spreadsheet written by another program (a CRM export, openpyxl, WPS) may store an 18-digit ID
number as the numeric cell `<v>440101198503071234</v>`; readers turn that into a float and lose
the last digits. When a reader hands us a whole float of 16+ digits, we look up the cell's literal
in the sheet XML (one streamed pass, only for sheets that have such cells) and keep its digits.
A literal that is itself in scientific notation (what Excel writes) has lost digits for good.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml import ElementTree
from defusedxml.sax import make_parser

from .safety import column_number

_LONG = re.compile(r"-?[0-9]{16,}")
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def sheet_part(archive: zipfile.ZipFile, sheet_name: str | None) -> str | None:
    """The zip path of a sheet's XML (the first sheet when no name is given)."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    for sheet in book.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        if sheet_name is None or sheet.get("name") == sheet_name:
            target = targets.get(sheet.get(_REL))
            if not target:
                return None
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


class _Numbers(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[tuple[int, int], str] = {}
        self._cell: tuple[int, int] | None = None
        self._in_value = False
        self._text: list[str] = []

    def startElement(self, name: str, attrs: object) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "c":
            kind = attrs.get("t")  # type: ignore[attr-defined]
            m = _REF.fullmatch(attrs.get("r") or "")  # type: ignore[attr-defined]
            self._cell = (int(m[2]), column_number(m[1])) if m and kind in (None, "n") else None
        elif local == "v" and self._cell is not None:
            self._in_value, self._text = True, []

    def characters(self, content: str) -> None:
        if self._in_value:
            self._text.append(content)

    def endElement(self, name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "v" and self._in_value:
            self._in_value = False
            text = "".join(self._text).strip()
            if self._cell is not None and _LONG.fullmatch(text):
                self.found[self._cell] = text
        elif local == "c":
            self._cell = None


def long_numbers(path: Path, sheet_name: str | None) -> dict[tuple[int, int], str]:
    """{(row, column), both 1-based: literal digits} of numeric cells holding 16+ digits."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet_name)
            if part is None:
                return {}
            handler = _Numbers()
            parser = make_parser()
            parser.forbid_dtd = True
            parser.setContentHandler(handler)
            with archive.open(part) as fh:
                parser.parse(fh)
            return handler.found
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, SAXException, ElementTree.ParseError):
        return {}
