#!/usr/bin/env python3
"""Build and check the cells of a release matrix (docs/release-workflow.yml).

    release-cells.py build --quire BIN --book DIR --paper PAPER --dist DIST [-- BUILD-ARGS...]
    release-cells.py check --books DIR[,DIR...] --papers PAPER[,PAPER...] [--stage OUT] DIST

`build` builds one (book, paper) cell the way a release must be built: a full
build (EPUB, book PDF, part PDFs) with `--deny-warnings` and `--report`, into
DIST/<cell>/, and records the exact command in DIST/<cell>/cell.json (arguments
after `--` are added to `quire build`: `-- --booklet --kindle`). With
GITHUB_OUTPUT set it writes `cell=<cell>` there (the artifact's name).

`check` reads every DIST/**/cell.json and its report.json and fails (exit 1,
every problem listed) unless: the cells are exactly books x papers, each built
with --deny-warnings, --report and its own --paper; each report is of a real
build (not "up to date") with zero warnings, an EPUB, a book PDF and at least
one part PDF; every output file exists inside its cell with the size and
sha256 the report gives, every PDF has a page count, and no EPUB or PDF in the
cell is missing from the report. With --stage it then copies every output and
report to OUT/ under names prefixed by the cell (release assets are one flat
list) and writes OUT/SHA256SUMS.

Standard library only; Python 3.8 or later (GitHub's Ubuntu runners).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

PDF_KINDS = ("pdf-book", "pdf-part", "pdf-booklet")


def cell_name(book: str, paper: str) -> str:
    """A file- and artifact-safe name for a (book, paper) cell."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", book.strip("/")).strip("-.") or "book"
    return f"{slug}-{paper}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- build


def build(args: argparse.Namespace) -> int:
    cell = cell_name(args.book, args.paper)
    out = Path(args.dist) / cell
    report = out / "report.json"
    cmd = [
        args.quire, "--content", args.book, "--out", str(out), "build",
        "--epub", "--pdf", "--paper", args.paper,
        "--deny-warnings", "--report", str(report), "--force",
        *[a for a in args.extra if a != "--"],
    ]
    print("+ " + " ".join(cmd), flush=True)
    code = subprocess.call(cmd)
    if code != 0:
        print(f"release-cells: {cell}: quire exited with {code}", file=sys.stderr)
        return code
    record = {"book": args.book, "paper": args.paper, "out": str(out), "command": cmd}
    (out / "cell.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    gh = os.environ.get("GITHUB_OUTPUT")
    if gh:
        with open(gh, "a", encoding="utf-8") as f:
            f.write(f"cell={cell}\n")
    print(f"release-cells: {cell}: built into {out}")
    return 0


# ---------------------------------------------------------------- check


def arg_after(cmd: list, flag: str):
    for a, b in zip(cmd, cmd[1:]):
        if a == flag:
            return b
    return None


def check_cell(folder: Path, errors: list) -> tuple:
    """Checks one cell folder; returns ((book, paper), [(file, asset name)])."""
    where = str(folder)

    def err(msg: str) -> None:
        errors.append(f"{where}: {msg}")

    try:
        cell = json.loads((folder / "cell.json").read_text(encoding="utf-8"))
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        err(f"unreadable cell.json or report.json: {e}")
        return None, []
    if not isinstance(cell, dict) or not isinstance(report, dict):
        err("cell.json and report.json must be JSON objects")
        return None, []
    book, paper, out = cell.get("book"), cell.get("paper"), cell.get("out")
    cmd = cell.get("command")
    if not all(isinstance(x, str) for x in (book, paper, out)) or not isinstance(cmd, list):
        err("cell.json needs book, paper, out and command")
        return None, []
    name = cell_name(book, paper)
    where = f"{folder} ({book}, {paper})"
    if "--deny-warnings" not in cmd:
        err("not built with --deny-warnings")
    if arg_after(cmd, "--report") is None:
        err("not built with --report")
    if arg_after(cmd, "--paper") != paper:
        err(f"built with --paper {arg_after(cmd, '--paper')}, not {paper}")
    if report.get("up_to_date") is not False:
        err("the report is not of a fresh build (up_to_date is not false)")
    warnings = report.get("warnings")
    if not isinstance(warnings, list):
        err("the report has no warnings list")
    elif warnings:
        first = warnings[0] if isinstance(warnings[0], dict) else {}
        err(f"{len(warnings)} warning(s), first: {first.get('file')}:{first.get('line')}: "
            f"{first.get('message')}")
    outputs = report.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        err("the report lists no outputs")
        outputs = []
    kinds = [o.get("kind") for o in outputs if isinstance(o, dict)]
    for need in ("epub", "pdf-book"):
        if kinds.count(need) != 1:
            err(f"expected one {need} output, found {kinds.count(need)}")
    if "pdf-part" not in kinds:
        err("no part PDF in the report")

    prefix = PurePosixPath(out.replace(os.sep, "/"))
    assets = []
    listed = set()
    for o in outputs:
        if not isinstance(o, dict):
            err("an output entry is not an object")
            continue
        path = o.get("path")
        if not isinstance(path, str):
            err("an output has no path")
            continue
        p = PurePosixPath(path.replace(os.sep, "/"))
        try:
            rel = p.relative_to(prefix)
        except ValueError:
            err(f"{path} is not inside the cell's output folder {out}")
            continue
        if ".." in rel.parts or rel.is_absolute():
            err(f"{path} leaves the cell's output folder")
            continue
        f = folder.joinpath(*rel.parts)
        listed.add(rel.as_posix())
        if o.get("written") is not True:
            err(f"{rel}: not written by this build")
        if not f.is_file():
            err(f"{rel}: missing")
            continue
        if o.get("bytes") != f.stat().st_size:
            err(f"{rel}: {f.stat().st_size} bytes, the report says {o.get('bytes')}")
        digest = sha256(f)
        if o.get("sha256") != digest:
            err(f"{rel}: sha256 {digest}, the report says {o.get('sha256')}")
        if o.get("kind") in PDF_KINDS:
            pages = o.get("pages")
            if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
                err(f"{rel}: no page count in the report")
        assets.append((f, f"{name}-{'-'.join(rel.parts)}"))
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.suffix in (".pdf", ".epub"):
            rel = f.relative_to(folder).as_posix()
            if rel not in listed:
                err(f"{rel} is in the cell but not in its report")
    assets.append((folder / "report.json", f"{name}-report.json"))
    return (book, paper), assets


def check(args: argparse.Namespace) -> int:
    dist = Path(args.dist)
    books = [b for b in args.books.split(",") if b]
    papers = [p for p in args.papers.split(",") if p]
    errors: list = []
    cells = sorted({f.parent for f in dist.rglob("cell.json")})
    seen: dict = {}
    assets = []
    for folder in cells:
        key, files = check_cell(folder, errors)
        if key is None:
            continue
        if key in seen:
            errors.append(f"{folder}: the cell {key} was also built in {seen[key]}")
        seen[key] = folder
        assets += files
    want = {(b, p) for b in books for p in papers}
    for b, p in sorted(want - set(seen)):
        errors.append(f"{dist}: no report for the cell ({b}, {p})")
    for b, p in sorted(set(seen) - want):
        errors.append(f"{seen[(b, p)]}: the cell ({b}, {p}) is not in the matrix")
    names = [n for _, n in assets]
    for n in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"two outputs would be published as {n}")
    if errors:
        for e in errors:
            print(f"release-cells: {e}", file=sys.stderr)
        print(f"release-cells: {len(errors)} problem(s) in {len(cells)} cell(s); nothing published",
              file=sys.stderr)
        return 1
    print(f"release-cells: {len(cells)} cell(s), {len(assets)} files: every sha256, page count "
          "and zero-warning report checks out")
    if args.stage:
        stage = Path(args.stage)
        stage.mkdir(parents=True, exist_ok=True)
        sums = []
        for f, n in sorted(assets, key=lambda a: a[1]):
            shutil.copyfile(f, stage / n)
            sums.append(f"{sha256(stage / n)}  {n}\n")
        (stage / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
        print(f"release-cells: staged {len(assets)} files and SHA256SUMS in {stage}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build one (book, paper) cell")
    b.add_argument("--quire", required=True, help="the quire binary")
    b.add_argument("--book", required=True, help="the book's content folder")
    b.add_argument("--paper", required=True)
    b.add_argument("--dist", required=True, help="folder of the cells")
    b.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more `quire build` arguments")
    c = sub.add_parser("check", help="check every cell's report before publishing")
    c.add_argument("--books", required=True, help="the matrix's books, comma-separated")
    c.add_argument("--papers", required=True, help="the matrix's papers, comma-separated")
    c.add_argument("--stage", help="copy the checked files here under release names, with SHA256SUMS")
    c.add_argument("dist", help="folder holding the downloaded cells")
    args = ap.parse_args()
    return build(args) if args.command == "build" else check(args)


if __name__ == "__main__":
    sys.exit(main())
