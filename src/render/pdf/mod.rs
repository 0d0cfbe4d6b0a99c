//! PDF renderer: model → Typst markup (layout template from `layouts/typst/`)
//! → compiled in-process with the Typst compiler → PDF via typst-pdf.
//! One combined book and one standalone booklet per part.

mod markup;
pub mod math;
mod world;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions as TypstPdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::{Book, Pos};
use crate::render::BuildInfo;
use crate::render::layouts::Layouts;
pub use markup::Scope;
use markup::{Gen, Generated, Settings};
pub use world::Fonts;
use world::{ImageStore, QuireWorld};

pub static DEFAULT_LAYOUTS: &[(&str, &str)] = &[(
    "typst/quire.typ",
    include_str!("../../../layouts/typst/quire.typ"),
)];

/// The Typst markup of a target, for inspection and fuzzing (no compile).
pub fn markup(book: &Book, scope: Scope, paper: Paper) -> String {
    let fallback = BTreeSet::new();
    let settings = Settings {
        paper: paper.key(),
        print: true,
        math_fallback: &fallback,
    };
    Gen::new(book, scope, &settings)
        .document("2000-01-01", "Quire")
        .text
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
}

impl Paper {
    fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
            Paper::A5 => "a5",
            Paper::SixByNine => "sixbynine",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PdfOptions {
    pub paper: Paper,
}

/// One rendered PDF.
pub struct Pdf {
    pub scope: Scope,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub pages: usize,
    pub warnings: Vec<Diagnostic>,
}

/// Everything shared by the compiles of one build: fonts and images load once.
pub struct Renderer<'a> {
    book: &'a Book,
    opts: PdfOptions,
    info: BuildInfo,
    fonts: Fonts,
    images: ImageStore,
    template: String,
}

impl<'a> Renderer<'a> {
    pub fn new(book: &'a Book, opts: &PdfOptions, info: &BuildInfo) -> Result<Self> {
        let layouts = Layouts::new(&book.root, DEFAULT_LAYOUTS);
        let template = layouts.get("typst/quire.typ")?.into_owned();
        // A publisher's fonts: `fonts/` next to the content folder, or inside it.
        let parent = book
            .root
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let fonts = Fonts::load(&[parent.join("fonts"), book.root.join("fonts")]);
        Ok(Self {
            book,
            opts: opts.clone(),
            info: info.clone(),
            fonts,
            images: ImageStore::new(book),
            template,
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
        }
    }

    /// Renders every part booklet and the combined book (parts in parallel).
    pub fn render_all(&self, out_dir: &Path) -> Result<Vec<Pdf>> {
        let mut scopes: Vec<Scope> = (0..self.book.parts.len()).map(Scope::Part).collect();
        scopes.push(Scope::Book);
        scopes
            .into_par_iter()
            .map(|s| {
                let (bytes, pages, warnings) = self.render(s)?;
                Ok(Pdf {
                    scope: s,
                    path: self.path(out_dir, s),
                    bytes,
                    pages,
                    warnings,
                })
            })
            .collect()
    }

    /// Renders one target: (PDF bytes, page count, warnings).
    pub fn render(&self, scope: Scope) -> Result<(Vec<u8>, usize, Vec<Diagnostic>)> {
        let mut fallback: BTreeSet<(PathBuf, u32, u32)> = BTreeSet::new();
        // Math Typst rejects is retried as source text; other errors are final.
        for _ in 0..4 {
            let settings = Settings {
                paper: self.opts.paper.key(),
                print: true,
                math_fallback: &fallback,
            };
            let generated = Gen::new(self.book, scope, &settings).document(
                &self.info.date(),
                &format!("Quire {}", self.info.quire_version),
            );
            match self.compile(&generated) {
                Ok((bytes, pages, mut warnings)) => {
                    let mut all = generated.warnings;
                    all.append(&mut warnings);
                    return Ok((bytes, pages, all));
                }
                Err(Failure::Math(spots)) if spots.iter().any(|s| !fallback.contains(s)) => {
                    fallback.extend(spots);
                }
                Err(Failure::Math(_)) => {
                    return Err(Error::Internal("math fallback did not converge".into()));
                }
                Err(Failure::Other(e)) => return Err(e),
            }
        }
        Err(Error::Internal("math fallback did not converge".into()))
    }

    fn today(&self) -> Datetime {
        let (y, m, d, h, mi, s) = crate::render::time::parts(self.info.epoch);
        Datetime::from_ymd_hms(y as i32, m as u8, d as u8, h as u8, mi as u8, s as u8)
            .unwrap_or_else(|| Datetime::from_ymd(2000, 1, 1).expect("valid date"))
    }

    fn compile(
        &self,
        generated: &Generated,
    ) -> std::result::Result<(Vec<u8>, usize, Vec<Diagnostic>), Failure> {
        let world = QuireWorld::new(
            &self.fonts,
            &self.images,
            generated.text.clone(),
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
        let pages = doc.pages().len();
        let standards = |list: &[PdfStandard]| {
            PdfStandards::new(list)
                .map_err(|e| Error::Internal(format!("pdf standards: {}", e.message())))
        };
        let mut options = TypstPdfOptions {
            ident: Smart::Custom(format!(
                "{}#{}",
                self.book.meta.identifier, self.book.meta.slug
            )),
            creator: Smart::Custom(Some(format!("Quire {}", self.info.quire_version))),
            timestamp: Some(Timestamp::new_utc(self.today())),
            standards: standards(&[PdfStandard::Ua_1]).map_err(Failure::Other)?,
            ..TypstPdfOptions::default()
        };
        let bytes = match typst_pdf::pdf(&doc, &options) {
            Ok(b) => b,
            // PDF/UA-1 is strict; if some content can't meet it, a tagged PDF
            // without the claim is still accessible and honest.
            Err(_) => {
                options.standards = standards(&[]).map_err(Failure::Other)?;
                typst_pdf::pdf(&doc, &options)
                    .map_err(|errors| self.failure(&world, generated, &errors))?
            }
        };
        Ok((bytes, pages, warnings))
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

enum Failure {
    Math(Vec<(PathBuf, u32, u32)>),
    Other(Error),
}
