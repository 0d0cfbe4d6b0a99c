#!/usr/bin/env python3
"""Benchmark Quire against a Pandoc + Typst "peer route" on the synthetic corpus.

    python3 bench/bench.py [--runs N] [--quick] [--words N] [--out bench/results.md]
                           [--no-build] [--bin-dir DIR] [--work DIR]
    python3 bench/bench.py --scale 2[,4,10] [--words N] [--no-build] [--bin-dir DIR]

Steps: build Quire (cargo build --release --bins), generate the corpus with
quire-synth, set up a venv with pypandoc_binary + typst for the peer route,
time both routes (wall time and peak RSS of the child processes, via wait4),
then write a Markdown report and print its table.

With --scale, only Quire is measured, on corpora N times the size: the 1x corpus
and each N x corpus (quire-synth --words N*727000, same seed) are generated and
fully built one after the other in the same run, each build's RSS sampled every
0.5 s from /proc and split by stage (the build's own stage lines), and a
"Scale" section (words, pages, time, peak RSS, ratio to 1x) replaces the one in
the report file; the rest of the file is kept. A scale whose estimated peak
(1x peak RSS times N, plus 10 %) would not fit in MemAvailable minus 4 GiB is
skipped, and the table says so.

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
import threading
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `Assembly::STREAMED_FROM` (src/model/print.rs): `[pdf] assembly = "auto"`
# streams a book of this many words or more.
STREAMED_FROM = 2_000_000

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


# ---------------------------------------------------------------- scale run

BASE_WORDS = 727000
SCALE_BEGIN = "<!-- scale: begin (bench.py --scale writes this section) -->"
SCALE_END = "<!-- scale: end -->"
# The stages a full build reports, in the order they run: the PDFs are laid out
# first (the readers take their page numbers from the book PDF), then the EPUB.
RUN_ORDER = ("load", "pdf typeset", "epub", "pdf export", "write")
STAGE_LINE = re.compile(r"^([a-z ]+): (\d+(?:\.\d+)?) s$")


def mem_available_kib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


@dataclass
class Traced:
    wall: float
    cpu: float  # user + system seconds (wait4): steadier than wall time on a busy machine
    rss_kib: int  # peak RSS (wait4)
    samples: list[tuple[float, int]]  # (seconds since start, VmRSS KiB)
    stage_ends: dict[str, float]  # stage -> seconds since start when it ended
    stage_secs: dict[str, float]


def run_traced(cmd: list[str], interval: float = 0.5) -> Traced:
    """Run a build with its plain stage lines on (CI=true, not --quiet),
    sampling VmRSS every `interval` s and timestamping each stage line."""
    env = dict(os.environ, CI="true")
    ends: dict[str, float] = {}
    secs: dict[str, float] = {}
    tail: list[str] = []
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    env=env, text=True)
        except OSError as e:
            raise CommandFailed(f"cannot run {cmd[0]}: {e}") from e

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                now = time.perf_counter() - t0
                line = line.rstrip("\n")
                tail.append(line)
                del tail[:-40]
                m = STAGE_LINE.match(line)
                if m:
                    ends[m.group(1)] = now
                    secs[m.group(1)] = float(m.group(2))

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        samples: list[tuple[float, int]] = []
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = proc_rss_kib(proc.pid)
            if rss is not None:
                samples.append((time.perf_counter() - t0, rss))
            time.sleep(interval)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=10)
    if proc.returncode != 0:
        raise CommandFailed(
            f"command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
            "--- stderr ---\n" + "\n".join(tail)
        )
    # The EPUB's line and the typeset line are both printed once the EPUB is
    # done: the typeset stage ended the EPUB's seconds before.
    if "epub" in ends and "pdf typeset" in ends:
        ends["pdf typeset"] = ends["epub"] - secs["epub"]
    return Traced(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, samples, ends, secs)


def stage_peaks(t: Traced) -> list[tuple[str, float, int | None]]:
    """(stage, seconds, peak sampled VmRSS in it) in run order, with the
    start-up before the first stage and the exit after the last."""
    spans = []
    start = 0.0
    for stage in ("before load",) + RUN_ORDER + ("exit",):
        if stage == "before load":
            end = t.stage_ends.get("load", 0.0) - t.stage_secs.get("load", 0.0)
        elif stage == "exit":
            end = t.wall
        elif stage in t.stage_ends:
            end = t.stage_ends[stage]
        else:
            continue
        inside = [r for (s, r) in t.samples if start <= s <= end]
        spans.append((stage, end - start, max(inside) if inside else None))
        start = end
    return spans


@dataclass
class ScaleResult:
    factor: int
    words: int | None  # quire-synth's count (wc -w)
    pages: int | None  # book PDF pages
    pdf_pages_total: int | None  # book + parts
    traced: Traced | None
    skipped: str = ""
    load: float | None = None  # 1-minute load average when the build started


def synth_words(line: str) -> int | None:
    m = re.search(r"([\d,]+) words", line)
    return int(m.group(1).replace(",", "")) if m else None


def scale_run(args: argparse.Namespace, factors: list[int]) -> int:
    work = args.work.resolve() / "scale"
    quire = str(args.bin_dir.resolve() / "quire")
    synth = str(args.bin_dir.resolve() / "quire-synth")
    base_words = args.words or BASE_WORDS
    # The commit when the run starts (others may commit while it runs).
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    results: list[ScaleResult] = []
    peak_1x: int | None = None
    try:
        if not args.no_build:
            log("cargo build --release --bins")
            run(["cargo", "build", "--release", "--bins"], cwd=ROOT)
        for f in [1] + [f for f in factors if f != 1]:
            # Refuse a run that may not fit: a whole layout's peak grows about
            # linearly; a streamed one's (`[pdf] assembly`, auto from
            # STREAMED_FROM words) stays near a few modules'.
            streamed = base_words * f >= STREAMED_FROM
            need = 3 * 1024 * 1024 if streamed else int((peak_1x or 2_500_000) * f * 1.1)
            avail = mem_available_kib()
            if f > 1 and avail is not None and need > avail - 4 * 1024 * 1024:
                why = (f"skipped: needs ~{need / 1048576:.1f} GiB, "
                       f"{avail / 1048576:.1f} GiB available (4 GiB kept free)")
                log(f"{f}x {why}")
                results.append(ScaleResult(f, None, None, None, None, why))
                continue
            corpus = work / f"corpus-{f}x"
            out = work / f"out-{f}x"
            report = work / f"report-{f}x.json"
            cmd = [synth, "--out", str(corpus), "--seed", "1", "--force", "--words", str(base_words * f)]
            log(f"{f}x: generating " + " ".join(cmd[1:]))
            _, sout = run(cmd, capture=True)
            words = synth_words((sout.strip().splitlines() or [""])[-1])
            shutil.rmtree(out, ignore_errors=True)
            report.unlink(missing_ok=True)
            log(f"{f}x: quire build (RSS sampled every 0.5 s)")
            load = os.getloadavg()[0]
            t = run_traced([quire, "--content", str(corpus), "--out", str(out), "build",
                            "--force", "--report", str(report)])
            rep = json.loads(report.read_text(encoding="utf-8"))
            pages = [o.get("pages") for o in rep.get("outputs", []) if str(o.get("kind", "")).startswith("pdf")]
            book_pages = next((o.get("pages") for o in rep.get("outputs", []) if o.get("kind") == "pdf-book"), None)
            total = sum(pages) if pages and None not in pages else None
            results.append(ScaleResult(f, words, book_pages, total, t, load=load))
            if f == 1:
                peak_1x = t.rss_kib
            log(f"{f}x: {fmt_s(t.wall)}, peak RSS {fmt_mib(t.rss_kib)}, {book_pages} pages")
            (work / f"rss-{f}x.tsv").write_text(
                "seconds\tvmrss_kib\n" + "".join(f"{s:.2f}\t{r}\n" for s, r in t.samples))
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(corpus, ignore_errors=True)
    except CommandFailed as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1

    one = results[0].traced
    table = ["| Scale | Assembly | Words | Book pages (all PDF pages) | Time | CPU time | Peak RSS | Time / 1× | CPU / 1× | RSS / 1× | Load at start |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        assembly = "streamed" if base_words * r.factor >= STREAMED_FROM else "whole"
        if r.traced is None:
            table.append(f"| {r.factor}× | {assembly} | — | — | — | — | — | — | — | {r.skipped} | — |")
            continue
        t = r.traced
        table.append(
            f"| {r.factor}× | {assembly} | {r.words:,} | {r.pages} ({r.pdf_pages_total}) | {fmt_s(t.wall)} | "
            f"{fmt_s(t.cpu)} | {fmt_mib(t.rss_kib)} | {t.wall / one.wall:.2f}× | {t.cpu / one.cpu:.2f}× | "
            f"{t.rss_kib / one.rss_kib:.2f}× | {r.load:.1f} |"
            if one else f"| {r.factor}× | {assembly} | ? | ? | ? | ? | ? | ? | ? | ? | ? |")
    stages = ["| Scale | " + " | ".join(("before load",) + RUN_ORDER + ("exit",)) + " |",
              "|---|" + "---|" * (len(RUN_ORDER) + 2)]
    for r in results:
        if r.traced is None:
            continue
        cells = {s: (sec, peak) for s, sec, peak in stage_peaks(r.traced)}
        row = []
        for s in ("before load",) + RUN_ORDER + ("exit",):
            if s not in cells:
                row.append("—")
                continue
            sec, peak = cells[s]
            row.append(f"{fmt_s(sec)}, {fmt_mib(peak) if peak is not None else '—'}")
        stages.append(f"| {r.factor}× | " + " | ".join(row) + " |")

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        SCALE_BEGIN,
        "## Scale",
        "",
        f"- Date: {now}; machine: {os.cpu_count()} cores, {mem_total()} RAM",
        f"- Quire commit at the start: {commit}{' (working tree with uncommitted changes)' if dirty else ''}; "
        f"binaries: `{args.bin_dir}`" + (f"; {args.profile_note}" if args.profile_note else ""),
        f"- Corpora: `quire-synth --seed 1 --words N×{base_words}`, each fully built "
        "(`quire build --force --report`: EPUB, book PDF, part PDFs), one after the other in this run",
        "",
        *table,
        "",
        "Time and sampled peak VmRSS per stage (RSS read from /proc every 0.5 s; stage "
        "boundaries from the build's own stage lines; the stages run in this order):",
        "",
        *stages,
        "",
        SCALE_END,
    ]
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if SCALE_BEGIN in old and SCALE_END in old:
        a = old.index(SCALE_BEGIN)
        b = old.index(SCALE_END) + len(SCALE_END)
        new = old[:a] + "\n".join(section) + old[b:]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + "\n".join(section) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(new, encoding="utf-8")
    print("\n".join(table))
    print()
    print("\n".join(stages))
    log(f"wrote the Scale section of {args.out}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None, help="measured runs per row (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="1 run, 60000-word corpus (smoke test)")
    ap.add_argument("--words", type=int, default=None, help="corpus size passed to quire-synth")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    ap.add_argument("--no-build", action="store_true", help="skip cargo build --release --bins")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "release")
    ap.add_argument("--work", type=Path, default=ROOT / "target" / "bench")
    ap.add_argument("--scale", default=None, metavar="N[,N...]",
                    help="scale run only: build the 1x corpus and each N x corpus, write the Scale section")
    ap.add_argument("--keep", action="store_true", help="scale run: keep the corpora and outputs")
    ap.add_argument("--profile-note", default="",
                    help="scale run: a note on how the binaries were built, for the report")
    args = ap.parse_args()
    if args.scale is not None:
        try:
            factors = [int(x) for x in args.scale.split(",") if x.strip()]
        except ValueError:
            ap.error("--scale takes whole numbers: --scale 2,4")
        if not factors or min(factors) < 1:
            ap.error("--scale takes whole numbers >= 1")
        return scale_run(args, factors)
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
