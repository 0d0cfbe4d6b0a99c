//! The package around the pages: the resources (stylesheet, cover, images,
//! formula images, the monospace font), the manifest and spine, and the
//! OPF, nav and NCX that describe them.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{Environment, Value};
use serde::Serialize;

use super::pages::{Moved, Site};
use super::view::{IndexPage, PartView, to_value};
use super::{assets, kindle, render_template};
use crate::diag::Diagnostic;
use crate::error::Result;
use crate::model::{Book, ImageFormat};
use crate::render::BuildInfo;

#[derive(Serialize)]
struct ManifestItem {
    id: String,
    href: String,
    media_type: &'static str,
    properties: String,
}

#[derive(Serialize)]
struct NcxPoint {
    id: String,
    order: usize,
    label: String,
    src: String,
    children: Vec<NcxPoint>,
}

#[derive(Serialize)]
struct SpineItem {
    id: String,
    /// Off the reading order (a figure's plate): reached only by its link.
    linear: bool,
}

#[derive(Default)]
pub(super) struct Package {
    pub(super) files: BTreeMap<String, Vec<u8>>,
    manifest: Vec<ManifestItem>,
    spine: Vec<SpineItem>,
}

impl Package {
    pub(super) fn add(
        &mut self,
        href: &str,
        id: &str,
        media_type: &'static str,
        properties: &str,
        bytes: Vec<u8>,
    ) {
        self.files.insert(format!("EPUB/{href}"), bytes);
        self.manifest.push(ManifestItem {
            id: id.to_string(),
            href: href.to_string(),
            media_type,
            properties: properties.to_string(),
        });
    }

    pub(super) fn page(&mut self, name: &str, id: &str, properties: &str, html: String) {
        self.add(
            &format!("text/{name}"),
            id,
            "application/xhtml+xml",
            properties,
            html.into_bytes(),
        );
        self.spine.push(SpineItem {
            id: id.to_string(),
            linear: true,
        });
    }

    /// Takes the last page added off the reading order.
    pub(super) fn off_spine(&mut self) {
        if let Some(last) = self.spine.last_mut() {
            last.linear = false;
        }
    }

    /// The spine's pages, as zip entry names.
    pub(super) fn spine_pages(&self) -> Vec<String> {
        self.spine
            .iter()
            .filter_map(|item| self.manifest.iter().find(|m| m.id == item.id))
            .map(|m| format!("EPUB/{}", m.href))
            .collect()
    }
}

/// The stylesheet, the cover and the images (once each, in model order).
/// Returns the cover's link from a page and each image's.
pub(super) fn add_resources(
    pkg: &mut Package,
    book: &Book,
    css: String,
    kindle: Option<&kindle::Assets>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(&'static str, Vec<String>)> {
    let css = match kindle {
        Some(_) => kindle::stylesheet(&css),
        None => css,
    };
    pkg.add("css/book.css", "css", "text/css", "", css.into_bytes());
    let cover_png = assets::cover_png(book)?;
    let cover_src = match kindle {
        Some(_) => {
            let jpeg = kindle::cover_jpeg(&cover_png)?;
            pkg.add(
                "images/cover.jpg",
                "cover-image",
                "image/jpeg",
                "cover-image",
                jpeg,
            );
            "../images/cover.jpg"
        }
        None => {
            pkg.add(
                "images/cover.png",
                "cover-image",
                "image/png",
                "cover-image",
                cover_png,
            );
            "../images/cover.png"
        }
    };
    let mut image_hrefs = Vec::with_capacity(book.images.len());
    for (i, img) in book.images.iter().enumerate() {
        // WebP is stored as PNG (EPUB 3.2 readers need not show WebP).
        let (bytes, format) = assets::image_bytes(img)?;
        // Kindle sets SVG text in its own fonts, or not at all: drawn here.
        let (bytes, format) = match kindle {
            Some(_) if format == ImageFormat::Svg && kindle::has_live_text(&bytes) => {
                let width = img.width.max(1).saturating_mul(2).min(assets::MAX_IMAGE_PX);
                match kindle::rasterize_svg(&bytes, width) {
                    Ok(png) => (png, ImageFormat::Png),
                    Err(e) => {
                        warnings.push(Diagnostic {
                            severity: crate::diag::Severity::Warning,
                            file: img.path.clone(),
                            pos: crate::model::Pos { line: 1, col: 1 },
                            message: format!(
                                "Kindle: an SVG with live text that could not be drawn as PNG ({e})"
                            ),
                        });
                        (bytes, format)
                    }
                }
            }
            _ => (bytes, format),
        };
        let href = format!(
            "images/img-{:03}-{}.{}",
            i + 1,
            safe_stem(&img.rel),
            format.ext()
        );
        pkg.add(
            &href,
            &format!("img-{:03}", i + 1),
            format.media_type(),
            "",
            bytes,
        );
        image_hrefs.push(format!("../{href}"));
    }
    Ok((cover_src, image_hrefs))
}

/// Kindle: the formulas' images, once each.
pub(super) fn add_math_images(pkg: &mut Package, k: &kindle::Assets) {
    let mut images: Vec<&kindle::MathImage> = k.math.values().collect();
    images.sort_by(|a, b| a.href.cmp(&b.href));
    images.dedup_by(|a, b| a.href == b.href);
    for (n, img) in images.into_iter().enumerate() {
        pkg.add(
            &img.href,
            &format!("math-{}", n + 1),
            "image/png",
            "",
            img.png.clone(),
        );
    }
}

/// The monospace font, cut down to the characters the pages show in it.
pub(super) fn add_mono_font(pkg: &mut Package) -> Result<()> {
    let mut mono_chars = BTreeSet::new();
    for (name, bytes) in &pkg.files {
        if name.ends_with(".xhtml") {
            assets::collect_monospace_chars(&String::from_utf8_lossy(bytes), &mut mono_chars);
        }
    }
    pkg.add(
        "fonts/DejaVuSansMono.ttf",
        "font-mono",
        "application/font-sfnt",
        "",
        assets::mono_font_subset(&mono_chars)?,
    );
    Ok(())
}

/// Kindle: links to what moved to another file of a cut page.
pub(super) fn retarget_moved(pkg: &mut Package, moved_ids: &[Moved]) {
    for (file, names, moved) in moved_ids {
        for (name, bytes) in pkg.files.iter_mut() {
            if !name.ends_with(".xhtml") {
                continue;
            }
            let page = name.trim_start_matches("EPUB/text/");
            let own = names.iter().any(|n| n == page).then_some(page);
            let text = String::from_utf8_lossy(bytes);
            let new = kindle::retarget(&text, file, moved, own);
            if new != text {
                *bytes = new.into_bytes();
            }
        }
    }
}

/// What the navigation lists besides the front matter.
pub(super) struct Toc<'a> {
    pub(super) parts: &'a [PartView],
    /// The tag index's files.
    pub(super) index_pages: &'a [IndexPage],
    pub(super) has_difficulty: bool,
}

/// Navigation: nav.xhtml (EPUB 3) and toc.ncx (for EPUB 2 readers), their
/// links to a cut page's moved ids retargeted.
pub(super) fn add_navigation(
    env: &Environment<'_>,
    pkg: &mut Package,
    book: &Book,
    toc: &Toc<'_>,
    page_list: Vec<Value>,
    moved_ids: &[Moved],
) -> Result<()> {
    let &Toc {
        parts,
        index_pages,
        has_difficulty,
    } = toc;
    let lang = book.meta.language.clone();
    let index_files: Vec<Value> = index_pages
        .iter()
        .map(|p| {
            Value::from_pairs([
                ("file", Value::from(p.file.clone())),
                ("range", Value::from(p.range.clone())),
            ])
        })
        .collect();
    let nav = render_template(
        env,
        "epub/nav.xhtml.j2",
        Value::from_pairs([
            ("lang", Value::from(lang.clone())),
            ("book", to_value(&book.meta)),
            ("parts", to_value(&parts)),
            ("has_difficulty", Value::from(has_difficulty)),
            ("index_files", Value::from(index_files)),
            ("page_list", Value::from(page_list)),
        ]),
    )?;
    let nav = moved_ids.iter().fold(nav, |nav, (file, _, moved)| {
        kindle::retarget(&nav, file, moved, None)
    });
    pkg.add(
        "nav.xhtml",
        "nav",
        "application/xhtml+xml",
        "nav",
        nav.into_bytes(),
    );
    let ncx = render_template(
        env,
        "epub/toc.ncx.j2",
        Value::from_pairs([
            ("lang", Value::from(lang.clone())),
            ("book", to_value(&book.meta)),
            (
                "ncx",
                to_value(&ncx_points(parts, index_pages, has_difficulty)),
            ),
        ]),
    )?;
    let ncx = moved_ids.iter().fold(ncx, |ncx, (file, _, moved)| {
        kindle::retarget(&ncx, file, moved, None)
    });
    pkg.add(
        "toc.ncx",
        "ncx",
        "application/x-dtbncx+xml",
        "",
        ncx.into_bytes(),
    );
    Ok(())
}

/// The OPF: metadata, manifest and spine.
pub(super) fn opf(
    site: &Site<'_>,
    pkg: &Package,
    info: &BuildInfo,
    has_math: bool,
    page_source: &str,
) -> Result<String> {
    let book = site.book;
    let kindle = site.variant.kindle;
    let lang = book.meta.language.clone();
    let subjects: Vec<&str> = site.index.tags.values().map(|t| t.name.as_str()).collect();
    render_template(
        site.env,
        "epub/package.opf.j2",
        Value::from_pairs([
            ("lang", Value::from(lang.clone())),
            ("book", to_value(&book.meta)),
            ("build_date", Value::from(info.date())),
            ("modified", Value::from(info.datetime())),
            ("subjects", to_value(&subjects)),
            ("has_images", Value::from(!book.images.is_empty())),
            ("has_math", Value::from(has_math)),
            (
                "a11y_summary",
                Value::from(a11y_summary(
                    book,
                    !subjects.is_empty(),
                    has_math,
                    kindle.is_some_and(|k| !k.math.is_empty()),
                    !page_source.is_empty(),
                )),
            ),
            ("page_source", Value::from(page_source)),
            (
                "certified_by",
                Value::from(format!("Quire {} automated checks", info.quire_version)),
            ),
            ("manifest", to_value(&pkg.manifest)),
            ("spine", to_value(&pkg.spine)),
        ]),
    )
}

fn a11y_summary(
    book: &Book,
    has_index: bool,
    has_math: bool,
    math_images: bool,
    print_pages: bool,
) -> String {
    let mut s = String::from(if has_index {
        "Structured with headings, a table of contents, landmarks and an index; reading order follows the print book. "
    } else {
        "Structured with headings, a table of contents and landmarks; reading order follows the print book. "
    });
    if !book.images.is_empty() {
        s.push_str("Figures carry text alternatives and captions. ");
    }
    if has_math {
        s.push_str(
            "Mathematics is in MathML with the TeX source as alternative text, and written out as plain text (10⁵, a/b) for reading systems without MathML. ",
        );
    }
    if math_images {
        s.push_str("Formulas are images with their TeX source as alternative text. ");
    }
    if print_pages {
        s.push_str("Page-break markers and a page list give the page numbers of the print book. ");
    }
    s.push_str(
        "Difficulty is shown as text, not by colour alone. No flashing content, sound or motion.",
    );
    s
}

fn ncx_points(parts: &[PartView], index: &[IndexPage], has_difficulty: bool) -> Vec<NcxPoint> {
    let mut order = 0;
    let mut next = || {
        order += 1;
        order
    };
    let mut points = vec![
        NcxPoint {
            id: "nav-titlepage".into(),
            order: next(),
            label: "Title page".into(),
            src: "text/titlepage.xhtml".into(),
            children: vec![],
        },
        NcxPoint {
            id: "nav-contents".into(),
            order: next(),
            label: "Contents".into(),
            src: "text/contents.xhtml".into(),
            children: vec![],
        },
    ];
    for p in parts {
        let mut part = NcxPoint {
            id: format!("nav-{}", p.id),
            order: next(),
            label: format!("{}: {}", p.label, p.title),
            src: format!("text/{}", p.href),
            children: vec![],
        };
        // A part's page's sections, before its modules (as in the nav).
        for (k, s) in p.sections.iter().enumerate() {
            part.children.push(NcxPoint {
                id: format!("nav-{}-{}", p.id, k + 1),
                order: next(),
                label: s.title.clone(),
                src: format!("text/{}", s.href),
                children: vec![],
            });
        }
        for m in &p.modules {
            let mut module = NcxPoint {
                id: format!("nav-m-{}", m.id),
                order: next(),
                label: m.title.clone(),
                src: format!("text/{}", m.href),
                children: vec![],
            };
            for (k, s) in m.sections.iter().enumerate() {
                module.children.push(NcxPoint {
                    id: format!("nav-m-{}-{}", m.id, k + 1),
                    order: next(),
                    label: s.title.clone(),
                    src: format!("text/{}", s.href),
                    children: vec![],
                });
            }
            part.children.push(module);
        }
        points.push(part);
    }
    // No tags, no tag index (and no playOrder taken for it).
    if !index.is_empty() {
        let mut tag_index = NcxPoint {
            id: "nav-tag-index".into(),
            order: next(),
            label: "Index of technologies".into(),
            src: "text/tag-index.xhtml".into(),
            children: vec![],
        };
        if index.len() > 1 {
            // The first file is the parent itself: NCX wants one playOrder per target.
            for (k, page) in index.iter().enumerate().skip(1) {
                tag_index.children.push(NcxPoint {
                    id: format!("nav-tag-index-{}", k + 1),
                    order: next(),
                    label: page.range.clone(),
                    src: format!("text/{}", page.file),
                    children: vec![],
                });
            }
        }
        points.push(tag_index);
    }
    if has_difficulty {
        points.push(NcxPoint {
            id: "nav-difficulty-index".into(),
            order: next(),
            label: "Modules by difficulty".into(),
            src: "text/difficulty-index.xhtml".into(),
            children: vec![],
        });
    }
    points
}

/// A file-name-safe version of an image's name.
fn safe_stem(rel: &str) -> String {
    let stem = rel.rsplit('/').next().unwrap_or(rel);
    let stem = stem.rsplit_once('.').map(|(s, _)| s).unwrap_or(stem);
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() { "image".into() } else { s }
}
