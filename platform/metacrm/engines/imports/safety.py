"""Upload parsing that cannot take the server down: XML checked while streaming, parsing in a jailed child.

Two defences, because a reader's bugs are unknown:
- `check_xlsx_xml` streams every XML part of an .xlsx through defusedxml's SAX parser (a DTD or
  an entity, internal or external, is refused, never resolved) and checks the sheet's declared
  dimension and every cell's coordinate against the limits, so a 4 KiB file naming cell
  XFD1048576 is refused before python-calamine would allocate the whole grid.
- `in_child` runs a parse in a forked child with RLIMIT_AS (address space) and a wall-clock limit;
  a reader that crashes, aborts or runs away costs that request a 422, never the server process.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import zipfile
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, TypeVar
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

from ...errors import Problem, ValidationError

T = TypeVar("T")
MEMORY_BYTES = 1024 * 1024 * 1024
"""Address space a parse may add to what the forked child already maps."""
SECONDS = 60.0
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def unreadable(reason: str, where: str = "file") -> ValidationError:
    """422 `unreadable_file` with the reason in words (corrupt, lying or hostile files)."""
    message = f"the file cannot be read: {reason}"
    return ValidationError(message, [Problem(where, "unreadable_file", message)], code="unreadable_file")


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


class _Cells(ContentHandler):
    """Checks <dimension ref> and each <c r> against the limits as the parser streams past them."""

    def __init__(self, part: str, max_rows: int, max_columns: int, max_cells: int) -> None:
        super().__init__()
        self.part, self.max_rows, self.max_columns, self.max_cells = part, max_rows, max_columns, max_cells
        self.top_row = 0
        self.top_col = 0

    def _check(self, ref: str) -> None:
        for piece in ref.split(":"):
            m = _REF.fullmatch(piece.replace("$", ""))
            if m is None:
                continue
            col, row = column_number(m.group(1)), int(m.group(2))
            self.top_row, self.top_col = max(self.top_row, row), max(self.top_col, col)
            if col > self.max_columns:
                raise _Refused(f"cell {piece} lies in column {col}, beyond the limit of {self.max_columns} columns",
                               "too_many_columns")
            if row > self.max_rows:
                raise _Refused(f"cell {piece} lies in row {row}, beyond the limit of {self.max_rows} rows",
                               "too_many_rows")
            if self.top_row * self.top_col > self.max_cells:
                raise _Refused(f"the sheet spans {self.top_row} rows x {self.top_col} columns, more than "
                               f"{self.max_cells} cells", "too_many_cells")

    def startElement(self, name: str, attrs: Any) -> None:
        local = name.rsplit(":", 1)[-1]
        if local in ("c", "dimension"):
            ref = attrs.get("r") if local == "c" else attrs.get("ref")
            if ref:
                self._check(ref)


class _Refused(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def check_xlsx_xml(path: Path, max_rows: int, max_columns: int, max_cells: int) -> None:
    """Stream every XML part: no DTD or entity anywhere, no cell beyond the limits in any sheet."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                sheet = info.filename.startswith("xl/worksheets/")
                handler = (_Cells(info.filename, max_rows, max_columns, max_cells) if sheet
                           else ContentHandler())
                parser = make_parser()  # defusedxml: forbid_dtd=False but entities and external refs refused
                parser.forbid_dtd = True
                parser.setContentHandler(handler)
                with archive.open(info) as fh:
                    parser.parse(fh)
    except _Refused as exc:
        raise ValidationError(exc.message, [Problem("file", exc.code, exc.message)], code="invalid_file") from None
    except DefusedXmlException as exc:
        raise unreadable(f"it declares an XML DTD or entity ({type(exc).__name__}); refused, nothing resolved") \
            from None
    except SAXException as exc:
        raise unreadable(f"broken XML ({exc})"[:300]) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise unreadable(f"damaged zip archive ({type(exc).__name__}: {exc})"[:300]) from None


# --- jailed child -----------------------------------------------------------------------------

def _address_space() -> int:
    """Bytes the process maps now (its VSZ): the child's limit is this plus MEMORY_BYTES."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(pipe: Pipe, limit: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        pipe.send(("ok", fn(*args)))
    except ValidationError as exc:
        pipe.send(("refused", (str(exc), exc.code, [p.to_dict() for p in exc.problems])))
    except MemoryError:
        pipe.send(("crashed", "it needs more memory than an upload may use"))
    except BaseException as exc:  # any reader bug ends here, in the child
        pipe.send(("crashed", f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        pipe.close()


def in_child(fn: Callable[..., T], *args: Any, memory: int = MEMORY_BYTES, seconds: float = SECONDS) -> T:
    """fn(*args) in a forked child with a memory and a time limit; its result must pickle.

    Our ValidationErrors come back as they were; a crash, an abort, a kill by the memory limit or
    a timeout become 422 `unreadable_file`.
    """
    if not hasattr(os, "fork") or not os.path.exists("/proc/self/statm"):
        return fn(*args)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, _address_space() + memory, fn, args), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise unreadable(f"reading it took longer than {seconds:.0f} seconds")
        try:
            kind, value = receive.recv()
        except (EOFError, OSError):
            raise unreadable("the reader stopped (out of memory or crashed)") from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "refused":
        message, code, problems = value
        raise ValidationError(message, [Problem(p["field"], p["code"], p["message"]) for p in problems], code=code)
    raise unreadable(value)
