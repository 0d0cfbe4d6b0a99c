//! `quire build`: plan, then run. The plan lists the targets (`plan`); the
//! run renders every one of them into memory, and only then are they written
//! (`write`), so a failure (or `--deny-warnings`) leaves the previous outputs
//! exactly as they were. A build whose inputs and outputs are unchanged does
//! nothing (`cache`); what it did is its report (`report`).

mod cache;
mod plan;
mod report;
mod write;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

pub use cache::hex;
pub use plan::{Plan, Target};
pub use report::{BuildReport, OutputFile, Stage, Timing, WarningEntry};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::print::PdfSettings;
use crate::render::{BuildInfo, pdf, readers};
use write::{Artifact, Writer};

/// How a build is asked for. Everything here that changes an output is part
/// of the cache key: the options are serialised whole (what must not count,
/// such as `force`, is skipped by name), so a new option counts unless it
/// says otherwise.
#[derive(Debug, Clone, Default, Serialize)]
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
    #[serde(skip)]
    pub force: bool,
    /// Whether remote images are downloaded (`--fetch-images`, `--update-images`;
    /// only whether they are fetched counts for the cache: an update never
    /// is up to date, and the time limit changes no output).
    #[serde(serialize_with = "fetch_mode")]
    pub images: crate::parse::remote::FetchOptions,
    /// SOURCE_DATE_EPOCH, read by the caller: the build date of every output.
    pub source_date_epoch: Option<i64>,
    /// The running Quire binary, found by the caller: a rebuilt Quire must
    /// not take the outputs of the old one as up to date (none: never).
    #[serde(skip)]
    pub binary: Option<PathBuf>,
    /// Where the files go (default: atomically to disk).
    #[serde(skip)]
    pub sink: Option<std::sync::Arc<dyn crate::render::output::Sink>>,
}

fn fetch_mode<S: serde::Serializer>(
    images: &crate::parse::remote::FetchOptions,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    images.fetch.serialize(s)
}

impl BuildOptions {
    /// Everything about the invocation that changes the output, for the cache.
    fn cache_key(&self) -> String {
        // Plain data: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Progress of a build, for a terminal bar or plain log lines.
pub trait Progress: Sync {
    /// A stage starts.
    fn start(&self, what: Stage);
    /// A stage finished after `secs`.
    fn finish(&self, what: Stage, secs: f64);
}

/// No progress output (tests, `--quiet`).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: Stage) {}
    fn finish(&self, _: Stage, _: f64) {}
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
    run(Input::Folder(content), out, opts, progress, None)
}

/// A build of a book another loader read (see [`Input`]).
pub fn build_from(
    input: Input<'_>,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    run(input, out, opts, progress, None)
}

/// A build in a long-running process (`quire watch`): fonts, Typst's
/// sources and caches and the last part PDFs stay in `session` for the next.
pub fn rebuild(
    content: &Path,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
    session: &pdf::Session,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    run(Input::Folder(content), out, opts, progress, Some(session))
}

fn run(
    input: Input<'_>,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
    session: Option<&pdf::Session>,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    let content = match &input {
        Input::Folder(c) => Some(*c),
        Input::Loaded(..) => None,
    };
    let mut timings = Vec::new();
    let mut timed = |stage: Stage, seconds: f64| {
        progress.finish(stage, seconds);
        timings.push(Timing { stage, seconds });
    };

    let started = Instant::now();
    let t = Instant::now();
    let fingerprint_now = || {
        // Without the binary's identity a build is never taken as up to date.
        let (c, binary) = (content?, opts.binary.as_deref()?);
        cache::fingerprint(c, &pdf::font_dirs(c), binary, &opts.cache_key()).ok()
    };
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
        timed(Stage::UpToDate, t.elapsed().as_secs_f64());
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

    progress.start(Stage::Load);
    let t = Instant::now();
    let loaded = match input {
        Input::Folder(c) => crate::load_with(c, &opts.images)?,
        Input::Loaded(source, diags) => crate::load_source(*source, diags, &opts.images)?,
    };
    timed(Stage::Load, t.elapsed().as_secs_f64());
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
    let index = &loaded.index;
    let plan = Plan::new(book, opts)?;
    let readers = plan.readers();
    let scopes = plan.pdfs();
    let want_pdf = !scopes.is_empty();
    let pdf_options = plan.pdf;
    let mut notices = Vec::new();

    // The fonts, loaded once for every PDF of this build (a watch session
    // keeps its own, to see font files change).
    let loaded_fonts = std::sync::OnceLock::new();
    let fonts = || {
        loaded_fonts
            .get_or_init(|| match session {
                Some(s) => s.fonts().clone(),
                None => std::sync::Arc::new(pdf::Fonts::load(&pdf::font_dirs(&book.root))),
            })
            .clone()
    };
    // Typst's memoised layouts only serve a later compile: a build frees
    // them as soon as a stage is laid out, so peak memory is one stage's;
    // watch keeps them for the next edit.
    let keep = |_| {};
    let release: &(dyn Fn(pdf::Release) + Sync) = match session {
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
        cache::fingerprint(c, &pdf::font_dirs(c), opts.binary.as_deref()?, &what).ok()
    });
    let typeset_pdf = || {
        want_pdf
            .then(|| {
                progress.start(Stage::Pdf);
                let t = Instant::now();
                let job = pdf::Job {
                    book,
                    index,
                    options: pdf_options,
                    info: &info,
                    fonts: fonts(),
                    session,
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
                progress.start(Stage::Epub);
                let t = Instant::now();
                readers::render(book, index, &info, out, readers, pages, &fonts())
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
    let mut pending: Vec<Artifact> = Vec::new();
    if let Some((e, seconds)) = epub? {
        timed(Stage::Epub, seconds);
        warnings.extend(e.warnings);
        for f in e.files {
            pending.push(Artifact {
                kind: f.kind,
                path: f.path,
                bytes: f.bytes,
                pages: None,
            });
        }
    }
    let typeset = typeset?;
    if let Some((_, layout, seconds)) = &typeset {
        timed(Stage::PdfTypeset, *seconds);
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
    if let Some((job, layout, _)) = typeset {
        let t = Instant::now();
        if session.is_some() {
            // Watch: the EPUB and the part PDFs (only the edited part is
            // exported again) are written first; the whole book follows.
            let parts: Vec<usize> = scopes
                .iter()
                .filter_map(|s| match s {
                    pdf::Scope::Part(p) => Some(*p),
                    pdf::Scope::Book => None,
                })
                .collect();
            let part_pdfs = pdf::export(&job, &layout, &parts, out)?;
            pending.extend(part_pdfs.into_iter().map(|p| Artifact::pdf("pdf-part", p)));
            writer.write(std::mem::take(&mut pending))?;
            timed(Stage::PartsWritten, started.elapsed().as_secs_f64());
            if scopes.contains(&pdf::Scope::Book) {
                let book_pdf = pdf::export_all(&job, layout, &[pdf::Scope::Book], out)?;
                pending.extend(book_pdf.into_iter().map(|p| Artifact::pdf("pdf-book", p)));
            }
        } else {
            // Everything at once, the layout freed as soon as it can be.
            let pdfs = pdf::export_all(&job, layout, &scopes, out)?;
            let kinds = scopes.iter().map(|s| match s {
                pdf::Scope::Book => "pdf-book",
                pdf::Scope::Part(_) => "pdf-part",
            });
            pending.extend(kinds.zip(pdfs).map(|(k, p)| Artifact::pdf(k, p)));
        }
        timed(Stage::PdfExport, t.elapsed().as_secs_f64());
    }

    let booklets = plan.booklets();
    if !booklets.is_empty() {
        progress.start(Stage::Booklets);
        let t = Instant::now();
        let (page, sheet) = pdf_options.paper.booklet();
        // A booklet's first page is its part's opening page, whatever
        // `part-open` says: a blank cover is no use to a study booklet.
        let booklet_options = pdf::PdfOptions {
            paper: page,
            part_open: pdf::Open::Right,
            ..pdf_options
        };
        let job = pdf::Job {
            book,
            index,
            options: booklet_options,
            info: &info,
            fonts: fonts(),
            session,
            release,
        };
        let laid = pdf::typeset_parts(&job)?;
        // One at a time, as the part PDFs (see `pdf::export_all`).
        let imposed: Vec<pdf::Pdf> = booklets
            .into_iter()
            .map(|p| pdf::booklet(&job, &laid, p, sheet, &plan.imposition, out))
            .collect::<Result<_>>()?;
        pending.extend(imposed.into_iter().map(|p| Artifact::pdf("pdf-booklet", p)));
        timed(Stage::Booklets, t.elapsed().as_secs_f64());
    }

    let t = Instant::now();
    writer.write(pending)?;
    if let (Some(list), Some(key)) = (&new_pages, &page_key) {
        readers::store_pages(out, key, list);
    }
    timed(Stage::Write, t.elapsed().as_secs_f64());
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

/// Frees what `release` allows of Typst's memoised layouts and hands the
/// freed heap back to the OS now (the export would add its peak on top
/// of what the layout freed).
fn free_layout_caches(release: pdf::Release) {
    // comemo ages every entry at each call: `Heap` is a call too (so the
    // ages `Unused` counts stay as they were), one that removes nothing.
    comemo::evict(match release {
        pdf::Release::All => 0,
        pdf::Release::Unused(age) => age,
        pdf::Release::Heap => usize::MAX,
    });
    crate::alloc::purge();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::print::Paper;

    #[test]
    fn every_option_that_changes_an_output_is_in_the_cache_key() {
        let base = BuildOptions::default();
        let key = base.cache_key();
        let changed = [
            BuildOptions {
                kobo: true,
                ..BuildOptions::default()
            },
            BuildOptions {
                pdf_settings: PdfSettings {
                    paper: Some(Paper::Letter),
                    ..PdfSettings::default()
                },
                ..BuildOptions::default()
            },
            BuildOptions {
                booklets: Some(Some(vec!["3".into()])),
                ..BuildOptions::default()
            },
            BuildOptions {
                source_date_epoch: Some(1),
                ..BuildOptions::default()
            },
        ];
        for o in &changed {
            assert_ne!(o.cache_key(), key, "{o:?}");
        }
        // What changes no output is not in it.
        let forced = BuildOptions {
            force: true,
            binary: Some(PathBuf::from("/usr/bin/quire")),
            ..BuildOptions::default()
        };
        assert_eq!(forced.cache_key(), key);
    }

    #[test]
    fn stages_keep_their_report_names() {
        for stage in [Stage::UpToDate, Stage::PartsWritten, Stage::PdfTypeset] {
            let json = serde_json::to_string(&stage).expect("json");
            assert_eq!(json, format!("\"{stage}\""));
        }
    }
}
