//! EPUB 3 renderer: model → XHTML pages (minijinja templates from `layouts/epub/`)
//! → OPF, nav, NCX → a reproducible OCF zip. This file is the facade: the
//! entry points, the templates' environment and the order of the steps;
//! `pages` makes the pages, `printpages` places the print page marks on
//! them, `package` makes the manifest, spine, OPF, nav and NCX.
//!
//! The container is written with the `zip` crate rather than epub-builder:
//! epub-builder 0.8 gives creator and language the same id (an epubcheck error),
//! stamps zip entries with the wall clock, and hard-codes its OPF/nav templates.

pub mod assets;
mod container;
mod highlight;
pub mod kindle;
pub mod kobo;
mod math;
mod mathfit;
mod package;
mod pages;
mod plate;
mod printpages;
mod view;
pub mod xhtml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Book, Index};
use crate::render::BuildInfo;
use crate::render::layouts::Layouts;
use crate::render::output::write_atomic;
use crate::render::pagelist::PageList;
use package::{Package, Toc};
use pages::Site;
use view::{PartView, part_view};

/// Templates shipped in the binary; a book overrides them in `<content>/layouts/epub/`.
pub static DEFAULT_LAYOUTS: &[(&str, &str)] = &[
    (
        "epub/page.xhtml.j2",
        include_str!("../../../layouts/epub/page.xhtml.j2"),
    ),
    (
        "epub/badge.j2",
        include_str!("../../../layouts/epub/badge.j2"),
    ),
    (
        "epub/cover.xhtml.j2",
        include_str!("../../../layouts/epub/cover.xhtml.j2"),
    ),
    (
        "epub/plate.xhtml.j2",
        include_str!("../../../layouts/epub/plate.xhtml.j2"),
    ),
    (
        "epub/titlepage.xhtml.j2",
        include_str!("../../../layouts/epub/titlepage.xhtml.j2"),
    ),
    (
        "epub/copyright.xhtml.j2",
        include_str!("../../../layouts/epub/copyright.xhtml.j2"),
    ),
    (
        "epub/contents.xhtml.j2",
        include_str!("../../../layouts/epub/contents.xhtml.j2"),
    ),
    (
        "epub/part.xhtml.j2",
        include_str!("../../../layouts/epub/part.xhtml.j2"),
    ),
    (
        "epub/module.xhtml.j2",
        include_str!("../../../layouts/epub/module.xhtml.j2"),
    ),
    (
        "epub/tag-index.xhtml.j2",
        include_str!("../../../layouts/epub/tag-index.xhtml.j2"),
    ),
    (
        "epub/difficulty-index.xhtml.j2",
        include_str!("../../../layouts/epub/difficulty-index.xhtml.j2"),
    ),
    (
        "epub/nav.xhtml.j2",
        include_str!("../../../layouts/epub/nav.xhtml.j2"),
    ),
    (
        "epub/toc.ncx.j2",
        include_str!("../../../layouts/epub/toc.ncx.j2"),
    ),
    (
        "epub/package.opf.j2",
        include_str!("../../../layouts/epub/package.opf.j2"),
    ),
    (
        "epub/container.xml.j2",
        include_str!("../../../layouts/epub/container.xml.j2"),
    ),
    (
        "epub/book.css",
        include_str!("../../../layouts/epub/book.css"),
    ),
];

pub struct Epub {
    pub bytes: Vec<u8>,
    pub warnings: Vec<Diagnostic>,
    /// The zip's entries (the Kobo file is made from them).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The spine's XHTML pages, as zip entry names.
    pub pages: Vec<String>,
}

impl Epub {
    /// The Kobo file (`<book>.kepub.epub`): these pages with Kobo's spans.
    pub fn kepub(&self, info: &BuildInfo) -> Result<Vec<u8>> {
        container::zip(&kobo::kepub_files(&self.files, &self.pages), info.epoch)
    }
}

/// `out_dir/<book-slug>.kepub.epub`.
pub fn kobo_path(book: &Book, out_dir: &Path) -> PathBuf {
    out_dir.join(format!("{}.kepub.epub", book.meta.slug))
}

/// `out_dir/<book-slug>.kindle.epub`.
pub fn kindle_path(book: &Book, out_dir: &Path) -> PathBuf {
    out_dir.join(format!("{}.kindle.epub", book.meta.slug))
}

/// What sets an EPUB apart from the plain one.
#[derive(Default, Clone, Copy)]
pub struct Variant<'a> {
    /// The book PDF's page numbers, when known: page-break markers, a
    /// page-list and the metadata naming the print edition.
    pub pages: Option<&'a PageList>,
    /// The Kindle file (see `kindle`): formulas as these images, a JPEG
    /// cover, SVG text rasterized, no negative margins, and its check.
    pub kindle: Option<&'a kindle::Assets>,
}

/// `out_dir/<book-slug>.epub`.
pub fn output_path(book: &Book, out_dir: &Path) -> PathBuf {
    out_dir.join(format!("{}.epub", book.meta.slug))
}

/// Renders the EPUB and writes it atomically; returns its path and warnings.
pub fn build(
    book: &Book,
    index: &Index,
    out_dir: &Path,
    info: &BuildInfo,
) -> Result<(PathBuf, Vec<Diagnostic>)> {
    let epub = render(book, index, info)?;
    let path = output_path(book, out_dir);
    write_atomic(&path, &epub.bytes)?;
    Ok((path, epub.warnings))
}

fn environment(layouts: &Layouts) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // XML escaping only: minijinja's HTML escaper also rewrites `/` as `&#x2f;`,
    // which is valid but makes every href unreadable.
    env.set_formatter(|out, _state, value| {
        let text = value.to_string();
        let written = if value.is_safe() {
            out.write_str(&text)
        } else {
            out.write_str(&xhtml::escape(&text))
        };
        written
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed"))
    });
    for name in layouts.names() {
        let text = layouts.get(name)?.into_owned();
        env.add_template_owned(name.to_string(), text)
            .map_err(|e| layout_error(name, e))?;
    }
    Ok(env)
}

fn layout_error(name: &str, e: minijinja::Error) -> Error {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::Layout {
        name: name.to_string(),
        message,
    }
}

fn render_template(env: &Environment<'_>, name: &str, ctx: Value) -> Result<String> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| layout_error(name, e))
}

pub fn render(book: &Book, index: &Index, info: &BuildInfo) -> Result<Epub> {
    render_with(book, index, info, Variant::default())
}

pub fn render_with(
    book: &Book,
    index: &Index,
    info: &BuildInfo,
    variant: Variant<'_>,
) -> Result<Epub> {
    let kindle = variant.kindle;
    let layouts = Layouts::new(&book.root, DEFAULT_LAYOUTS);
    let env = environment(&layouts)?;
    let mut pkg = Package::default();
    let mut warnings = Vec::new();
    // Print page breaks marked, by label: the page file they are on.
    let mut placed = printpages::Placed::new();

    // Resources: stylesheet, cover, images (once each, in model order); the
    // font once the pages are written (it keeps only the characters they use).
    let css = layouts.get("epub/book.css")?.into_owned();
    let (cover_src, image_hrefs) =
        package::add_resources(&mut pkg, book, css, kindle, &mut warnings)?;
    let site = Site {
        env: &env,
        book,
        index,
        variant,
        image_hrefs: &image_hrefs,
    };

    // The tag index first: where it is split decides where module pages link to.
    let index_pages = pages::tag_index(&site)?;
    let tag_files = view::tag_files(&index_pages);
    let parts: Vec<PartView> = (0..book.parts.len())
        .map(|p| part_view(book, index, p, &tag_files))
        .collect();
    // A book whose modules have no difficulty gets no difficulty index.
    let has_difficulty = !index.by_difficulty.is_empty();

    pages::front_matter(
        &site,
        &mut pkg,
        &mut placed,
        info,
        &parts,
        has_difficulty,
        cover_src,
    )?;
    let mut body = pages::parts_and_modules(&site, &mut pkg, &mut placed, &parts, &tag_files)?;
    warnings.append(&mut body.warnings);
    pages::back_matter(&site, &mut pkg, &mut placed, &index_pages, has_difficulty)?;
    pages::plates(&site, &mut pkg, &body.plates)?;
    if let Some(k) = kindle {
        package::add_math_images(&mut pkg, k);
    }
    package::add_mono_font(&mut pkg)?;

    let page_list = printpages::page_list(variant.pages, &placed);
    let page_source = match variant.pages {
        Some(l) if !page_list.is_empty() => l.source.clone(),
        _ => String::new(),
    };
    package::retarget_moved(&mut pkg, &body.moved_ids);
    let toc = Toc {
        parts: &parts,
        index_pages: &index_pages,
        has_difficulty,
    };
    package::add_navigation(&env, &mut pkg, book, &toc, page_list, &body.moved_ids)?;
    let opf = package::opf(&site, &pkg, info, body.has_math, &page_source)?;
    let container = render_template(&env, "epub/container.xml.j2", Value::UNDEFINED)?;
    let pages = pkg.spine_pages();
    let mut files = pkg.files;
    files.insert("EPUB/package.opf".into(), opf.into_bytes());
    files.insert("META-INF/container.xml".into(), container.into_bytes());
    if let Some(k) = kindle {
        warnings.extend(k.warnings.iter().cloned());
        warnings.extend(kindle::check(
            &files,
            &body.sources,
            "EPUB/images/cover.jpg",
        ));
    }
    Ok(Epub {
        bytes: container::zip(&files, info.epoch)?,
        warnings,
        files,
        pages,
    })
}
