"""Files and folders in, files and folders out (written only when every input could be read)."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from .runner import Translation, translate_source


def read_script(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and _looks_like_text(data.decode("utf-16", "replace")):
        raise InputError(f"{path}: is UTF-16 text; tf2torch reads UTF-8 scripts (convert it, e.g. with iconv)")
    if b"\x00" in data:
        raise InputError(f"{path}: is a binary file, not a Python script")
    try:
        return data.decode("utf-8-sig")  # a byte order mark is not part of the script
    except UnicodeDecodeError as exc:
        declared = re.search(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", b"\n".join(data.splitlines()[:2]), re.M)
        also = f"; it declares {declared.group(1).decode('ascii', 'replace')}: convert it to UTF-8" if declared else ""
        raise InputError(f"{path}: is not UTF-8 text (byte {exc.start}){also}") from None


def _looks_like_text(text: str) -> bool:
    return bool(text) and "\x00" not in text and sum(c.isascii() and (c.isprintable() or c in "\n\r\t") for c in text) >= 0.9 * len(text)


def plan(src: Path, out: Path) -> list[tuple[Path, Path]]:
    """(input, output) pairs: one script, or every .py file of a folder mirrored under `out`."""
    if not src.exists():
        raise InputError(f"{src}: no such file or folder")
    if src.is_dir():
        scripts = sorted(p for p in src.rglob("*.py") if not any(part.startswith(".") for part in p.relative_to(src).parts))
        if not scripts:
            raise InputError(f"{src}: holds no .py file")
        return [(p, out / p.relative_to(src)) for p in scripts]
    return [(src, out)]


def translate_paths(src, out) -> list[tuple[Path, Path, Translation]]:
    results = []
    for inp, target in plan(Path(src), Path(out)):
        results.append((inp, target, translate_source(read_script(inp), str(inp))))
    return results


def write(results) -> None:
    for _, target, translation in results:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(translation.source, encoding="utf-8")
        tmp.replace(target)
