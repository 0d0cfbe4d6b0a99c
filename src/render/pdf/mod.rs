//! PDF renderer: model → Typst markup (layout template from `layouts/typst/`)
//! → compiled in-process with the Typst compiler → PDF via typst-pdf.
//! One combined book and one standalone booklet per part.

mod markup;
pub mod math;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;
use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};
use typst::foundations::{Datetime, Label, Smart};
use typst::model::Document as _;
use typst::utils::PicoStr;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions as TypstPdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::{Book, Pos};
use crate::render::BuildInfo;
use crate::render::booklet::{self, BookletOptions, Sheet};
use crate::render::layouts::Layouts;
use markup::{Gen, Generated, Settings};
pub use world::Fonts;
use world::{ImageStore, QuireWorld, main_source};

pub static DEFAULT_LAYOUTS: &[(&str, &str)] = &[(
    "typst/quire.typ",
    include_str!("../../../layouts/typst/quire.typ"),
)];

/// The Typst markup of a target, for inspection and fuzzing (no compile).
pub fn markup(book: &Book, paper: Paper) -> String {
    let fallback = BTreeSet::new();
    let settings = Settings {
        paper: paper.key(),
        print: true,
        math_fallback: &fallback,
    };
    Gen::new(book, &settings)
        .document("2000-01-01", "Quire")
        .text
}

/// A publisher's font folders: `fonts/` next to the content folder, or inside it.
pub fn font_dirs(content: &Path) -> Vec<PathBuf> {
    let parent = content.parent().map(Path::to_path_buf).unwrap_or_default();
    vec![parent.join("fonts"), content.join("fonts")]
}

/// Paper profiles; inner and outer margins differ for duplex printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Paper {
    #[default]
    A4,
    Letter,
    A5,
    #[value(name = "6x9")]
    SixByNine,
    /// 5.5 × 8.5 in: the page of a booklet printed on Letter sheets.
    #[value(name = "half-letter")]
    HalfLetter,
}

impl Paper {
    fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
            Paper::A5 => "a5",
            Paper::SixByNine => "sixbynine",
            Paper::HalfLetter => "halfletter",
        }
    }

    /// Booklets: the half-size page and the landscape sheet two of them fill.
    pub fn booklet(self) -> (Paper, Sheet) {
        match self {
            Paper::Letter | Paper::HalfLetter => (Paper::HalfLetter, Sheet::LETTER),
            Paper::A4 | Paper::A5 | Paper::SixByNine => (Paper::A5, Sheet::A4),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PdfOptions {
    pub paper: Paper,
}

/// Which PDF: the combined book, or one part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Book,
    Part(usize),
    /// A part imposed for saddle-stitch printing.
    Booklet(usize),
}

/// One rendered PDF.
pub struct Pdf {
    pub scope: Scope,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub pages: usize,
    pub warnings: Vec<Diagnostic>,
}

/// What a long-running process (`quire watch`) keeps between builds: the
/// fonts, loaded once, and the last generated source of each paper size.
/// Typst reparses only the edited part of a source it has seen, so spans of
/// the unchanged text stay the same and its memoised layout is reused.
pub struct Session {
    fonts: Arc<Fonts>,
    sources: Mutex<BTreeMap<&'static str, typst::syntax::Source>>,
}

impl Session {
    pub fn new(content: &Path) -> Self {
        Self {
            fonts: Arc::new(Fonts::load(&font_dirs(content))),
            sources: Mutex::new(BTreeMap::new()),
        }
    }

    /// The main source for this paper, edited in place when it exists.
    fn source(&self, paper: &'static str, text: String) -> typst::syntax::Source {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        match sources.get_mut(paper) {
            Some(src) => {
                src.replace(&text);
                src.clone()
            }
            None => {
                let src = main_source(text);
                sources.insert(paper, src.clone());
                src
            }
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

/// The PDFs of one build and where the time went.
pub struct Rendered {
    pub pdfs: Vec<Pdf>,
    /// Laying out the book (Typst compile).
    pub typeset_seconds: f64,
    /// Writing the book and every part as PDF (in parallel).
    pub export_seconds: f64,
}

/// Everything shared by the compiles of one build: fonts and images load once.
pub struct Renderer<'a> {
    book: &'a Book,
    opts: PdfOptions,
    info: BuildInfo,
    fonts: Arc<Fonts>,
    images: ImageStore,
    template: String,
    /// Watch mode: Typst's layout caches are kept between compiles instead of
    /// being freed as soon as a document is laid out, and sources are edited.
    session: Option<Arc<Session>>,
}

impl<'a> Renderer<'a> {
    pub fn new(
        book: &'a Book,
        opts: &PdfOptions,
        info: &BuildInfo,
        session: Option<&Arc<Session>>,
    ) -> Result<Self> {
        let layouts = Layouts::new(&book.root, DEFAULT_LAYOUTS);
        let template = layouts.get("typst/quire.typ")?.into_owned();
        let fonts = match session {
            Some(s) => s.fonts.clone(),
            None => Arc::new(Fonts::load(&font_dirs(&book.root))),
        };
        Ok(Self {
            book,
            opts: opts.clone(),
            info: info.clone(),
            fonts,
            images: ImageStore::new(book),
            template,
            session: session.cloned(),
        })
    }

    /// Output path of a target.
    pub fn path(&self, out_dir: &Path, scope: Scope) -> PathBuf {
        match scope {
            Scope::Book => out_dir.join(format!("{}.pdf", self.book.meta.slug)),
            Scope::Part(p) => {
                let part = &self.book.parts[p];
                out_dir
                    .join("pdf")
                    .join(format!("{:02}-{}.pdf", part.number, part.slug))
            }
            Scope::Booklet(p) => {
                let part = &self.book.parts[p];
                out_dir
                    .join("booklets")
                    .join(format!("{:02}-{}-booklet.pdf", part.number, part.slug))
            }
        }
    }

    /// Typesets the book once, then writes the combined PDF and one PDF per
    /// part, which is that part's page range of the book (parallel export).
    /// Content is laid out once, not twice: a part PDF has the book's page
    /// numbers and its own contents on the part's opening page.
    pub fn render_all(&self, out_dir: &Path) -> Result<Rendered> {
        let started = Instant::now();
        let (doc, warnings) = self.typeset()?;
        let typeset = started.elapsed().as_secs_f64();
        if self.session.is_none() {
            // The layout caches are only useful to a later compile; free them
            // before export so peak memory is the layout's, not layout + export.
            comemo::evict(0);
            trim_heap();
        }
        let ranges = self.part_ranges(&doc)?;
        let mut scopes = vec![Scope::Book];
        scopes.extend((0..self.book.parts.len()).map(Scope::Part));
        let mut warnings = Some(warnings);
        let jobs: Vec<(Scope, Vec<Diagnostic>)> = scopes
            .into_iter()
            .map(|s| (s, warnings.take().unwrap_or_default()))
            .collect();
        let started = Instant::now();
        let pdfs = jobs
            .into_par_iter()
            .map(|(scope, warnings)| {
                let (bytes, pages) = match scope {
                    Scope::Part(p) | Scope::Booklet(p) => {
                        let part = self.part_document(&doc, p, ranges[p].clone());
                        (self.export(&part)?, part.pages().len())
                    }
                    Scope::Book => (self.export(&doc)?, doc.pages().len()),
                };
                Ok(Pdf {
                    scope,
                    path: self.path(out_dir, scope),
                    bytes,
                    pages,
                    warnings,
                })
            })
            .collect::<Result<Vec<Pdf>>>()?;
        Ok(Rendered {
            pdfs,
            typeset_seconds: typeset,
            export_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Booklets of the given parts (all when `None`): the book is laid out at
    /// this renderer's (half-size) paper, each part's pages become a PDF, and
    /// that PDF is imposed onto `sheet`s.
    pub fn render_booklets(
        &self,
        parts: Option<&[usize]>,
        sheet: Sheet,
        opts: &BookletOptions,
        out_dir: &Path,
    ) -> Result<Vec<Pdf>> {
        let (doc, _) = self.typeset()?;
        if self.session.is_none() {
            comemo::evict(0);
        }
        let ranges = self.part_ranges(&doc)?;
        let wanted: Vec<usize> = match parts {
            Some(list) => list.to_vec(),
            None => (0..self.book.parts.len()).collect(),
        };
        wanted
            .into_par_iter()
            .map(|p| {
                let part = self.part_document(&doc, p, ranges[p].clone());
                let source = self.export(&part)?;
                let (bytes, pages) = impose_with(
                    &self.fonts,
                    source,
                    part.pages().len(),
                    sheet,
                    opts,
                    self.pdf_options()?,
                    self.today(),
                )?;
                Ok(Pdf {
                    scope: Scope::Booklet(p),
                    path: self.path(out_dir, Scope::Booklet(p)),
                    bytes,
                    pages,
                    warnings: Vec::new(),
                })
            })
            .collect()
    }

    /// Lays out the book. Math Typst rejects is retried as source text; other
    /// errors are final.
    fn typeset(&self) -> Result<(PagedDocument, Vec<Diagnostic>)> {
        let mut fallback: BTreeSet<(PathBuf, u32, u32)> = BTreeSet::new();
        for _ in 0..4 {
            let settings = Settings {
                paper: self.opts.paper.key(),
                print: true,
                math_fallback: &fallback,
            };
            let generated = Gen::new(self.book, &settings).document(
                &self.info.date(),
                &format!("Quire {}", self.info.quire_version),
            );
            match self.compile(&generated) {
                Ok((doc, mut warnings)) => {
                    let mut all = generated.warnings;
                    all.append(&mut warnings);
                    return Ok((doc, all));
                }
                Err(Failure::Math(spots)) if spots.iter().any(|s| !fallback.contains(s)) => {
                    fallback.extend(spots);
                }
                Err(Failure::Math(_)) => break,
                Err(Failure::Other(e)) => return Err(e),
            }
        }
        Err(Error::Internal("math fallback did not converge".into()))
    }

    /// Page index ranges (0-based, end exclusive) of every part in the book:
    /// from its opening page to the page before the next part or the indexes.
    fn part_ranges(&self, doc: &PagedDocument) -> Result<Vec<std::ops::Range<usize>>> {
        let page_of = |name: &str| -> Result<usize> {
            Label::new(PicoStr::intern(name))
                .and_then(|l| doc.introspector().elements().query_label(l).ok())
                .and_then(|c| c.location())
                .and_then(|loc| doc.introspector().position(loc))
                .map(|pos| pos.page.get() - 1)
                .ok_or_else(|| Error::Internal(format!("label <{name}> not laid out")))
        };
        let mut starts = Vec::with_capacity(self.book.parts.len() + 1);
        for part in &self.book.parts {
            starts.push(page_of(&markup::label_part(&part.id))?);
        }
        starts.push(page_of("tag-index")?);
        Ok(starts.windows(2).map(|w| w[0]..w[1]).collect())
    }

    /// A part as a document of its own: its pages, links and bookmarks (links
    /// to other parts are dropped by the export: their pages are not in it).
    fn part_document(
        &self,
        doc: &PagedDocument,
        p: usize,
        range: std::ops::Range<usize>,
    ) -> PagedDocument {
        let part = &self.book.parts[p];
        let mut info = doc.info().clone();
        info.title = Some(
            format!(
                "{}: Part {}, {}",
                self.book.meta.title, part.number, part.title
            )
            .into(),
        );
        PagedDocument::new(doc.pages()[range].iter().cloned().collect(), info)
    }

    fn today(&self) -> Datetime {
        let (y, m, d, h, mi, s) = crate::render::time::parts(self.info.epoch);
        Datetime::from_ymd_hms(y as i32, m as u8, d as u8, h as u8, mi as u8, s as u8)
            .unwrap_or_else(|| Datetime::from_ymd(2000, 1, 1).expect("valid date"))
    }

    fn compile(
        &self,
        generated: &Generated,
    ) -> std::result::Result<(PagedDocument, Vec<Diagnostic>), Failure> {
        let main = match &self.session {
            Some(s) => s.source(self.opts.paper.key(), generated.text.clone()),
            None => main_source(generated.text.clone()),
        };
        let world = QuireWorld::new(
            &self.fonts,
            &self.images,
            main,
            &[("/quire.typ", self.template.clone())],
            self.today(),
        );
        let warned = typst::compile::<PagedDocument>(&world);
        let warnings: Vec<Diagnostic> = warned
            .warnings
            .iter()
            .filter_map(|w| self.locate(&world, generated, w).map(|(d, _)| d))
            .collect();
        let doc = warned
            .output
            .map_err(|errors| self.failure(&world, generated, &errors))?;
        Ok((doc, warnings))
    }

    /// A laid-out document as PDF bytes: tagged, PDF/UA-1 when it qualifies.
    fn export(&self, doc: &PagedDocument) -> Result<Vec<u8>> {
        let mut options = TypstPdfOptions {
            standards: standards(&[PdfStandard::Ua_1])?,
            ..self.pdf_options()?
        };
        match typst_pdf::pdf(doc, &options) {
            Ok(b) => Ok(b),
            // PDF/UA-1 is strict; if some content can't meet it, a tagged PDF
            // without the claim is still accessible and honest.
            Err(_) => {
                options.standards = standards(&[])?;
                typst_pdf::pdf(doc, &options).map_err(|e| typst_error("pdf export", &e))
            }
        }
    }

    /// Export settings shared by every PDF: identifier, creator, fixed date.
    fn pdf_options(&self) -> Result<TypstPdfOptions> {
        Ok(TypstPdfOptions {
            ident: Smart::Custom(format!(
                "{}#{}",
                self.book.meta.identifier, self.book.meta.slug
            )),
            creator: Smart::Custom(Some(format!("Quire {}", self.info.quire_version))),
            timestamp: Some(Timestamp::new_utc(self.today())),
            standards: standards(&[])?,
            ..TypstPdfOptions::default()
        })
    }

    /// A Typst diagnostic as a Markdown diagnostic, when it points into generated text.
    fn locate(
        &self,
        world: &QuireWorld<'_>,
        generated: &Generated,
        d: &SourceDiagnostic,
    ) -> Option<(Diagnostic, bool)> {
        let severity = match d.severity {
            TypstSeverity::Error => Severity::Error,
            TypstSeverity::Warning => Severity::Warning,
        };
        let span = d.span;
        let in_main = span.id() == Some(world.main_source().id());
        let entry = if in_main {
            world
                .range(span)
                .and_then(|r| generated.map.iter().rev().find(|e| e.offset <= r.start))
        } else {
            None
        };
        match entry {
            Some(e) => Some((
                Diagnostic {
                    severity,
                    file: e.file.clone(),
                    pos: e.pos,
                    message: format!("typesetting: {}", d.message),
                },
                e.math,
            )),
            None if severity == Severity::Error => Some((
                Diagnostic {
                    severity,
                    file: self.book.root.join("layouts/typst/quire.typ"),
                    pos: Pos { line: 1, col: 1 },
                    message: format!("typesetting (layout): {}", d.message),
                },
                false,
            )),
            // Layout warnings that can't be tied to the book are not the author's to fix.
            None => None,
        }
    }

    fn failure(
        &self,
        world: &QuireWorld<'_>,
        generated: &Generated,
        errors: &[SourceDiagnostic],
    ) -> Failure {
        let located: Vec<(Diagnostic, bool)> = errors
            .iter()
            .filter_map(|e| self.locate(world, generated, e))
            .collect();
        if !located.is_empty() && located.iter().all(|(_, math)| *math) {
            return Failure::Math(
                located
                    .into_iter()
                    .map(|(d, _)| (d.file, d.pos.line, d.pos.col))
                    .collect(),
            );
        }
        Failure::Other(Error::Content(
            located.into_iter().map(|(d, _)| d).collect(),
        ))
    }
}

/// Imposes a finished PDF of `pages` half-size pages onto `sheet`s: (PDF, sides).
pub fn impose(
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
) -> Result<(Vec<u8>, usize)> {
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let options = TypstPdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..TypstPdfOptions::default()
    };
    impose_with(&Fonts::load(&[]), pdf, pages, sheet, opts, options, epoch)
}

fn impose_with(
    fonts: &Fonts,
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
    options: TypstPdfOptions,
    today: Datetime,
) -> Result<(Vec<u8>, usize)> {
    let images = ImageStore::empty();
    let world = QuireWorld::new(
        fonts,
        &images,
        main_source(booklet::markup(pages, sheet, opts)),
        &[],
        today,
    )
    .with_file("/part.pdf", pdf);
    let imposed = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("imposition", &e))?;
    // A print artefact: pages of another PDF, no structure of its own to tag.
    let options = TypstPdfOptions {
        tagged: false,
        ..options
    };
    let bytes =
        typst_pdf::pdf(&imposed, &options).map_err(|e| typst_error("booklet export", &e))?;
    Ok((bytes, imposed.pages().len()))
}

/// Typesets standalone Typst markup with Quire's fonts (test documents,
/// numbered pages for imposition checks): (PDF, pages).
pub fn typeset_markup(markup: &str) -> Result<(Vec<u8>, usize)> {
    let fonts = Fonts::load(&[]);
    let images = ImageStore::empty();
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let world = QuireWorld::new(&fonts, &images, main_source(markup.to_string()), &[], epoch);
    let doc = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("typesetting", &e))?;
    let options = TypstPdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..TypstPdfOptions::default()
    };
    let bytes = typst_pdf::pdf(&doc, &options).map_err(|e| typst_error("pdf export", &e))?;
    Ok((bytes, doc.pages().len()))
}

/// Hands freed heap pages back to the OS (glibc keeps them otherwise, and
/// the export would add its peak on top of the layout's).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointers are touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn standards(list: &[PdfStandard]) -> Result<PdfStandards> {
    PdfStandards::new(list).map_err(|e| Error::Internal(format!("pdf standards: {}", e.message())))
}

/// A Typst failure in generated (not book) markup: a bug, reported as such.
fn typst_error(what: &str, errors: &[SourceDiagnostic]) -> Error {
    let first = errors.first().map(|e| e.message.to_string());
    Error::Internal(format!("{what}: {}", first.unwrap_or_default()))
}

enum Failure {
    Math(Vec<(PathBuf, u32, u32)>),
    Other(Error),
}
