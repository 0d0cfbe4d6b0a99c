#!/usr/bin/env python3
"""Benchmark Quire against a Pandoc + Typst "peer route" on the synthetic corpus.

    python3 bench/bench.py [--runs N] [--quick] [--words N] [--out bench/results.md]
                           [--no-build] [--bin-dir DIR] [--work DIR]

Steps: build Quire (cargo build --release --bins), generate the corpus with
quire-synth, set up a venv with pypandoc_binary + typst for the peer route,
time both routes (wall time and peak RSS of the child processes, via wait4),
then write a Markdown report and print its table.

Standard library only (Python 3.11). This is a benchmark, not a test: nothing
here asserts on timings.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs typst.compile in its own process so its RSS is measured separately.
TYPST_SNIPPET = (
    "import sys, typst; "
    "typst.compile(sys.argv[1], output=sys.argv[2], root=sys.argv[3])"
)


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class CommandFailed(Exception):
    pass


# ---------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall: float  # seconds
    rss_kib: int  # peak RSS, KiB (max over the processes involved)


def run(cmd: list[str], cwd: Path | None = None, capture: bool = False) -> tuple[Sample, str]:
    """Run one command; return its wall time, peak RSS and (optionally) stdout.

    Output goes to temporary files (no pipe deadlocks); a non-zero exit raises
    CommandFailed carrying the tail of stderr.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise CommandFailed(f"cannot run {cmd[0]}: {e}") from e
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-40:])
        raise CommandFailed(
            f"command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"cwd: {cwd}\n--- stderr ---\n{tail}"
        )
    return Sample(wall, ru.ru_maxrss), (stdout if capture else "")


@dataclass
class Row:
    samples: list[Sample] = field(default_factory=list)

    def add(self, s: Sample) -> None:
        self.samples.append(s)

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    def median(self) -> float:
        return statistics.median(self.walls)

    def time_cell(self) -> str:
        if not self.samples:
            return "—"
        return f"{fmt_s(self.median())} ({fmt_s(min(self.walls))}–{fmt_s(max(self.walls))})"

    def rss_cell(self) -> str:
        if not self.samples:
            return "—"
        return fmt_mib(max(s.rss_kib for s in self.samples))


def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def fmt_mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


# ---------------------------------------------------------------- corpus


@dataclass
class Part:
    folder: str  # "NN-slug"
    files: list[str]  # paths relative to the corpus root, in book order


def read_corpus(corpus: Path) -> tuple[dict, list[Part]]:
    book = tomllib.loads((corpus / "book.toml").read_text(encoding="utf-8"))
    parts = []
    for d in sorted(p for p in corpus.iterdir() if p.is_dir() and re.match(r"\d+-", p.name)):
        files = []
        if (d / "_part.md").exists():
            files.append(f"{d.name}/_part.md")
        files += [f"{d.name}/{f.name}" for f in sorted(d.glob("*.md")) if f.name != "_part.md"]
        parts.append(Part(d.name, files))
    return book, parts


# ---------------------------------------------------------------- peer route


@dataclass
class Peer:
    pandoc: str
    python: str  # venv python (has typst)
    corpus: Path
    dir: Path  # WORK/peer
    title: str
    parts: list[Part]

    # A job is a list of commands run one after another (pandoc, then typst).
    def _pandoc_base(self, files: list[str], folders: list[str]) -> list[str]:
        rp = os.pathsep.join(folders + ["."])
        return [
            self.pandoc, "--quiet", "--file-scope", "--toc",
            "-f", "markdown", f"--resource-path={rp}",
            "--metadata", f"title={self.title}",
            *files,
        ]

    def epub_job(self) -> list[list[str]]:
        files = [f for p in self.parts for f in p.files]
        folders = [p.folder for p in self.parts]
        return [self._pandoc_base(files, folders) + ["-o", str(self.dir / "book.epub")]]

    def _pdf_job(self, files: list[str], folders: list[str], name: str, pdf: Path) -> list[list[str]]:
        # The .typ goes to WORK/peer/typ/, so pandoc's image paths (relative to
        # the part folder: ../images/x.png) resolve to WORK/peer/images, a copy
        # of the corpus images; typst's root is WORK/peer.
        typ = self.dir / "typ" / f"{name}.typ"
        return [
            self._pandoc_base(files, folders) + ["-t", "typst", "-s", "-o", str(typ)],
            [self.python, "-c", TYPST_SNIPPET, str(typ), str(pdf), str(self.dir)],
        ]

    def book_pdf_job(self) -> list[list[str]]:
        files = [f for p in self.parts for f in p.files]
        return self._pdf_job(files, [p.folder for p in self.parts], "book", self.dir / "book.pdf")

    def part_pdf_jobs(self) -> list[list[list[str]]]:
        return [
            self._pdf_job(p.files, [p.folder], p.folder, self.dir / "pdf" / f"{p.folder}.pdf")
            for p in self.parts
        ]

    def prepare(self) -> None:
        """Fresh output folders (outside the timing); images copied once."""
        for sub in ("typ", "pdf"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
            (self.dir / sub).mkdir(parents=True)
        for f in ("book.epub", "book.pdf"):
            (self.dir / f).unlink(missing_ok=True)
        images = self.dir / "images"
        if not images.exists() and (self.corpus / "images").exists():
            shutil.copytree(self.corpus / "images", images)

    def run_job(self, job: list[list[str]]) -> tuple[Sample, list[Sample]]:
        steps = [run(cmd, cwd=self.corpus)[0] for cmd in job]
        return Sample(sum(s.wall for s in steps), max(s.rss_kib for s in steps)), steps

    def run_jobs(self, jobs: list[list[list[str]]], workers: int = 2) -> Sample:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(self.run_job, jobs))
        wall = time.perf_counter() - t0
        return Sample(wall, max(r[0].rss_kib for r in results))


# ---------------------------------------------------------------- checks


HREF_RE = re.compile(r"<a\b[^>]*?\bhref\s*=\s*\"([^\"]*)\"", re.I)
ID_RE = re.compile(r"\bid\s*=\s*\"([^\"]*)\"", re.I)


def epub_link_check(epub: Path) -> dict:
    """Count internal links in an EPUB that point to .md files or to missing fragments."""
    res = {"internal": 0, "md": 0, "unresolved": 0}
    if not epub.exists():
        return res
    with zipfile.ZipFile(epub) as z:
        docs = {
            n: z.read(n).decode("utf-8", "replace")
            for n in z.namelist()
            if n.endswith((".xhtml", ".html", ".htm"))
        }
    ids = {n: set(ID_RE.findall(t)) for n, t in docs.items()}
    for name, text in docs.items():
        base = os.path.dirname(name)
        for href in HREF_RE.findall(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", href, re.I):  # http:, mailto:, ...
                continue
            res["internal"] += 1
            path, _, frag = href.partition("#")
            if path.endswith(".md"):
                res["md"] += 1
                continue
            target = os.path.normpath(os.path.join(base, path)) if path else name
            if target not in docs and path:
                res["unresolved"] += 1
            elif frag and frag not in ids.get(target, set()):
                res["unresolved"] += 1
    return res


def pdf_pages(pdf: Path) -> int | None:
    if not shutil.which("pdfinfo") or not pdf.exists():
        return None
    try:
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else None


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (out.stdout.strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.SubprocessError):
        return "?"


def mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


# ---------------------------------------------------------------- setup


def setup_venv(venv: Path) -> tuple[str, str]:
    py = venv / "bin" / "python"
    probe = "import pypandoc, typst; print(pypandoc.get_pandoc_path())"
    if py.exists():
        r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
        if r.returncode == 0:
            log(f"reusing venv {venv}")
            return str(py), r.stdout.strip()
    log(f"creating venv {venv} (pypandoc_binary, typst)")
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(py), "-m", "pip", "install", "--quiet", "pypandoc_binary", "typst"])
    _, out = run([str(py), "-c", probe], capture=True)
    return str(py), out.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None, help="measured runs per row (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="1 run, 60000-word corpus (smoke test)")
    ap.add_argument("--words", type=int, default=None, help="corpus size passed to quire-synth")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    ap.add_argument("--no-build", action="store_true", help="skip cargo build --release --bins")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "release")
    ap.add_argument("--work", type=Path, default=ROOT / "target" / "bench")
    args = ap.parse_args()
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    words = args.words if args.words is not None else (60000 if args.quick else None)
    if runs < 1:
        ap.error("--runs must be >= 1")

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    quire = str(args.bin_dir.resolve() / "quire")
    synth = str(args.bin_dir.resolve() / "quire-synth")

    try:
        # 1. build
        if not args.no_build:
            log("cargo build --release --bins")
            run(["cargo", "build", "--release", "--bins"], cwd=ROOT)

        # 2. corpus
        cmd = [synth, "--out", str(corpus), "--seed", "1", "--force"]
        if words:
            cmd += ["--words", str(words)]
        log("generating corpus: " + " ".join(cmd[1:]))
        _, out = run(cmd, capture=True)
        synth_line = (out.strip().splitlines() or [""])[-1]
        book, parts = read_corpus(corpus)
        title = str(book.get("title", "Book"))

        # 3. peer tools
        py, pandoc = setup_venv(work / "venv")
        peer = Peer(pandoc, py, corpus, work / "peer", title, parts)

        # 4. peer route
        rows_peer = {k: Row() for k in ("epub", "pdfs", "full", "book_pdf")}
        book_steps: list[list[Sample]] = []
        for i in range(1, runs + 1):
            log(f"peer EPUB run {i}/{runs}")
            peer.prepare()
            rows_peer["epub"].add(peer.run_job(peer.epub_job())[0])
            log(f"peer book PDF run {i}/{runs}")
            peer.prepare()
            s, steps = peer.run_job(peer.book_pdf_job())
            rows_peer["book_pdf"].add(s)
            book_steps.append(steps)
            log(f"peer PDFs (book + {len(parts)} parts, 2 jobs at a time) run {i}/{runs}")
            peer.prepare()
            rows_peer["pdfs"].add(peer.run_jobs([peer.book_pdf_job()] + peer.part_pdf_jobs()))
            log(f"peer full route (EPUB + book + {len(parts)} part PDFs) run {i}/{runs}")
            peer.prepare()
            rows_peer["full"].add(
                peer.run_jobs([peer.epub_job(), peer.book_pdf_job()] + peer.part_pdf_jobs())
            )

        # 5. Quire
        qout = work / "quire-out"
        report = work / "report.json"
        base = [quire, "--quiet", "--content", str(corpus), "--out", str(qout), "build"]
        rows_q = {k: Row() for k in ("epub", "pdfs", "full", "noop")}
        reports: list[dict | None] = []
        for i in range(1, runs + 1):
            for key, extra in (("epub", ["--epub"]), ("pdfs", ["--pdf"])):
                log(f"quire {key} run {i}/{runs}")
                shutil.rmtree(qout, ignore_errors=True)
                rows_q[key].add(run(base + extra)[0])
            log(f"quire full build run {i}/{runs}")
            shutil.rmtree(qout, ignore_errors=True)
            report.unlink(missing_ok=True)
            rows_q["full"].add(run(base + ["--report", str(report)])[0])
            try:
                reports.append(json.loads(report.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                reports.append(None)
        # The last full build left OUT in place: every further build is a no-op rebuild.
        for i in range(1, runs + 1):
            log(f"quire no-op rebuild run {i}/{runs}")
            rows_q["noop"].add(run(base)[0])
    except CommandFailed as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1

    # 6. report
    walls = rows_q["full"].walls
    med_idx = sorted(range(len(walls)), key=lambda k: walls[k])[(len(walls) - 1) // 2]
    med_report = reports[med_idx] if reports else None
    timings = med_report.get("timings") if isinstance(med_report, dict) else None

    def ratio(q: Row, p: Row) -> str:
        if not q.samples or not p.samples or p.median() == 0:
            return "—"
        return f"{q.median() / p.median():.2f}×"

    n_parts = len(parts)
    table = [
        "| Target | Quire median (min–max) | Quire peak RSS | Peer median (min–max) | Peer peak RSS | Quire/peer time |",
        "|---|---|---|---|---|---|",
    ]
    for label, qk, pk in (
        ("EPUB", "epub", "epub"),
        (f"PDFs (book + {n_parts} parts)", "pdfs", "pdfs"),
        ("Full build", "full", "full"),
        ("No-op rebuild", "noop", None),
    ):
        q = rows_q[qk]
        p = rows_peer[pk] if pk else Row()
        table.append(
            f"| {label} | {q.time_cell()} | {q.rss_cell()} | {p.time_cell()} | {p.rss_cell()} | {ratio(q, p)} |"
        )

    # pages and links
    book_pdfs = sorted(qout.glob("*.pdf"))
    q_book_pages = pdf_pages(book_pdfs[0]) if book_pdfs else None
    if q_book_pages is None and isinstance(med_report, dict):
        for o in med_report.get("outputs") or []:
            if isinstance(o, dict) and o.get("kind") != "pdf-part" and "pages" in o:
                q_book_pages = o["pages"]
    p_book_pages = pdf_pages(peer.dir / "book.pdf")
    q_parts_pages = [pdf_pages(p) for p in sorted((qout / "pdf").glob("*.pdf"))]
    p_parts_pages = [pdf_pages(p) for p in sorted((peer.dir / "pdf").glob("*.pdf"))]

    def total(pages: list[int | None]) -> str:
        return str(sum(pages)) if pages and None not in pages else "?"

    q_epubs = sorted(qout.glob("*.epub"))
    peer_links = epub_link_check(peer.dir / "book.epub")
    q_links = epub_link_check(q_epubs[0]) if q_epubs else None

    bs = [s for steps in book_steps for s in steps]
    pandoc_t = statistics.median([steps[0].wall for steps in book_steps])
    typst_t = statistics.median([steps[1].wall for steps in book_steps])

    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    pandoc_ver = first_line([pandoc, "--version"])
    typst_ver = first_line([py, "-c", "import importlib.metadata as m; print(m.version('typst'))"])
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    md = [
        "# Quire vs. Pandoc + Typst",
        "",
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} cores, {mem_total()} RAM",
        f"- Corpus: `{synth_line}`",
        f"- Quire commit: {commit}",
        f"- Peer: {pandoc_ver}; typst (PyPI) {typst_ver}",
        f"- Runs per row: {runs} (every Quire run is a clean build except the no-op rebuild)",
        "",
        *table,
        "",
        f"- Peer book PDF alone: {rows_peer['book_pdf'].time_cell()} "
        f"(pandoc {fmt_s(pandoc_t)} + typst {fmt_s(typst_t)}, median), "
        f"peak RSS {fmt_mib(max(s.rss_kib for s in bs))}",
        f"- Book pages: Quire {q_book_pages if q_book_pages is not None else '?'} (A4), "
        f"peer {p_book_pages if p_book_pages is not None else '?'} (US Letter); "
        f"part PDFs total: Quire {total(q_parts_pages)}, peer {total(p_parts_pages)}",
        f"- Dead links in the EPUB: peer: {peer_links['md']} links to .md files / "
        f"{peer_links['unresolved']} unresolved (of {peer_links['internal']} internal links)"
        + (
            f"; Quire: {q_links['md']} / {q_links['unresolved']} (of {q_links['internal']})"
            if q_links
            else ""
        ),
    ]
    if isinstance(timings, list) and timings:
        md += ["", "Quire stage timings (median full build, from `--report`):", "",
               "| Stage | Seconds |", "|---|---|"]
        for t in timings:
            if isinstance(t, dict):
                sec = t.get("seconds")
                md.append(f"| {t.get('stage', '?')} | "
                          f"{f'{sec:.3f}' if isinstance(sec, (int, float)) else sec} |")
    md += [
        "",
        "Peer route: `pandoc --file-scope --toc` over all part/module files in order "
        "(EPUB directly; PDFs via `-t typst -s` then `typst.compile` in a separate "
        f"process), {n_parts + 2} jobs two at a time. Wall time via `perf_counter`, peak RSS via "
        "`wait4` (max over child processes). The peer's output is not equivalent: "
        "pandoc does not render each file's front-matter `title`, so its book has no "
        "chapter headings (and its EPUB is one XHTML file), and links between modules "
        "stay as `.md` hrefs. Generated by `bench/bench.py`.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(md), encoding="utf-8")
    print("\n".join(table))
    print()
    print("\n".join(l for l in md if l.startswith("- ")))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
