//! The XHTML pages of the spine: the front matter (cover, title page,
//! copyright, contents), each part's and module's page, the indexes and
//! the figures' plates, with the print page marks placed on them.

use std::collections::HashMap;
use std::path::PathBuf;

use minijinja::{Environment, Value};
use rayon::prelude::*;

use super::package::Package;
use super::printpages::{Placed, mark_entries, module_file_titled, print_pages, with_top_marks};
use super::view::{
    self, IndexPage, LetterGroup, LetterLink, ModuleView, PartView, module_view, to_value,
};
use super::xhtml::{self, Writer, module_file, part_file};
use super::{Variant, kindle, render_template};
use crate::diag::Diagnostic;
use crate::error::Result;
use crate::model::{Book, Index, ModuleRef};
use crate::render::BuildInfo;
use crate::render::pagelist::{self, Owner};

/// Kindle's guideline is XHTML files under 300 KB: the tag index is split by
/// letter into files under this (the margin covers the jump list of letters).
const INDEX_FILE_BUDGET: usize = 250_000;

/// Kindle: ids that moved when a long page was cut (page file, the files it
/// was cut into, id → file).
pub(super) type Moved = (String, Vec<String>, HashMap<String, String>);

/// What every page is made with.
pub(super) struct Site<'a> {
    pub(super) env: &'a Environment<'static>,
    pub(super) book: &'a Book,
    pub(super) index: &'a Index,
    pub(super) variant: Variant<'a>,
    /// Each image's link from a page.
    pub(super) image_hrefs: &'a [String],
}

impl Site<'_> {
    /// Renders `template` with what every page has (language, title, body
    /// type, the book) and `extra`.
    fn render(
        &self,
        template: &str,
        title: &str,
        body_type: &str,
        extra: Vec<(&'static str, Value)>,
    ) -> Result<String> {
        let mut pairs = vec![
            ("lang", Value::from(self.book.meta.language.clone())),
            ("page_title", Value::from(title.to_string())),
            ("body_type", Value::from(body_type.to_string())),
            ("book", to_value(&self.book.meta)),
        ];
        pairs.extend(extra);
        render_template(self.env, template, Value::from_pairs(pairs))
    }
}

/// The tag index's pages. It is made first: where it is split decides
/// where module pages link to.
pub(super) fn tag_index(site: &Site<'_>) -> Result<Vec<IndexPage>> {
    // A book without tags has no tag index: not a page with only its title.
    if site.index.tags.is_empty() {
        return Ok(Vec::new());
    }
    let measure = |page: &IndexPage| -> Result<usize> {
        let html = site.render(
            "epub/tag-index.xhtml.j2",
            &index_title(page),
            "backmatter",
            vec![
                ("page", to_value(page)),
                ("letters", to_value(&Vec::<LetterLink>::new())),
            ],
        )?;
        Ok(html.len())
    };
    tag_index_pages(site.book, site.index, measure, INDEX_FILE_BUDGET)
}

/// Cover, title page, copyright and contents.
pub(super) fn front_matter(
    site: &Site<'_>,
    pkg: &mut Package,
    placed: &mut Placed,
    info: &BuildInfo,
    parts: &[PartView],
    has_difficulty: bool,
    cover_src: &str,
) -> Result<()> {
    let book = site.book;
    let total_minutes: u64 = book.modules().map(|(_, m)| u64::from(m.minutes)).sum();
    let cover = site.render(
        "epub/cover.xhtml.j2",
        &book.meta.title,
        "",
        vec![("cover_src", Value::from(cover_src))],
    )?;
    pkg.page("cover.xhtml", "cover", "", cover);
    pkg.page(
        "titlepage.xhtml",
        "titlepage",
        "",
        site.render(
            "epub/titlepage.xhtml.j2",
            &book.meta.title,
            "frontmatter",
            vec![],
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
        site.render(
            "epub/copyright.xhtml.j2",
            "Copyright",
            "frontmatter",
            vec![
                ("build_date", Value::from(info.date())),
                ("quire_version", Value::from(info.quire_version)),
                ("stats", stats),
            ],
        )?,
    );
    let mut contents = site.render(
        "epub/contents.xhtml.j2",
        "Contents",
        "frontmatter",
        vec![
            ("parts", to_value(&parts)),
            ("has_difficulty", Value::from(has_difficulty)),
            ("has_tag_index", Value::from(!site.index.tags.is_empty())),
            // Each module's print page beside its minutes ("p. 45"), so
            // readers of the EPUB and of the print book name the same place.
            (
                "print_pages",
                to_value(
                    &site
                        .variant
                        .pages
                        .map(|l| print_pages(book, l))
                        .unwrap_or_default(),
                ),
            ),
        ],
    )?;
    // The print contents' pages, at the first module on each.
    let front = site
        .variant
        .pages
        .map(|l| l.marks(Owner::Front))
        .unwrap_or_default();
    // Entries in book order: two modules of one title are told apart by
    // looking for each after the last one found.
    let mut next = 0;
    for label in mark_entries(&mut contents, &front.entries, |title| {
        let (i, (r, _)) = book
            .modules()
            .enumerate()
            .skip(next)
            .find(|(_, (_, m))| m.title == title)?;
        next = i + 1;
        Some((format!("<a href=\"{}\"", module_file(book, r)), 0))
    }) {
        placed.insert(label, "contents.xhtml#page-".into());
    }
    pkg.page("contents.xhtml", "contents", "", contents);
    Ok(())
}

/// What the part and module pages gave besides their pages.
#[derive(Default)]
pub(super) struct Body {
    pub(super) has_math: bool,
    pub(super) moved_ids: Vec<Moved>,
    pub(super) plates: Vec<xhtml::PlateRef>,
    /// Which Markdown file each page comes from (the Kindle check's reports).
    pub(super) sources: HashMap<String, PathBuf>,
    pub(super) warnings: Vec<Diagnostic>,
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

/// Each part's page, then its modules' pages.
pub(super) fn parts_and_modules(
    site: &Site<'_>,
    pkg: &mut Package,
    placed: &mut Placed,
    parts: &[PartView],
    tag_files: &view::TagFiles,
) -> Result<Body> {
    let book = site.book;
    let kindle = site.variant.kindle;
    let mut out = Body::default();
    for (p, part) in book.parts.iter().enumerate() {
        let file = part_file(book, p);
        let mut w = Writer::new(book, None, site.image_hrefs, &part.source, file.clone());
        w.math_images = kindle.map(|k| &k.math);
        let marks = site.variant.pages.map(|l| l.marks(Owner::Part(p)));
        if let Some(m) = &marks {
            w.mark_pages(
                m.at.clone(),
                pagelist::owner_containers(book, Owner::Part(p)),
            );
        }
        w.blocks(&part.overview);
        out.plates.append(&mut w.plates);
        let mut pv = parts[p].clone();
        pv.overview_html = Value::from_safe_string(w.take());
        w.footnotes(&part.footnotes);
        pv.footnotes_html = Value::from_safe_string(w.take());
        let props = if w.has_math { "mathml" } else { "" };
        out.has_math |= w.has_math;
        out.warnings.append(&mut w.warnings);
        let title = format!("{}: {}", pv.label, part.title);
        let html = site.render(
            "epub/part.xhtml.j2",
            &title,
            "bodymatter",
            vec![("part", to_value(&pv))],
        )?;
        let (top, entries) = marks.map(|m| (m.top, m.entries)).unwrap_or_default();
        let mut html = with_top_marks(html, &top);
        // Print pages that begin inside the part's own contents: at the entry.
        // Only in that list: an overview may link the same modules.
        let list = html
            .find("<ol class=\"part-modules\">")
            .unwrap_or(html.len());
        let mut tail = html.split_off(list);
        let mut next = 0;
        w.marked.extend(mark_entries(&mut tail, &entries, |title| {
            let m = next + part.modules[next..].iter().position(|m| m.title == title)?;
            next = m + 1;
            let r = ModuleRef { part: p, module: m };
            Some((format!("<li><a href=\"{}\"", module_file(book, r)), 4))
        }));
        html.push_str(&tail);
        for label in top.into_iter().chain(std::mem::take(&mut w.marked)) {
            placed.insert(label, format!("{file}#page-"));
        }
        out.sources
            .insert(format!("EPUB/text/{file}"), part.source.clone());
        pkg.page(&file, &part.id, props, html);
        // Module pages are independent: render them in parallel, keep book order.
        let pages: Vec<Result<ModulePage>> = (0..part.modules.len())
            .into_par_iter()
            .map(|m| module_page(site, ModuleRef { part: p, module: m }, tag_files))
            .collect();
        for page in pages {
            add_module_page(pkg, placed, &mut out, kindle, page?);
        }
    }
    Ok(out)
}

/// One module's page, its print page marks placed.
fn module_page(site: &Site<'_>, r: ModuleRef, tag_files: &view::TagFiles) -> Result<ModulePage> {
    let book = site.book;
    let kindle = site.variant.kindle;
    let module = book.module(r);
    let file = module_file(book, r);
    let mut w = Writer::new(
        book,
        Some(r),
        site.image_hrefs,
        &module.source,
        file.clone(),
    );
    w.math_images = kindle.map(|k| &k.math);
    let owner = Owner::Module(r.part, r.module);
    let marks = site.variant.pages.map(|l| l.marks(owner));
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
    let mut mv: ModuleView = module_view(book, site.index, r, tag_files);
    mv.body_html = Value::from_safe_string(body);
    mv.footnotes_html = Value::from_safe_string(notes);
    let html = site.render(
        "epub/module.xhtml.j2",
        &module.title,
        "bodymatter",
        vec![("module", to_value(&mv))],
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
}

/// A module's page into the package: on Kindle, a page over the budget is
/// cut between its blocks.
fn add_module_page(
    pkg: &mut Package,
    placed: &mut Placed,
    out: &mut Body,
    kindle: Option<&kindle::Assets>,
    mut page: ModulePage,
) {
    out.plates.append(&mut page.plates);
    out.has_math |= page.has_math;
    out.warnings.append(&mut page.warnings);
    let props = if page.has_math { "mathml" } else { "" };
    for label in page.marked {
        placed.insert(label, format!("{}#page-", page.file));
    }
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
                out.sources
                    .insert(format!("EPUB/text/{name}"), page.source.clone());
                pkg.page(&name, &id, props, html);
            }
            // (Links to them are retargeted once every page is in: see package.rs.)
            out.moved_ids.push((page.file.clone(), names, moved));
        }
        None => {
            out.sources
                .insert(format!("EPUB/text/{}", page.file), page.source);
            pkg.page(&page.file, &page.id, props, page.html);
        }
    }
}

/// The tag index's pages and the difficulty index (when the modules have a
/// difficulty).
pub(super) fn back_matter(
    site: &Site<'_>,
    pkg: &mut Package,
    placed: &mut Placed,
    index_pages: &[IndexPage],
    has_difficulty: bool,
) -> Result<()> {
    let book = site.book;
    let letters = view::letter_links(index_pages);
    // The print indexes' pages: the first at the top of the tag index, the
    // others at the first term (or, in the difficulty index, module) on them.
    let back = site
        .variant
        .pages
        .map(|l| l.marks(Owner::Back))
        .unwrap_or_default();
    for (k, page) in index_pages.iter().enumerate() {
        let id = if k == 0 {
            "tag-index".to_string()
        } else {
            format!("tag-index-{}", k + 1)
        };
        let html = site.render(
            "epub/tag-index.xhtml.j2",
            &index_title(page),
            "backmatter",
            vec![("page", to_value(page)), ("letters", to_value(&letters))],
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
        let mut html = site.render(
            "epub/difficulty-index.xhtml.j2",
            "Modules by difficulty",
            "backmatter",
            vec![("levels", view::difficulty_index(book, site.index))],
        )?;
        // Without a tag index the back matter starts here.
        if index_pages.is_empty() {
            for label in &back.top {
                placed.insert(label.clone(), "difficulty-index.xhtml#page-".into());
            }
            html = with_top_marks(html, &back.top);
        }
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
    Ok(())
}

/// The figures' plates, off the reading order: each is reached from its
/// figure.
pub(super) fn plates(site: &Site<'_>, pkg: &mut Package, plates: &[xhtml::PlateRef]) -> Result<()> {
    let book = site.book;
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
            ("src", Value::from(site.image_hrefs[plate.image].clone())),
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
        let html = site.render(
            "epub/plate.xhtml.j2",
            &page_title,
            "",
            vec![("plate", view)],
        )?;
        let id = format!("plate-{}", k + 1);
        pkg.page(&plate.file, &id, "svg", html);
        pkg.off_spine();
    }
    Ok(())
}

/// The tag index as files under `budget` bytes: one file when it fits,
/// otherwise runs of whole letters (a letter too big alone is cut between
/// entries). `measure` renders a page and says how long it is.
fn tag_index_pages(
    book: &Book,
    index: &Index,
    mut measure: impl FnMut(&IndexPage) -> Result<usize>,
    budget: usize,
) -> Result<Vec<IndexPage>> {
    let groups = view::letter_groups(view::tag_entries(book, index));
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
