//! `quire build`: the whole pipeline, rendering every requested format into
//! memory first and only then writing, so a failure (or `--deny-warnings`)
//! leaves the previous outputs exactly as they were.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::{self, hex};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::print::PdfSettings;
use crate::render::booklet::BookletOptions;
use crate::render::{BuildInfo, pdf, readers};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub epub: bool,
    /// The Kindle file (`<book>.kindle.epub`).
    pub kindle: bool,
    /// The Kobo file (`<book>.kepub.epub`).
    pub kobo: bool,
    /// The part booklets and the combined book.
    pub pdf: bool,
    /// The command line named no format: write what book.toml's `[build]
    /// formats` says (else the EPUB and the PDFs), besides any `booklets`.
    pub formats_from_book: bool,
    /// PDF settings from the command line: each one not given comes from
    /// the book's `[pdf]` table, else its default.
    pub pdf_settings: PdfSettings,
    /// Treat warnings as errors (for release builds): nothing is written.
    pub deny_warnings: bool,
    /// Study booklets: `Some(None)` for every part, `Some(Some(names))` for
    /// some (a part's number, slug or folder name).
    pub booklets: Option<Option<Vec<String>>>,
    /// Build even if nothing changed since the last build.
    pub force: bool,
    /// Fonts and Typst state kept for the next build of this process (watch).
    pub session: Option<std::sync::Arc<pdf::Session>>,
    /// Whether remote images are downloaded (`--fetch-images`, `--update-images`).
    pub images: crate::parse::remote::FetchOptions,
    /// SOURCE_DATE_EPOCH, read by the caller: the build date of every output.
    pub source_date_epoch: Option<i64>,
    /// Where the files go (default: atomically to disk).
    pub sink: Option<std::sync::Arc<dyn crate::render::output::Sink>>,
}

impl BuildOptions {
    /// Everything about the invocation that changes the output, for the cache.
    fn cache_key(&self) -> String {
        format!(
            "epub={} kindle={} kobo={} pdf={} from-book={} booklets={:?} pdf-settings={:?} deny-warnings={} fetch-images={:?} SOURCE_DATE_EPOCH={:?}",
            self.epub,
            self.kindle,
            self.kobo,
            self.pdf,
            self.formats_from_book,
            self.booklets,
            self.pdf_settings,
            self.deny_warnings,
            self.images.fetch,
            self.source_date_epoch
        )
    }
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputFile {
    pub kind: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// False when the file already held exactly these bytes (left untouched).
    #[serde(default)]
    pub written: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub stage: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WarningEntry {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// What a build did: the machine-readable report (`--report FILE`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildReport {
    pub quire_version: String,
    /// Nothing changed since the last build: no file was rendered or written.
    #[serde(default)]
    pub up_to_date: bool,
    pub book: String,
    pub build_date: String,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<WarningEntry>,
    pub timings: Vec<Timing>,
    /// What became of the remote images, when any came from quire.lock or
    /// fetching was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_images: Option<crate::parse::remote::Report>,
    /// What the build chose to leave out, and why (not warnings: nothing is
    /// wrong with the book), e.g. page numbers in an EPUB built alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

struct Pending {
    kind: &'static str,
    path: PathBuf,
    bytes: Vec<u8>,
    pages: Option<u32>,
}

impl Pending {
    fn pdf(kind: &'static str, p: pdf::Pdf) -> Self {
        Pending {
            kind,
            path: p.path,
            bytes: p.bytes,
            pages: Some(p.pages as u32),
        }
    }
}

/// Writes outputs (each to a temporary file, then renamed into place). The
/// first write clears leftovers of a killed build and the cache record, which
/// is stored again only once everything is written.
struct Writer<'a> {
    out: &'a Path,
    started: bool,
    outputs: Vec<OutputFile>,
    sink: &'a dyn crate::render::output::Sink,
}

impl<'a> Writer<'a> {
    fn new(out: &'a Path, sink: &'a dyn crate::render::output::Sink) -> Self {
        Self {
            out,
            started: false,
            outputs: Vec::new(),
            sink,
        }
    }

    fn write(&mut self, pending: Vec<Pending>) -> Result<()> {
        if !self.started {
            self.started = true;
            // Leftovers of a build that was killed mid-write.
            for dir in [
                self.out.to_path_buf(),
                self.out.join("pdf"),
                self.out.join("booklets"),
            ] {
                crate::render::output::remove_stale_temps(&dir);
            }
            cache::invalidate(self.out);
        }
        for p in pending {
            // An output that comes out byte-identical keeps its file (and mtime).
            let same = std::fs::read(&p.path).is_ok_and(|old| old == p.bytes);
            if !same {
                self.sink.write(&p.path, &p.bytes)?;
            }
            self.outputs.push(OutputFile {
                kind: p.kind.to_string(),
                written: !same,
                bytes: p.bytes.len() as u64,
                sha256: hex(&Sha256::digest(&p.bytes)),
                pages: p.pages,
                path: p.path,
            });
        }
        Ok(())
    }
}

/// What a build reads: a book folder, or a book another loader read (the
/// mdBook backend: chapters as mdBook's preprocessors left them), with that
/// loader's diagnostics. Only a folder can be fingerprinted for the cache.
pub enum Input<'a> {
    Folder(&'a Path),
    Loaded(Box<crate::source::Source>, crate::diag::Diagnostics),
}

pub fn build(
    content: &Path,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    build_from(Input::Folder(content), out, opts, progress)
}

pub fn build_from(
    input: Input<'_>,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    let content = match &input {
        Input::Folder(c) => Some(*c),
        Input::Loaded(..) => None,
    };
    let mut timings = Vec::new();
    let mut timed = |stage: &str, seconds: f64| {
        progress.finish(stage, seconds);
        timings.push(Timing {
            stage: stage.to_string(),
            seconds,
        });
    };

    let started = Instant::now();
    let t = Instant::now();
    let fingerprint_now =
        || content.and_then(|c| cache::fingerprint(c, &pdf::font_dirs(c), &opts.cache_key()).ok());
    let mut fingerprint = fingerprint_now();
    // --update-images asks the servers again: never "up to date".
    if !opts.force
        && !opts.images.update
        && let Some(fp) = &fingerprint
        && let Some(mut report) = cache::lookup(out, fp)
    {
        report.up_to_date = true;
        for o in &mut report.outputs {
            o.written = false;
        }
        report.timings.clear();
        timed("up to date", t.elapsed().as_secs_f64());
        report.timings = timings;
        let warnings = report
            .warnings
            .iter()
            .map(|w| Diagnostic {
                severity: Severity::Warning,
                file: w.file.clone(),
                pos: crate::model::Pos {
                    line: w.line,
                    col: w.col,
                },
                message: w.message.clone(),
            })
            .collect();
        return Ok((report, warnings));
    }

    progress.start("load");
    let t = Instant::now();
    let loaded = match input {
        Input::Folder(c) => crate::load_with(c, &opts.images)?,
        Input::Loaded(source, diags) => crate::load_source(*source, diags, &opts.images)?,
    };
    timed("load", t.elapsed().as_secs_f64());
    let remote = loaded.stats.remote;
    if remote.lock_written {
        // quire.lock is an input: what the next build sees is the new one.
        fingerprint = fingerprint_now();
    }
    if remote.fetching && remote.links > 0 {
        // An image that could not be fetched is tried again next time.
        fingerprint = None;
    }
    let info = BuildInfo::new(&loaded.book, opts.source_date_epoch);
    let mut warnings = loaded.warnings;
    let book = &loaded.book;
    let settings = opts.pdf_settings.or(book.meta.pdf);
    // The formats: the command line's, else book.toml's `[build] formats`.
    let (readers, want_pdf, booklets) = if opts.formats_from_book {
        let f = book.meta.formats.unwrap_or_default();
        let booklets = opts.booklets.clone().or(f.booklets.then_some(None));
        let readers = readers::Wanted {
            epub: f.epub,
            kindle: f.kindle,
            kobo: f.kobo,
        };
        (readers, f.pdf, booklets)
    } else {
        let readers = readers::Wanted {
            epub: opts.epub,
            kindle: opts.kindle,
            kobo: opts.kobo,
        };
        (readers, opts.pdf, opts.booklets.clone())
    };
    let mut notices = Vec::new();
    let pdf_options = pdf::PdfOptions {
        paper: settings.paper.unwrap_or_default(),
        open: settings.open.unwrap_or(pdf::Open::MODULES),
        part_open: settings.part_open.unwrap_or(pdf::Open::PARTS),
    };
    let defaults = BookletOptions::default();
    let imposition = BookletOptions {
        signature: settings.signature.map_or(defaults.signature, usize::from),
        marks: settings.marks.unwrap_or(defaults.marks),
        creep_mm: settings.creep.unwrap_or(defaults.creep_mm),
    };

    // The fonts, loaded once for every PDF of this build (a watch session
    // keeps its own, to see font files change).
    let loaded_fonts = std::sync::OnceLock::new();
    let fonts = || {
        loaded_fonts
            .get_or_init(|| match &opts.session {
                Some(s) => s.fonts().clone(),
                None => std::sync::Arc::new(pdf::Fonts::load(&pdf::font_dirs(&book.root))),
            })
            .clone()
    };
    // Typst's memoised layouts only serve a later compile: a build frees
    // them as soon as a stage is laid out, so peak memory is one stage's;
    // watch keeps them for the next edit.
    let keep = || {};
    let release: &(dyn Fn() + Sync) = match opts.session {
        Some(_) => &keep,
        None => &free_layout_caches,
    };

    // The page map of the book PDF, for the readers' print page numbers:
    // kept by a hash of everything it depends on, for EPUB-only builds.
    let page_key = content.and_then(|c| {
        let what = format!(
            "page map {:?} SOURCE_DATE_EPOCH={:?}",
            pdf_options, opts.source_date_epoch
        );
        cache::fingerprint(c, &pdf::font_dirs(c), &what).ok()
    });
    let typeset_pdf = || {
        want_pdf
            .then(|| {
                progress.start("pdf");
                let t = Instant::now();
                let job = pdf::Job {
                    book,
                    options: pdf_options,
                    info: &info,
                    fonts: fonts(),
                    session: opts.session.as_deref(),
                    release,
                };
                let layout = pdf::typeset(&job)?;
                Ok::<_, Error>((job, layout, t.elapsed().as_secs_f64()))
            })
            .transpose()
    };
    let render_readers = |pages: Option<&crate::render::pagelist::PageList>| {
        readers
            .any()
            .then(|| {
                progress.start("epub");
                let t = Instant::now();
                readers::render(book, &info, out, readers, pages, &fonts())
                    .map(|e| (e, t.elapsed().as_secs_f64()))
            })
            .transpose()
    };
    // A page map to keep for later EPUB-only builds, once this build is written.
    let mut new_pages = None;
    let (epub, typeset) = if want_pdf {
        // The readers' page numbers are the book PDF's: it is laid out
        // first (once), the readers follow.
        let typeset = typeset_pdf();
        new_pages = match &typeset {
            Ok(Some((_, layout, _))) => Some(pdf::page_list(
                layout,
                readers::page_source(book, pdf_options.paper),
            )),
            _ => None,
        };
        (render_readers(new_pages.as_ref()), typeset)
    } else {
        let pages = page_key
            .as_deref()
            .and_then(|key| readers::load_pages(out, key));
        if pages.is_none() && readers.any() {
            notices.push(
                "no print page navigation in the EPUB: no PDF of this content and paper was built yet (build with --pdf, or both at once)".to_string(),
            );
        }
        (render_readers(pages.as_ref()), Ok(None))
    };
    let mut pending: Vec<Pending> = Vec::new();
    if let Some((e, seconds)) = epub? {
        timed("epub", seconds);
        warnings.extend(e.warnings);
        for f in e.files {
            pending.push(Pending {
                kind: f.kind,
                path: f.path,
                bytes: f.bytes,
                pages: None,
            });
        }
    }
    let typeset = typeset?;
    if let Some((_, layout, seconds)) = &typeset {
        timed("pdf typeset", *seconds);
        warnings.extend(layout.warnings());
    }

    if opts.deny_warnings && !warnings.is_empty() {
        let mut all = warnings;
        for w in &mut all {
            w.severity = Severity::Error;
        }
        return Err(Error::Content(all));
    }

    let sink: &dyn crate::render::output::Sink = match &opts.sink {
        Some(s) => s.as_ref(),
        None => &crate::render::output::Atomic,
    };
    let mut writer = Writer::new(out, sink);
    if let Some((job, layout, _)) = &typeset {
        let t = Instant::now();
        let parts: Vec<pdf::Scope> = (0..book.parts.len()).map(pdf::Scope::Part).collect();
        let export = |scopes: &[pdf::Scope]| -> Result<Vec<Pending>> {
            let pdfs = pdf::export(job, layout, scopes, out)?;
            let kinds = scopes.iter().map(|s| match s {
                pdf::Scope::Book => "pdf-book",
                pdf::Scope::Part(_) => "pdf-part",
            });
            Ok(kinds.zip(pdfs).map(|(k, p)| Pending::pdf(k, p)).collect())
        };
        if opts.session.is_some() {
            // Watch: the EPUB and the part PDFs (only the edited part is
            // exported again) are written first; the whole book follows.
            pending.extend(export(&parts)?);
            writer.write(std::mem::take(&mut pending))?;
            timed("parts written", started.elapsed().as_secs_f64());
            pending.extend(export(&[pdf::Scope::Book])?);
        } else {
            // Everything at once: the book and the parts export in parallel.
            pending.extend(export(&[&[pdf::Scope::Book][..], &parts].concat())?);
        }
        timed("pdf export", t.elapsed().as_secs_f64());
    }

    if let Some(parts) = &booklets {
        progress.start("booklets");
        let t = Instant::now();
        let (page, sheet) = pdf_options.paper.booklet();
        let parts: Option<Vec<usize>> = parts
            .as_ref()
            .map(|names| names.iter().map(|n| part_index(book, n)).collect())
            .transpose()?;
        // A booklet's first page is its part's opening page, whatever
        // `part-open` says: a blank cover is no use to a study booklet.
        let booklet_options = pdf::PdfOptions {
            paper: page,
            part_open: pdf::Open::Right,
            ..pdf_options
        };
        let job = pdf::Job {
            book,
            options: booklet_options,
            info: &info,
            fonts: fonts(),
            session: opts.session.as_deref(),
            release,
        };
        let laid = pdf::typeset_parts(&job)?;
        let parts = parts.unwrap_or_else(|| (0..book.parts.len()).collect());
        let booklets: Vec<pdf::Pdf> = parts
            .into_par_iter()
            .map(|p| pdf::booklet(&job, &laid, p, sheet, &imposition, out))
            .collect::<Result<_>>()?;
        pending.extend(booklets.into_iter().map(|p| Pending::pdf("pdf-booklet", p)));
        timed("booklets", t.elapsed().as_secs_f64());
    }

    let t = Instant::now();
    writer.write(pending)?;
    if let (Some(list), Some(key)) = (&new_pages, &page_key) {
        readers::store_pages(out, key, list);
    }
    timed("write", t.elapsed().as_secs_f64());
    let outputs = writer.outputs;

    let report = BuildReport {
        quire_version: info.quire_version.to_string(),
        up_to_date: false,
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
        remote_images: (remote.fetching || remote.cached > 0).then_some(remote),
        notices,
    };
    if let Some(fp) = &fingerprint {
        // A build that can't record itself is still a good build; the next
        // one just won't be able to skip work.
        let _ = cache::store(out, fp, &report);
    }
    Ok((report, warnings))
}

/// Frees Typst's memoised layouts and hands the freed heap back to the OS
/// (glibc keeps it otherwise, and the export would add its peak on top of
/// the layout's).
fn free_layout_caches() {
    comemo::evict(0);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointers are touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A part named on the command line: its number (`3`, `03`), slug or folder.
fn part_index(book: &crate::model::Book, name: &str) -> Result<usize> {
    let number = name.parse::<u32>().ok();
    book.parts
        .iter()
        .position(|p| {
            Some(p.number) == number
                || p.slug == name
                || format!("{:02}-{}", p.number, p.slug) == name
        })
        .ok_or_else(|| {
            let known: Vec<String> = book
                .parts
                .iter()
                .map(|p| format!("{:02}-{}", p.number, p.slug))
                .collect();
            Error::Usage(format!(
                "no part '{name}' in this book: name one by number, slug or folder ({})",
                known.join(", ")
            ))
        })
}
