//! `quire build`: the whole pipeline, rendering every requested format into
//! memory first and only then writing, so a failure (or `--deny-warnings`)
//! leaves the previous outputs exactly as they were.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::render::{BuildInfo, epub, output::write_atomic, pdf};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub epub: bool,
    /// The part booklets and the combined book.
    pub pdf: bool,
    pub pdf_options: pdf::PdfOptions,
    /// Treat warnings as errors (for release builds): nothing is written.
    pub deny_warnings: bool,
}

/// Progress of a build, for a terminal bar or plain log lines.
pub trait Progress: Sync {
    /// A stage starts (`what` is e.g. "epub").
    fn start(&self, what: &str);
    /// A stage finished after `secs`.
    fn finish(&self, what: &str, secs: f64);
}

/// No progress output (tests, `--quiet`).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str) {}
    fn finish(&self, _: &str, _: f64) {}
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputFile {
    pub kind: &'static str,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub stage: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WarningEntry {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// What a build did: the machine-readable report (`--report FILE`).
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub quire_version: &'static str,
    pub book: String,
    pub build_date: String,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<WarningEntry>,
    pub timings: Vec<Timing>,
}

struct Pending {
    kind: &'static str,
    path: PathBuf,
    bytes: Vec<u8>,
    pages: Option<u32>,
}

pub fn build(
    content: &Path,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    let mut timings = Vec::new();
    let mut timed = |stage: &str, started: Instant| {
        let seconds = started.elapsed().as_secs_f64();
        progress.finish(stage, seconds);
        timings.push(Timing {
            stage: stage.to_string(),
            seconds,
        });
    };

    progress.start("load");
    let t = Instant::now();
    let loaded = crate::load(content)?;
    timed("load", t);
    let info = BuildInfo::new(&loaded.book).map_err(Error::Usage)?;
    let mut warnings = loaded.warnings;
    let book = &loaded.book;

    let mut pending: Vec<Pending> = Vec::new();
    if opts.epub {
        progress.start("epub");
        let t = Instant::now();
        let e = epub::render(book, &info)?;
        warnings.extend(e.warnings);
        pending.push(Pending {
            kind: "epub",
            path: epub::output_path(book, out),
            bytes: e.bytes,
            pages: None,
        });
        timed("epub", t);
    }

    if opts.pdf {
        progress.start("pdf");
        let t = Instant::now();
        let renderer = pdf::Renderer::new(book, &opts.pdf_options, &info)?;
        for p in renderer.render_all(out)? {
            warnings.extend(p.warnings);
            pending.push(Pending {
                kind: match p.scope {
                    pdf::Scope::Book => "pdf-book",
                    pdf::Scope::Part(_) => "pdf-part",
                },
                path: p.path,
                bytes: p.bytes,
                pages: Some(p.pages as u32),
            });
        }
        timed("pdf", t);
    }

    if opts.deny_warnings && !warnings.is_empty() {
        let mut all = warnings;
        for w in &mut all {
            w.severity = Severity::Error;
        }
        return Err(Error::Content(all));
    }

    let t = Instant::now();
    // Leftovers of a build that was killed mid-write.
    crate::render::output::remove_stale_temps(out);
    crate::render::output::remove_stale_temps(&out.join("pdf"));
    let mut outputs = Vec::with_capacity(pending.len());
    for p in pending {
        write_atomic(&p.path, &p.bytes)?;
        outputs.push(OutputFile {
            kind: p.kind,
            bytes: p.bytes.len() as u64,
            sha256: hex(&Sha256::digest(&p.bytes)),
            pages: p.pages,
            path: p.path,
        });
    }
    timed("write", t);

    let report = BuildReport {
        quire_version: info.quire_version,
        book: book.meta.title.clone(),
        build_date: info.date(),
        outputs,
        warnings: warnings
            .iter()
            .map(|d| WarningEntry {
                file: d.file.clone(),
                line: d.pos.line,
                col: d.pos.col,
                message: d.message.clone(),
            })
            .collect(),
        timings,
    };
    Ok((report, warnings))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
