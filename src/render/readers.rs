//! The files for e-readers of one build: the EPUB, the Kindle file and the
//! Kobo file, each opt-in, rendered from the same model and the same print
//! page map (the book PDF's, laid out in the same build, or stored by the
//! last PDF build of the same content and paper).

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Severity};
use crate::error::Result;
use crate::model::{Book, Index};
use crate::render::BuildInfo;
use crate::render::epub::{self, kindle};
use crate::render::pagelist::PageList;
use crate::render::pdf;

/// Which reader files a build writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    pub epub: bool,
    pub kindle: bool,
    pub kobo: bool,
}

impl Wanted {
    pub fn any(self) -> bool {
        self.epub || self.kindle || self.kobo
    }
}

/// One rendered file: its report kind, path and bytes.
pub struct File {
    pub kind: &'static str,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The files and what rendering them warned about.
pub struct Rendered {
    pub files: Vec<File>,
    pub warnings: Vec<Diagnostic>,
}

/// The EPUB's `pageBreakSource`: the print edition its page numbers are from.
pub fn page_source(book: &Book, paper: pdf::Paper) -> String {
    let paper = match paper {
        pdf::Paper::A4 => "A4",
        pdf::Paper::Letter => "US Letter",
        pdf::Paper::A5 => "A5",
        pdf::Paper::SixByNine => "6 × 9 in",
        pdf::Paper::HalfLetter => "half-letter",
        pdf::Paper::Ereader => "e-reader screen",
        pdf::Paper::Tablet => "e-ink tablet screen",
    };
    format!(
        "{}, version {}: the print book (PDF, {paper})",
        book.meta.title, book.meta.version
    )
}

/// Where a page map is kept for `quire build --epub`: by a hash of the
/// content, fonts, Quire and the PDF settings (see `build`).
fn pages_file(out: &Path, key: &str) -> PathBuf {
    out.join(".cache").join(format!("pages-{key}.json"))
}

/// Stores the page map of a PDF build (maps of other content or settings
/// are removed: they can only be stale).
pub fn store_pages(out: &Path, key: &str, pages: &PageList) {
    let path = pages_file(out, key);
    let Ok(json) = serde_json::to_vec(pages) else {
        return;
    };
    if let Ok(entries) = std::fs::read_dir(out.join(".cache")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("pages-") && e.path() != path {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    // A page map that can't be stored only means the next EPUB-only build
    // goes without page numbers.
    let _ = crate::render::output::write_atomic(&path, &json);
}

/// The page map a PDF build of exactly this content and these settings stored.
pub fn load_pages(out: &Path, key: &str) -> Option<PageList> {
    let bytes = std::fs::read(pages_file(out, key)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Renders the wanted files. `fonts`: the PDFs' (the Kindle file's formulas
/// are typeset with them).
pub fn render(
    book: &Book,
    index: &Index,
    info: &BuildInfo,
    out: &Path,
    wanted: Wanted,
    pages: Option<&PageList>,
    fonts: &pdf::Fonts,
) -> Result<Rendered> {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let variant = epub::Variant {
        pages,
        kindle: None,
    };
    let (plain, kindle_file) = rayon::join(
        || {
            (wanted.epub || wanted.kobo)
                .then(|| epub::render_with(book, index, info, variant))
                .transpose()
        },
        || {
            wanted
                .kindle
                .then(|| {
                    let assets = kindle_assets(book, fonts);
                    epub::render_with(
                        book,
                        index,
                        info,
                        epub::Variant {
                            kindle: Some(&assets),
                            ..variant
                        },
                    )
                })
                .transpose()
        },
    );
    if let Some(e) = plain? {
        if wanted.kobo {
            files.push(File {
                kind: "epub-kobo",
                path: epub::kobo_path(book, out),
                bytes: e.kepub(info)?,
            });
        }
        if wanted.epub {
            files.insert(
                0,
                File {
                    kind: "epub",
                    path: epub::output_path(book, out),
                    bytes: e.bytes,
                },
            );
        }
        warnings.extend(e.warnings);
    }
    if let Some(k) = kindle_file? {
        // The EPUB's own warnings are the Kindle file's too: said once.
        let known: std::collections::BTreeSet<String> = warnings
            .iter()
            .map(|w: &Diagnostic| w.to_string())
            .collect();
        warnings.extend(
            k.warnings
                .into_iter()
                .filter(|w| !known.contains(&w.to_string())),
        );
        files.push(File {
            kind: "epub-kindle",
            path: epub::kindle_path(book, out),
            bytes: k.bytes,
        });
    }
    Ok(Rendered { files, warnings })
}

/// Every formula of the book typeset (the PDFs' Typst, fonts and math font)
/// and drawn as a PNG; one Typst cannot set is a warning at its first use.
pub fn kindle_assets(book: &Book, fonts: &pdf::Fonts) -> kindle::Assets {
    let list = kindle::formulas(book);
    let keys: Vec<(String, bool)> = list.iter().map(|(k, _, _)| k.clone()).collect();
    let typeset = pdf::formula::typeset(fonts, &keys);
    let mut assets = kindle::Assets::default();
    for (((tex, display), file, pos), formula) in list.into_iter().zip(typeset) {
        let image = formula.and_then(|f| {
            // 4 px a point: a 12 pt line is 48 px, crisp at 300 ppi.
            let scale = 4.0;
            let w = (f.width * scale).ceil() as u32;
            let h = (f.height * scale).ceil() as u32;
            let tree =
                resvg::usvg::Tree::from_str(&f.svg, &resvg::usvg::Options::default()).ok()?;
            // usvg reads the SVG's points as CSS pixels (4/3 of a point).
            let s = (f64::from(w) / f64::from(tree.size().width())) as f32;
            let png = kindle::png_of(w, h, |pixmap| {
                resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(s, s), pixmap)
            })
            .ok()?;
            let em = pdf::formula::SIZE_PT;
            Some(kindle::MathImage {
                href: kindle::math_href(&tex, display),
                png,
                width_em: f.width / em,
                height_em: f.height / em,
                depth_em: (f.height - f.baseline) / em,
            })
        });
        match image {
            Some(img) => {
                assets.math.insert((tex, display), img);
            }
            None => assets.warnings.push(Diagnostic {
                severity: Severity::Warning,
                file,
                pos,
                message: "Kindle: this formula could not be typeset as an image; its TeX is shown"
                    .into(),
            }),
        }
    }
    assets
}
