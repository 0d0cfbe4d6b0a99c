//! EPUB 3 renderer: model → XHTML pages (minijinja templates from `layouts/epub/`)
//! → OPF, nav, NCX → a reproducible OCF zip.
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
mod plate;
mod view;
pub mod xhtml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use rayon::prelude::*;
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Book, ImageFormat, ModuleRef};
use crate::render::BuildInfo;
use crate::render::layouts::Layouts;
use crate::render::output::write_atomic;
use crate::render::pagelist::{self, Owner, PageList};
use view::{
    IndexPage, LetterGroup, LetterLink, ModuleView, PartView, module_view, part_view, to_value,
};
use xhtml::{Writer, module_file, part_file};

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

/// Print page markers at the top of a page: before its title.
fn with_top_marks(html: String, labels: &[String]) -> String {
    if labels.is_empty() {
        return html;
    }
    let marks: String = labels.iter().map(|l| pagelist::marker(l)).collect();
    let at = html
        .find("<h1")
        .or_else(|| {
            html.find("<body")
                .and_then(|b| html[b..].find('>').map(|e| b + e + 1))
        })
        .unwrap_or(0);
    let mut out = html;
    out.insert_str(at, &marks);
    out
}

/// Print page markers before entries of a list (a part's own contents,
/// the book's contents, the indexes), known by their titles: `find` gives
/// the markup the entry starts with and where in it the marker goes.
/// Returns the labels placed.
fn mark_entries(
    html: &mut String,
    entries: &[(String, String)],
    find: impl Fn(&str) -> Option<(String, usize)>,
) -> Vec<String> {
    let mut placed = Vec::new();
    for (title, label) in entries {
        let Some((needle, offset)) = find(title) else {
            continue;
        };
        if let Some(at) = html.find(&needle) {
            html.insert_str(at + offset, &pagelist::marker(label));
            placed.push(label.clone());
        }
    }
    placed
}

/// The contents page with each module's first print page after its minutes.
fn with_print_pages(book: &Book, list: &PageList, mut html: String) -> String {
    for b in &list.breaks {
        let (Owner::Module(part, module), pagelist::Start::Top) = (b.owner, &b.start) else {
            continue;
        };
        let entry = format!(
            "<li><a href=\"{}\"",
            module_file(book, ModuleRef { part, module })
        );
        let Some(at) = html.find(&entry) else {
            continue;
        };
        let close = "</span>";
        let Some(end) = html[at..]
            .find("<span class=\"minutes\">")
            .filter(|&m| html[at..at + m].find("</li>").is_none())
            .and_then(|m| html[at + m..].find(close).map(|c| at + m + c + close.len()))
        else {
            continue;
        };
        html.insert_str(
            end,
            &format!(
                " <span class=\"print-page\">p.\u{a0}{}</span>",
                xhtml::escape(&b.label)
            ),
        );
    }
    html
}

/// The file of the module titled `title`.
fn module_file_titled(book: &Book, title: &str) -> Option<String> {
    book.modules()
        .find(|(_, m)| m.title == title)
        .map(|(r, _)| module_file(book, r))
}

/// `out_dir/<book-slug>.epub`.
pub fn output_path(book: &Book, out_dir: &Path) -> PathBuf {
    out_dir.join(format!("{}.epub", book.meta.slug))
}

/// Renders the EPUB and writes it atomically; returns its path and warnings.
pub fn build(book: &Book, out_dir: &Path, info: &BuildInfo) -> Result<(PathBuf, Vec<Diagnostic>)> {
    let epub = render(book, info)?;
    let path = output_path(book, out_dir);
    write_atomic(&path, &epub.bytes)?;
    Ok((path, epub.warnings))
}

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

struct ModulePage {
    file: String,
    /// The module's title, and its body with where each top-level block
    /// ends (the Kindle file cuts a long page there).
    title: String,
    body: String,
    ends: Vec<usize>,
    /// Print pages marked on it.
    marked: Vec<String>,
    source: PathBuf,
    plates: Vec<xhtml::PlateRef>,
    id: String,
    html: String,
    has_math: bool,
    warnings: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct SpineItem {
    id: String,
    /// Off the reading order (a figure's plate): reached only by its link.
    linear: bool,
}

struct Package {
    files: BTreeMap<String, Vec<u8>>,
    manifest: Vec<ManifestItem>,
    spine: Vec<SpineItem>,
}

impl Package {
    fn add(
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

    fn page(&mut self, name: &str, id: &str, properties: &str, html: String) {
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

pub fn render(book: &Book, info: &BuildInfo) -> Result<Epub> {
    render_with(book, info, Variant::default())
}

pub fn render_with(book: &Book, info: &BuildInfo, variant: Variant<'_>) -> Result<Epub> {
    let kindle = variant.kindle;
    // Print page breaks marked, by label: the page file they are on.
    let mut placed: BTreeMap<String, String> = BTreeMap::new();
    // Which Markdown file each page comes from (the Kindle check's reports).
    let mut sources: std::collections::HashMap<String, PathBuf> = Default::default();
    let layouts = Layouts::new(&book.root, DEFAULT_LAYOUTS);
    let env = environment(&layouts)?;
    let lang = book.meta.language.clone();
    let mut pkg = Package {
        files: BTreeMap::new(),
        manifest: Vec::new(),
        spine: Vec::new(),
    };
    let mut warnings = Vec::new();

    // Resources: stylesheet, cover, images (once each, in model order); the
    // font once the pages are written (it keeps only the characters they use).
    let css = layouts.get("epub/book.css")?.into_owned();
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

    let base = |title: &str, body_type: &str| -> Vec<(&'static str, Value)> {
        vec![
            ("lang", Value::from(lang.clone())),
            ("page_title", Value::from(title.to_string())),
            ("body_type", Value::from(body_type.to_string())),
            ("book", to_value(&book.meta)),
        ]
    };
    let ctx = |mut pairs: Vec<(&'static str, Value)>, extra: Vec<(&'static str, Value)>| {
        pairs.extend(extra);
        Value::from_pairs(pairs)
    };

    // The tag index first: where it is split decides where module pages link to.
    let measure = |page: &IndexPage| -> Result<usize> {
        let html = render_template(
            &env,
            "epub/tag-index.xhtml.j2",
            ctx(
                base(&index_title(page), "backmatter"),
                vec![
                    ("page", to_value(page)),
                    ("letters", to_value(&Vec::<LetterLink>::new())),
                ],
            ),
        )?;
        Ok(html.len())
    };
    let index_pages = tag_index_pages(book, measure, INDEX_FILE_BUDGET)?;
    let tag_files = view::tag_files(&index_pages);
    let parts: Vec<PartView> = (0..book.parts.len())
        .map(|p| part_view(book, p, &tag_files))
        .collect();
    let total_minutes: u64 = book.modules().map(|(_, m)| u64::from(m.minutes)).sum();
    // A book whose modules have no difficulty gets no difficulty index.
    let has_difficulty = !book.index.by_difficulty.is_empty();

    let cover = render_template(
        &env,
        "epub/cover.xhtml.j2",
        ctx(
            base(&book.meta.title, ""),
            vec![("cover_src", Value::from(cover_src))],
        ),
    )?;
    pkg.page("cover.xhtml", "cover", "", cover);
    pkg.page(
        "titlepage.xhtml",
        "titlepage",
        "",
        render_template(
            &env,
            "epub/titlepage.xhtml.j2",
            ctx(base(&book.meta.title, "frontmatter"), vec![]),
        )?,
    );
    let stats = Value::from_pairs([
        ("parts", Value::from(book.parts.len())),
        ("modules", Value::from(book.module_count())),
        ("hours", Value::from(total_minutes.div_ceil(60))),
    ]);
    pkg.page(
        "copyright.xhtml",
        "copyright",
        "",
        render_template(
            &env,
            "epub/copyright.xhtml.j2",
            ctx(
                base("Copyright", "frontmatter"),
                vec![
                    ("build_date", Value::from(info.date())),
                    ("quire_version", Value::from(info.quire_version)),
                    ("stats", stats),
                ],
            ),
        )?,
    );
    let mut contents = render_template(
        &env,
        "epub/contents.xhtml.j2",
        ctx(
            base("Contents", "frontmatter"),
            vec![
                ("parts", to_value(&parts)),
                ("has_difficulty", Value::from(has_difficulty)),
            ],
        ),
    )?;
    // Each module's print page beside its minutes ("p. 45"), so readers of
    // the EPUB and of the print book can name the same place.
    if let Some(list) = variant.pages {
        contents = with_print_pages(book, list, contents);
    }
    // The print contents' pages, at the first module on each.
    let front = variant
        .pages
        .map(|l| l.marks(Owner::Front))
        .unwrap_or_default();
    for label in mark_entries(&mut contents, &front.entries, |title| {
        Some((
            format!("<a href=\"{}\"", module_file_titled(book, title)?),
            0,
        ))
    }) {
        placed.insert(label, "contents.xhtml#page-".into());
    }
    pkg.page("contents.xhtml", "contents", "", contents);

    let mut has_math = false;
    // Kindle: ids that moved when a long page was cut (page file → id → file).
    #[allow(clippy::type_complexity)]
    let mut moved_ids: Vec<(
        String,
        Vec<String>,
        std::collections::HashMap<String, String>,
    )> = Vec::new();
    let mut plates: Vec<xhtml::PlateRef> = Vec::new();
    for (p, part) in book.parts.iter().enumerate() {
        let file = part_file(book, p);
        let mut w = Writer::new(book, None, &image_hrefs, &part.source, file.clone());
        w.math_images = kindle.map(|k| &k.math);
        let marks = variant.pages.map(|l| l.marks(Owner::Part(p)));
        if let Some(m) = &marks {
            w.mark_pages(
                m.at.clone(),
                pagelist::owner_containers(book, Owner::Part(p)),
            );
        }
        w.blocks(&part.overview);
        plates.append(&mut w.plates);
        let mut pv = parts[p].clone();
        pv.overview_html = Value::from_safe_string(w.take());
        w.footnotes(&part.footnotes);
        pv.footnotes_html = Value::from_safe_string(w.take());
        let props = if w.has_math { "mathml" } else { "" };
        has_math |= w.has_math;
        warnings.append(&mut w.warnings);
        let title = format!("{}: {}", pv.label, part.title);
        let html = render_template(
            &env,
            "epub/part.xhtml.j2",
            ctx(base(&title, "bodymatter"), vec![("part", to_value(&pv))]),
        )?;
        let (top, entries) = marks.map(|m| (m.top, m.entries)).unwrap_or_default();
        let mut html = with_top_marks(html, &top);
        // Print pages that begin inside the part's own contents: at the entry.
        w.marked.extend(mark_entries(&mut html, &entries, |title| {
            let m = part.modules.iter().position(|m| m.title == title)?;
            let r = ModuleRef { part: p, module: m };
            Some((format!("<li><a href=\"{}\"", module_file(book, r)), 4))
        }));
        for label in top.into_iter().chain(std::mem::take(&mut w.marked)) {
            placed.insert(label, format!("{file}#page-"));
        }
        sources.insert(format!("EPUB/text/{file}"), part.source.clone());
        pkg.page(&file, &part.id, props, html);
        // Module pages are independent: render them in parallel, keep book order.
        let pages: Vec<Result<ModulePage>> = (0..part.modules.len())
            .into_par_iter()
            .map(|m| {
                let r = ModuleRef { part: p, module: m };
                let module = book.module(r);
                let file = module_file(book, r);
                let mut w = Writer::new(book, Some(r), &image_hrefs, &module.source, file.clone());
                w.math_images = kindle.map(|k| &k.math);
                let owner = Owner::Module(p, m);
                let marks = variant.pages.map(|l| l.marks(owner));
                if let Some(marks) = &marks {
                    w.mark_pages(marks.at.clone(), pagelist::owner_containers(book, owner));
                }
                let ends = w.top_blocks(&module.blocks);
                let body = w.take();
                let kept_body = if kindle.is_some() {
                    body.clone()
                } else {
                    String::new()
                };
                w.footnotes(&module.footnotes);
                let notes = w.take();
                let mut mv: ModuleView = module_view(book, r, &tag_files);
                mv.body_html = Value::from_safe_string(body);
                mv.footnotes_html = Value::from_safe_string(notes);
                let html = render_template(
                    &env,
                    "epub/module.xhtml.j2",
                    ctx(
                        base(&module.title, "bodymatter"),
                        vec![("module", to_value(&mv))],
                    ),
                )?;
                let top = marks.map(|m| m.top).unwrap_or_default();
                let html = with_top_marks(html, &top);
                Ok(ModulePage {
                    marked: top
                        .into_iter()
                        .chain(std::mem::take(&mut w.marked))
                        .collect(),
                    source: module.source.clone(),
                    title: module.title.clone(),
                    body: kept_body,
                    ends,
                    file,
                    plates: std::mem::take(&mut w.plates),
                    id: format!("m-{}", module.id),
                    html,
                    has_math: w.has_math,
                    warnings: w.warnings,
                })
            })
            .collect();
        for page in pages {
            let mut page = page?;
            plates.append(&mut page.plates);
            has_math |= page.has_math;
            warnings.append(&mut page.warnings);
            let props = if page.has_math { "mathml" } else { "" };
            for label in page.marked {
                placed.insert(label, format!("{}#page-", page.file));
            }
            // Kindle: a page over the budget is cut between its blocks.
            let split = match kindle {
                Some(_) if page.html.len() > INDEX_FILE_BUDGET => kindle::split_page(
                    &page.html,
                    &page.body,
                    &page.ends,
                    &page.file,
                    &page.title,
                    INDEX_FILE_BUDGET,
                ),
                _ => None,
            };
            match split {
                Some((files, moved)) => {
                    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
                    for (k, (name, html)) in files.into_iter().enumerate() {
                        let id = match k {
                            0 => page.id.clone(),
                            k => format!("{}-{}", page.id, k + 1),
                        };
                        sources.insert(format!("EPUB/text/{name}"), page.source.clone());
                        pkg.page(&name, &id, props, html);
                    }
                    // (The page-list's links follow in the nav, see below.)
                    moved_ids.push((page.file.clone(), names, moved));
                }
                None => {
                    sources.insert(format!("EPUB/text/{}", page.file), page.source);
                    pkg.page(&page.file, &page.id, props, page.html);
                }
            }
        }
    }

    let letters = view::letter_links(&index_pages);
    // The print indexes' pages: the first at the top of the tag index, the
    // others at the first term (or, in the difficulty index, module) on them.
    let back = variant
        .pages
        .map(|l| l.marks(Owner::Back))
        .unwrap_or_default();
    for (k, page) in index_pages.iter().enumerate() {
        let id = if k == 0 {
            "tag-index".to_string()
        } else {
            format!("tag-index-{}", k + 1)
        };
        let html = render_template(
            &env,
            "epub/tag-index.xhtml.j2",
            ctx(
                base(&index_title(page), "backmatter"),
                vec![("page", to_value(page)), ("letters", to_value(&letters))],
            ),
        )?;
        let mut html = if k == 0 {
            for label in &back.top {
                placed.insert(label.clone(), format!("{}#page-", page.file));
            }
            with_top_marks(html, &back.top)
        } else {
            html
        };
        for label in mark_entries(&mut html, &back.entries, |title| {
            Some((
                format!("<h3 class=\"index-term\">{}</h3>", xhtml::escape(title)),
                0,
            ))
        }) {
            placed.insert(label, format!("{}#page-", page.file));
        }
        pkg.page(&page.file, &id, "", html);
    }
    if has_difficulty {
        let mut html = render_template(
            &env,
            "epub/difficulty-index.xhtml.j2",
            ctx(
                base("Modules by difficulty", "backmatter"),
                vec![("levels", view::difficulty_index(book))],
            ),
        )?;
        let unplaced: Vec<(String, String)> = back
            .entries
            .iter()
            .filter(|(_, label)| !placed.contains_key(label))
            .cloned()
            .collect();
        for label in mark_entries(&mut html, &unplaced, |title| {
            Some((
                format!("<li><a href=\"{}\"", module_file_titled(book, title)?),
                4,
            ))
        }) {
            placed.insert(label, "difficulty-index.xhtml#page-".into());
        }
        pkg.page("difficulty-index.xhtml", "difficulty-index", "", html);
    }

    // Plates last, off the reading order: each is reached from its figure.
    for (k, plate) in plates.iter().enumerate() {
        let img = &book.images[plate.image];
        let title = if plate.caption.is_empty() {
            plate.alt.clone()
        } else {
            plate.caption.clone()
        };
        let view = Value::from_pairs([
            ("title", Value::from(title.clone())),
            ("alt", Value::from(plate.alt.clone())),
            ("src", Value::from(image_hrefs[plate.image].clone())),
            ("width", Value::from(img.width)),
            ("height", Value::from(img.height)),
            ("turn", Value::from(plate.plan.turn)),
            (
                "details",
                Value::from(
                    plate
                        .plan
                        .details
                        .iter()
                        .map(|d| {
                            let (view_box, transform) = d.view();
                            Value::from_pairs([
                                ("view_box", Value::from(view_box)),
                                ("transform", Value::from(transform)),
                            ])
                        })
                        .collect::<Vec<_>>(),
                ),
            ),
            ("back", Value::from(plate.back.clone())),
        ]);
        let page_title = if title.is_empty() {
            "Figure".to_string()
        } else {
            format!("Figure: {title}")
        };
        let html = render_template(
            &env,
            "epub/plate.xhtml.j2",
            ctx(base(&page_title, ""), vec![("plate", view)]),
        )?;
        let id = format!("plate-{}", k + 1);
        pkg.page(&plate.file, &id, "svg", html);
        if let Some(last) = pkg.spine.last_mut() {
            last.linear = false;
        }
    }

    if let Some(k) = kindle {
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

    // The monospace font, cut down to the characters the pages show in it.
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

    // The page-list: every print page marked, in page order.
    let page_list: Vec<Value> = variant
        .pages
        .map(|l| {
            l.breaks
                .iter()
                .filter_map(|b| {
                    let href = placed.get(&b.label)?;
                    Some(Value::from_pairs([
                        ("href", Value::from(format!("{href}{}", b.label))),
                        ("label", Value::from(b.label.clone())),
                    ]))
                })
                .collect()
        })
        .unwrap_or_default();
    let page_source = match variant.pages {
        Some(l) if !page_list.is_empty() => l.source.clone(),
        _ => String::new(),
    };

    // Navigation: nav.xhtml (EPUB 3) and toc.ncx (for EPUB 2 readers).
    let index_files: Vec<Value> = index_pages
        .iter()
        .map(|p| {
            Value::from_pairs([
                ("file", Value::from(p.file.clone())),
                ("range", Value::from(p.range.clone())),
            ])
        })
        .collect();
    // Links to what moved to another file of a cut page.
    for (file, names, moved) in &moved_ids {
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
    let nav = render_template(
        &env,
        "epub/nav.xhtml.j2",
        Value::from_pairs([
            ("lang", Value::from(lang.clone())),
            ("book", to_value(&book.meta)),
            ("parts", to_value(&parts)),
            ("has_difficulty", Value::from(has_difficulty)),
            ("index_files", Value::from(index_files)),
            ("page_list", Value::from(page_list.clone())),
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
        &env,
        "epub/toc.ncx.j2",
        Value::from_pairs([
            ("lang", Value::from(lang.clone())),
            ("book", to_value(&book.meta)),
            (
                "ncx",
                to_value(&ncx_points(&parts, &index_pages, has_difficulty)),
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

    let subjects: Vec<&str> = book.index.tags.values().map(|t| t.name.as_str()).collect();
    let opf = render_template(
        &env,
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
                    has_math,
                    kindle.is_some_and(|k| !k.math.is_empty()),
                    !page_source.is_empty(),
                )),
            ),
            ("page_source", Value::from(page_source.clone())),
            (
                "certified_by",
                Value::from(format!("Quire {} automated checks", info.quire_version)),
            ),
            ("manifest", to_value(&pkg.manifest)),
            ("spine", to_value(&pkg.spine)),
        ]),
    )?;
    let container = render_template(&env, "epub/container.xml.j2", Value::UNDEFINED)?;
    let pages: Vec<String> = pkg
        .spine
        .iter()
        .filter_map(|item| pkg.manifest.iter().find(|m| m.id == item.id))
        .map(|m| format!("EPUB/{}", m.href))
        .collect();
    let mut files = pkg.files;
    files.insert("EPUB/package.opf".into(), opf.into_bytes());
    files.insert("META-INF/container.xml".into(), container.into_bytes());
    if let Some(k) = kindle {
        warnings.extend(k.warnings.iter().cloned());
        warnings.extend(kindle::check(&files, &sources, "EPUB/images/cover.jpg"));
    }
    Ok(Epub {
        bytes: container::zip(&files, info.epoch)?,
        warnings,
        files,
        pages,
    })
}

/// Kindle's guideline is XHTML files under 300 KB: the tag index is split by
/// letter into files under this (the margin covers the jump list of letters).
const INDEX_FILE_BUDGET: usize = 250_000;

/// The tag index as files under `budget` bytes: one file when it fits,
/// otherwise runs of whole letters (a letter too big alone is cut between
/// entries). `measure` renders a page and says how long it is.
fn tag_index_pages(
    book: &Book,
    mut measure: impl FnMut(&IndexPage) -> Result<usize>,
    budget: usize,
) -> Result<Vec<IndexPage>> {
    let groups = view::letter_groups(view::tag_entries(book));
    let mut error = None;
    let mut fits = |groups: &[LetterGroup]| {
        let page = IndexPage {
            file: view::TAG_INDEX_FILE.into(),
            range: String::new(),
            first: true,
            groups: groups.to_vec(),
        };
        match measure(&page) {
            Ok(n) => n <= budget,
            Err(e) => {
                error.get_or_insert(e);
                true
            }
        }
    };
    let runs = if fits(&groups) {
        vec![groups]
    } else {
        let mut units: Vec<LetterGroup> = Vec::new();
        for g in &groups {
            if fits(std::slice::from_ref(g)) {
                units.push(g.clone());
            } else {
                units.extend(view::split_group(g, |g| fits(std::slice::from_ref(g))));
            }
        }
        view::pack(&units, &mut fits)
    };
    if let Some(e) = error {
        return Err(e);
    }
    Ok(view::index_pages(runs))
}

fn index_title(page: &IndexPage) -> String {
    if page.range.is_empty() {
        "Index of technologies".into()
    } else {
        format!("Index of technologies: {}", page.range)
    }
}

fn a11y_summary(book: &Book, has_math: bool, math_images: bool, print_pages: bool) -> String {
    let mut s = String::from(
        "Structured with headings, a table of contents, landmarks and an index; reading order follows the print book. ",
    );
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
