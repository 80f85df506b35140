"""Schema-file packs: folders of definitions laid out by kind, read and written as JSON.

A pack folder holds one sub-folder per kind (`objects/`, `forms/`, ...); a folder that is itself
named for a kind (e.g. `workflows/`) is read as that kind's folder. Each file holds one
definition whose name is the file name. Reading collects every problem, each naming the file and
the JSON pointer, and never stops at the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, Problem
from .kinds import KINDS, DefinitionSet, Doc, kind_for_folder, validate_definition
from .secrets import restore

MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PackFile:
    """One definition read from disk."""

    path: str
    kind: str
    name: str
    doc: Doc


def canonical_json(doc: Any) -> str:
    """The text a checksum is taken of: compact, key order kept (field order is meaningful)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def checksum(doc: Any) -> str:
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys (which would silently overwrite)."""
    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant)


def _kind_folders(root: Path) -> list[tuple[str, Path]]:
    folder_kind = kind_for_folder(root.name)
    if folder_kind is not None:
        return [(folder_kind.name, root)]
    return [(k.name, root / k.folder) for k in KINDS.values() if (root / k.folder).is_dir()]


def read_pack(roots: Iterable[Path | str]) -> tuple[list[PackFile], list[Problem]]:
    """Every definition under the given folders, and every problem reading them."""
    files: list[PackFile] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for root in map(Path, roots):
        if not root.is_dir():
            problems.append(Problem(str(root), "not_a_folder", "no such folder"))
            continue
        found = _kind_folders(root)
        known = {p.resolve() for _, p in found}
        for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if sub.resolve() not in known and root.resolve() not in known and any(sub.glob("*.json")):
                problems.append(Problem(str(sub), "unknown_kind",
                                        f"'{sub.name}' is not a kind folder; known: "
                                        + ", ".join(sorted(k.folder for k in KINDS.values()))))
        for kind_name, folder in found:
            for path in sorted(folder.glob("*.json")):
                pack_file, problem = _read_file(path, kind_name)
                if problem:
                    problems.append(problem)
                    continue
                assert pack_file is not None
                key = (kind_name, pack_file.name)
                if key in seen:
                    problems.append(Problem(f"{path}#", "duplicate_name",
                                            f"{kind_name} '{pack_file.name}' is also defined in {seen[key]}"))
                    continue
                seen[key] = str(path)
                files.append(pack_file)
    return files, problems


def _read_file(path: Path, kind_name: str) -> tuple[PackFile | None, Problem | None]:
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, Problem(f"{path}#", "too_large", f"larger than {MAX_FILE_BYTES} bytes")
    try:
        doc = parse_json(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, Problem(f"{path}#", "invalid_encoding", "not UTF-8 text")
    except json.JSONDecodeError as exc:
        return None, Problem(f"{path}#", "invalid_json", f"line {exc.lineno} column {exc.colno}: {exc.msg}")
    except ValueError as exc:
        return None, Problem(f"{path}#", "invalid_json", str(exc))
    if not isinstance(doc, dict):
        return None, Problem(f"{path}#", "type", "a definition file holds one JSON object")
    id_key = KINDS[kind_name].id_key
    name = doc.get(id_key)
    if name != path.stem:
        return None, Problem(f"{path}#/{id_key.replace('~', '~0')}", "name_mismatch",
                             f"{id_key} is {name!r} but the file is named {path.stem!r}")
    return PackFile(str(path), kind_name, name, doc), None


def restore_secrets(files: list[PackFile], live: DefinitionSet) -> tuple[list[PackFile], list[Problem]]:
    """Files with masked secrets (as `export` writes them) given back the stored values."""
    out, problems = [], []
    for f in files:
        doc, found = restore(f.doc, live.get(f.kind, f.name))
        problems += [Problem(f"{f.path}#{p.field}", p.code, p.message) for p in found]
        out.append(replace(f, doc=doc) if doc is not f.doc else f)
    return out, problems


def validate_pack(files: list[PackFile], live: DefinitionSet) -> list[Problem]:
    """Check every file against its meta-schema and against the live definitions overlaid by the pack."""
    files, problems = restore_secrets(files, live)
    context = live.overlay((f.kind, f.name, f.doc) for f in files)
    return problems + [Problem(f"{f.path}#{p.field if p.field != '/' else ''}", p.code, p.message)
                       for f in files for p in validate_definition(f.kind, f.doc, context)]


def load_pack(roots: Iterable[Path | str], live: DefinitionSet) -> list[PackFile]:
    """Read and validate a pack; raise one DefinitionError listing every problem."""
    files, problems = read_pack(roots)
    files, _ = restore_secrets(files, live)  # problems: validate_pack reports them
    problems += validate_pack(files, live)
    if problems:
        raise DefinitionError(f"{len(problems)} problem(s) in the schema files", problems)
    return files


def write_pack(root: Path | str, definitions: DefinitionSet) -> list[Path]:
    """Write definitions as files, one per definition, in the layout read_pack reads."""
    root = Path(root)
    written = []
    for kind_name in definitions.kinds():
        folder = root / KINDS[kind_name].folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, doc in definitions.items(kind_name):
            path = folder / f"{name}.json"
            path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            written.append(path)
    return written
