//! The documents around the book's body: the front matter (cover, title
//! and copyright pages, contents), the indexes (the book's and each part's
//! own), the running heads and footers of the modules' pages, and the
//! preamble every document starts with. None of it is Markdown blocks, so
//! nothing here maps back to a source line.

use std::fmt::Write as _;

use super::labels::{bare, dest, module_label, part_label};
use super::literal::{array, difficulty_arg, label_part, lit};
use super::{Generated, Settings};
use crate::model::print::Open;
use crate::model::{Book, Difficulty, ModuleRef};
use crate::render::pdf::doc::{Doc, RECTO_ORIGIN, VERSO_ORIGIN, XRef};

/// Writes one document around the body.
pub(super) struct Matter<'a> {
    book: &'a Book,
    settings: &'a Settings<'a>,
    doc: Doc,
    out: String,
}

/// The first lines of `doc`: the template and the book's settings.
pub(super) fn preamble(book: &Book, settings: &Settings, doc: Doc) -> String {
    Matter::new(book, settings, doc).preamble_text(doc)
}

impl<'a> Matter<'a> {
    pub(super) fn new(book: &'a Book, settings: &'a Settings<'a>, doc: Doc) -> Self {
        Self {
            book,
            settings,
            doc,
            out: String::new(),
        }
    }

    pub(super) fn finish(self) -> Generated {
        Generated {
            text: self.out,
            ..Generated::default()
        }
    }

    fn toc(&mut self) {
        let book = self.book;
        self.out
            .push_str("#[\n#set page(numbering: \"i\")\n#toc-title[Contents]\n");
        for (p, part) in book.parts.iter().enumerate() {
            let label = part_label(book, p);
            let _ = writeln!(
                self.out,
                "#toc-part({}, {})[#{}]",
                dest(&label, false),
                self.page_arg(&label),
                lit(&format!("Part {}: {}", part.number, part.title))
            );
            self.toc_modules(p);
        }
        let difficulty_index = !self.settings.index.by_difficulty.is_empty();
        let tag_index = !self.settings.index.tags.is_empty();
        for (label, title) in [
            ("<tag-index>", "Index of technologies"),
            ("<difficulty-index>", "Modules by difficulty"),
        ]
        .into_iter()
        .filter(|(l, _)| match *l {
            "<tag-index>" => tag_index,
            _ => difficulty_index,
        }) {
            let _ = writeln!(
                self.out,
                "#toc-part({}, {})[#{}]",
                dest(label, false),
                self.page_arg(label),
                lit(title)
            );
        }
        self.out.push_str("]\n");
    }

    /// The page of a label in another document, from the last layout.
    fn page_arg(&self, label: &str) -> String {
        lit(&self.settings.pages.page(bare(label)))
    }

    /// Contents lines for the modules of one part (in another document).
    pub(super) fn toc_modules(&mut self, p: usize) {
        let book = self.book;
        let part = &book.parts[p];
        for (m, module) in part.modules.iter().enumerate() {
            let r = ModuleRef { part: p, module: m };
            let label = module_label(book, r);
            let page = self.page_arg(&label);
            let _ = writeln!(
                self.out,
                "#toc-module({}, {page}, {}, {}, {})[#{}]",
                dest(&label, false),
                lit(&format!("{}.{}", part.number, module.number)),
                difficulty_arg(module.difficulty),
                module.minutes,
                lit(&module.title)
            );
        }
    }

    /// The tag index of the book, or of one part (its modules and mentions).
    fn tag_index(&mut self, part: Option<usize>) {
        let book = self.book;
        let in_scope = |r: &ModuleRef| part.is_none_or(|p| r.part == p);
        let _ = writeln!(
            self.out,
            "#recto({})",
            self.settings.part_open == Open::Right
        );
        self.out
            .push_str("#heading(level: 1)[#\"Index of technologies\"] <tag-index>\n");
        self.out.push_str("#text(size: 0.9em)[#\"Bold page numbers: the modules tagged with the technology. Others: pages where it is mentioned.\"]\n\n");
        self.out.push_str("#columns(2, gutter: 1.5em)[\n");
        for (key, tag) in &self.settings.index.tags {
            let modules: Vec<&ModuleRef> = tag.modules.iter().filter(|r| in_scope(r)).collect();
            let mentioned = tag.occurrences.iter().any(|o| in_scope(&o.module));
            let label = format!("<{}>", label_part(&tag.id));
            if modules.is_empty() && !mentioned {
                // Keep module pages' tag links valid even when the tag has no entry here.
                let _ = writeln!(self.out, "#metadata(none) {label}");
                continue;
            }
            let module_pages: Vec<(XRef, u64)> = modules
                .iter()
                .filter_map(|r| {
                    let l = module_label(book, **r);
                    let page = *self.settings.pages.labels.get(bare(&l))?;
                    Some((XRef::Label(bare(&l).to_string()), page))
                })
                .collect();
            // Pages where the term is mentioned, once each, and not those that
            // already list it as a module of its own.
            let mut mentions: Vec<&(XRef, u64)> = Vec::new();
            // Mentions in this part's documents (opening pages and modules).
            let here = |x: &XRef| match x {
                XRef::At { doc, .. } => part.is_none_or(|p| doc.part() == Some(p)),
                XRef::Label(_) => part.is_none(),
            };
            for m in self
                .settings
                .pages
                .mentions
                .get(&label_part(key))
                .into_iter()
                .flatten()
                .filter(|m| here(&m.0))
            {
                let repeat = mentions.last().is_some_and(|last| last.1 == m.1);
                if !repeat && !module_pages.iter().any(|(_, p)| *p == m.1) {
                    mentions.push(m);
                }
            }
            let pairs = |list: &mut dyn Iterator<Item = &(XRef, u64)>| {
                array(list.map(|(d, p)| format!("({}, {})", lit(&d.encode()), lit(&p.to_string()))))
            };
            let _ = writeln!(
                self.out,
                "#metadata(none) {label}\n#index-entry({}, {}, {})",
                lit(&tag.name),
                pairs(&mut module_pages.iter()),
                pairs(&mut mentions.into_iter()),
            );
        }
        self.out.push_str("]\n\n");
    }

    fn difficulty_index(&mut self) {
        let book = self.book;
        // No module has a difficulty: no index of them at all.
        if self.settings.index.by_difficulty.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "#recto({})",
            self.settings.part_open == Open::Right
        );
        self.out
            .push_str("#heading(level: 1)[#\"Modules by difficulty\"] <difficulty-index>\n");
        for d in Difficulty::ALL {
            let entries: Vec<String> = (self.settings.index.by_difficulty)
                .get(&d)
                .map(|v| {
                    v.iter()
                        .map(|r| {
                            let label = module_label(book, *r);
                            format!(
                                "({}, {}, [#{}])",
                                dest(&label, false),
                                self.page_arg(&label),
                                lit(&book.module(*r).title)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(
                self.out,
                "#difficulty-group({}, {})",
                lit(d.as_str()),
                array(entries)
            );
        }
    }

    /// Every document starts alike: the template (at a path of its own, see
    /// [`Doc::key`]) and the book's settings.
    fn preamble(&mut self) {
        let text = self.preamble_text(self.doc);
        self.out.push_str(&text);
    }

    fn preamble_text(&self, doc: Doc) -> String {
        let book = self.book;
        let meta = &book.meta;
        let keywords: Vec<String> = self
            .settings
            .index
            .tags
            .values()
            .map(|t| lit(&t.name))
            .collect();
        // A document typeset once its start is known may start on a
        // left-hand page (`open = "any"`); a module is laid out as if on the
        // right and moved when it lands on the left.
        let first = match doc {
            Doc::Opener(_) | Doc::Back => Some(self.settings.pages.start(doc)),
            Doc::PartIndex(p) => self.settings.pages.ends.get(p).copied(),
            _ => None,
        };
        let mut out = String::new();
        let _ = writeln!(out, "#import \"/{}/quire.typ\": *", doc.key());
        let _ = writeln!(
            out,
            "#show: book.with(title: {}, authors: {}, lang: {}, {}, keywords: {}, verso: {})",
            lit(&meta.title),
            self.authors(),
            lit(&meta.language),
            crate::render::pdf::paper::template_args(self.settings.paper),
            array(keywords),
            first.is_some_and(|n| n.is_multiple_of(2)),
        );
        out
    }

    fn authors(&self) -> String {
        array(self.book.meta.authors.iter().map(|a| lit(a)))
    }

    /// Cover, title page, copyright page and contents (pages numbered i, ii…).
    pub(super) fn front_document(mut self, build_date: &str, version_line: &str) -> Generated {
        self.preamble();
        let book = self.book;
        let meta = &book.meta;
        let authors_arr = self.authors();
        let subtitle = meta
            .subtitle
            .as_deref()
            .map(lit)
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            self.out,
            "#cover({}, {subtitle}, {authors_arr}, {}, back: {})",
            lit(&meta.title),
            lit(&meta.version),
            self.settings.paper.duplex
        );
        let publisher = meta
            .publisher
            .as_deref()
            .map(lit)
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            self.out,
            "#title-page({}, {subtitle}, {authors_arr}, {publisher})",
            lit(&meta.title)
        );
        let mut copyright = vec![format!("#strong[#{}]", lit(&meta.title))];
        if let Some(c) = &meta.copyright {
            copyright.push(format!("#{}", lit(c)));
        }
        copyright.push(format!(
            "#{}",
            lit(&format!(
                "Version {}. Built {build_date} with {version_line}.",
                meta.version
            ))
        ));
        copyright.push(format!(
            "#{}",
            lit(&format!("Identifier: {}", meta.identifier))
        ));
        let _ = writeln!(self.out, "#copyright-page[{}]", copyright.join("\n\n"));
        self.toc();
        self.finish()
    }

    /// The running heads and footers of the modules' pages, one page per
    /// page number, grafted onto the module pages: left pages run the
    /// part's title, right pages the module's, nothing on a module's first
    /// page. Its first two pages mark where a right-hand and a left-hand
    /// page's text area starts.
    pub(super) fn numbers_document(mut self) -> Generated {
        self.preamble();
        let book = self.book;
        let count = self.settings.pages.body_pages.max(2);
        let mut heads = vec!["none".to_string(); count as usize];
        for &(r, start, len) in &self.settings.pages.modules {
            let part = &book.parts[r.part];
            let running = lit(&format!("Part {}: {}", part.number, part.title));
            let title = lit(&book.module(r).title);
            for number in start + 1..start + len {
                if let Some(head) = heads.get_mut(number as usize - 1) {
                    let left = number.is_multiple_of(2);
                    head.clone_from(if left { &running } else { &title });
                }
            }
        }
        let _ = writeln!(
            self.out,
            "#set page(header: page-heads({}))\n#counter(page).update(1)\n\
             #place(top + left)[#metadata(none) <{RECTO_ORIGIN}>]\n#pagebreak()\n\
             #place(top + left)[#metadata(none) <{VERSO_ORIGIN}>]\n\
             #for _ in range({}) {{ pagebreak() }}",
            array(heads),
            count - 2
        );
        self.finish()
    }

    /// The running heads and footers of body pages `first..=last`, as
    /// [`Self::numbers_document`] typesets them: its page for number `n` is
    /// this one's page `n - first`, or `n - first + 1` when `first` is even
    /// (a page before it keeps every page on its side of the sheet).
    pub(super) fn furniture_document(mut self, first: u64, last: u64) -> Generated {
        self.preamble();
        let book = self.book;
        let from = if first.is_multiple_of(2) {
            first - 1
        } else {
            first
        };
        let count = last.saturating_sub(from) + 1;
        let mut heads = vec!["none".to_string(); count as usize];
        for &(r, start, len) in &self.settings.pages.modules {
            let part = &book.parts[r.part];
            let running = lit(&format!("Part {}: {}", part.number, part.title));
            let title = lit(&book.module(r).title);
            for number in (start + 1..start + len).filter(|n| (from..=last).contains(n)) {
                if let Some(head) = heads.get_mut((number - from) as usize) {
                    let left = number.is_multiple_of(2);
                    head.clone_from(if left { &running } else { &title });
                }
            }
        }
        let _ = writeln!(
            self.out,
            "#set page(header: page-heads({}))\n#counter(page).update({from})\n\
             #for _ in range({}) {{ pagebreak() }}",
            array(heads),
            count - 1
        );
        self.finish()
    }

    /// The indexes, numbered on from the last part.
    pub(super) fn back_document(mut self) -> Generated {
        self.preamble();
        let _ = writeln!(
            self.out,
            "#counter(page).update({})",
            self.settings.pages.start(Doc::Back)
        );
        if !self.settings.index.tags.is_empty() {
            self.tag_index(None);
        }
        self.difficulty_index();
        self.finish()
    }

    /// A part's own tag index, numbered on from the part's last page.
    pub(super) fn part_index_document(mut self, p: usize) -> Generated {
        self.preamble();
        let start = self.settings.pages.ends.get(p).copied().unwrap_or(1);
        let _ = writeln!(self.out, "#counter(page).update({start})");
        self.tag_index(Some(p));
        self.finish()
    }
}
