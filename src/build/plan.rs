//! What a build makes: the list of targets (each reader file, the book PDF,
//! each part PDF, each booklet) and the settings they are rendered with,
//! decided once from the command line's options over the book's own
//! settings. The run turns the targets into artifacts; a new format is a
//! target here, a renderer, and a flag in the CLI.

use super::BuildOptions;
use crate::error::{Error, Result};
use crate::model::Book;
use crate::render::booklet::BookletOptions;
use crate::render::{pdf, readers};

/// One output of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The EPUB 3.
    Epub,
    /// The Kindle file.
    Kindle,
    /// The Kobo kepub.
    Kobo,
    /// The combined book PDF.
    BookPdf,
    /// A part's own PDF.
    PartPdf(usize),
    /// A part imposed as a study booklet.
    Booklet(usize),
}

/// The targets of one build and how they are rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// The book and part PDFs' layout.
    pub pdf: pdf::PdfOptions,
    /// How booklets are imposed.
    pub imposition: BookletOptions,
}

impl Plan {
    /// The targets `opts` ask for (the command line's formats, else
    /// book.toml's `[build] formats`), with the command line's PDF settings
    /// over the book's `[pdf]`.
    pub fn new(book: &Book, opts: &BuildOptions) -> Result<Plan> {
        let (epub, kindle, kobo, pdf, booklets) = if opts.formats_from_book {
            let f = book.meta.formats.unwrap_or_default();
            let booklets = opts.booklets.clone().or(f.booklets.then_some(None));
            (f.epub, f.kindle, f.kobo, f.pdf, booklets)
        } else {
            let o = opts;
            (o.epub, o.kindle, o.kobo, o.pdf, o.booklets.clone())
        };
        let mut targets = Vec::new();
        for (wanted, target) in [
            (epub, Target::Epub),
            (kindle, Target::Kindle),
            (kobo, Target::Kobo),
            (pdf, Target::BookPdf),
        ] {
            if wanted {
                targets.push(target);
            }
        }
        if pdf {
            targets.extend((0..book.parts.len()).map(Target::PartPdf));
        }
        match booklets {
            Some(Some(names)) => {
                for n in &names {
                    targets.push(Target::Booklet(part_index(book, n)?));
                }
            }
            Some(None) => targets.extend((0..book.parts.len()).map(Target::Booklet)),
            None => {}
        }
        let settings = opts.pdf_settings.or(book.meta.pdf);
        let defaults = BookletOptions::default();
        let paper = settings.paper.unwrap_or_default();
        // A screen shows one page at a time: nothing opens "on the right".
        let screen = !crate::model::paper::Profile::of(paper).duplex;
        let or_screen = |o: pdf::Open| if screen { pdf::Open::Any } else { o };
        Ok(Plan {
            targets,
            pdf: pdf::PdfOptions {
                paper,
                open: settings.open.unwrap_or(or_screen(pdf::Open::MODULES)),
                part_open: settings.part_open.unwrap_or(or_screen(pdf::Open::PARTS)),
                assembly: settings.assembly.unwrap_or_default(),
            },
            imposition: BookletOptions {
                signature: settings.signature.map_or(defaults.signature, usize::from),
                marks: settings.marks.unwrap_or(defaults.marks),
                creep_mm: settings.creep.unwrap_or(defaults.creep_mm),
            },
        })
    }

    /// The reader files wanted.
    pub fn readers(&self) -> readers::Wanted {
        let has = |t| self.targets.contains(&t);
        readers::Wanted {
            epub: has(Target::Epub),
            kindle: has(Target::Kindle),
            kobo: has(Target::Kobo),
        }
    }

    /// The PDFs typeset from the book's layout, the book first.
    pub fn pdfs(&self) -> Vec<pdf::Scope> {
        self.targets
            .iter()
            .filter_map(|t| match t {
                Target::BookPdf => Some(pdf::Scope::Book),
                Target::PartPdf(p) => Some(pdf::Scope::Part(*p)),
                _ => None,
            })
            .collect()
    }

    /// The parts imposed as booklets.
    pub fn booklets(&self) -> Vec<usize> {
        self.targets
            .iter()
            .filter_map(|t| match t {
                Target::Booklet(p) => Some(*p),
                _ => None,
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::print::Paper;

    fn plan(targets: Vec<Target>) -> Plan {
        Plan {
            targets,
            pdf: pdf::PdfOptions::default(),
            imposition: BookletOptions::default(),
        }
    }

    #[test]
    fn each_renderer_reads_its_targets() {
        let p = plan(vec![
            Target::Kobo,
            Target::BookPdf,
            Target::PartPdf(0),
            Target::PartPdf(1),
            Target::Booklet(1),
        ]);
        let r = p.readers();
        assert!(!r.epub && !r.kindle && r.kobo);
        assert_eq!(
            p.pdfs(),
            [pdf::Scope::Book, pdf::Scope::Part(0), pdf::Scope::Part(1)]
        );
        assert_eq!(p.booklets(), [1]);
        assert_eq!(p.pdf.paper, Paper::A4);
        let none = plan(vec![Target::Epub]);
        assert!(none.pdfs().is_empty() && none.booklets().is_empty());
    }
}
