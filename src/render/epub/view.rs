//! What the templates see: plain, serialisable views of the model with the
//! EPUB's hrefs already worked out.

use minijinja::Value;
use serde::Serialize;

use super::xhtml::{module_file, part_file};
use crate::model::{Book, Difficulty, ModuleRef};

/// A serialisable value as a template value.
pub fn to_value<T: Serialize>(t: &T) -> Value {
    Value::from(minijinja::value::Serde(t))
}

#[derive(Debug, Clone, Serialize)]
pub struct DifficultyView {
    pub key: &'static str,
    pub label: &'static str,
    /// Filled and empty dots: the level as a shape, for readers who can't rely on colour.
    pub dots: &'static str,
}

pub fn difficulty(d: Difficulty) -> DifficultyView {
    DifficultyView {
        key: d.as_str(),
        label: d.label(),
        dots: match d {
            Difficulty::Beginner => "●○○",
            Difficulty::Intermediate => "●●○",
            Difficulty::Advanced => "●●●",
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TagView {
    pub name: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub title: String,
    pub href: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleView {
    pub id: String,
    pub href: String,
    pub title: String,
    pub number: u32,
    /// "8.1": part number and module number.
    pub number_label: String,
    pub part_label: String,
    pub minutes: u32,
    /// `None`: the module has no difficulty, so no badge.
    pub difficulty: Option<DifficultyView>,
    pub tags: Vec<TagView>,
    pub sections: Vec<SectionView>,
    pub body_html: Value,
    pub footnotes_html: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartView {
    pub id: String,
    pub href: String,
    pub label: String,
    pub title: String,
    pub summary: String,
    pub overview_html: String,
    pub modules: Vec<ModuleView>,
}

pub fn module_view(book: &Book, r: ModuleRef) -> ModuleView {
    let m = book.module(r);
    let part = &book.parts[r.part];
    let href = module_file(book, r);
    ModuleView {
        id: m.id.clone(),
        title: m.title.clone(),
        number: m.number,
        number_label: format!("{}.{}", part.number, m.number),
        part_label: format!("Part {}", part.number),
        minutes: m.minutes,
        difficulty: m.difficulty.map(difficulty),
        tags: m
            .tags
            .iter()
            .filter_map(|t| book.tag(t))
            .map(|t| TagView {
                name: t.name.clone(),
                id: t.id.clone(),
            })
            .collect(),
        sections: m
            .headings
            .iter()
            .filter(|h| h.level == 2)
            .map(|h| SectionView {
                title: h.text.clone(),
                href: format!("{href}#{}", h.id),
            })
            .collect(),
        href,
        body_html: Value::from(""),
        footnotes_html: Value::from(""),
    }
}

pub fn part_view(book: &Book, p: usize) -> PartView {
    let part = &book.parts[p];
    PartView {
        id: part.id.clone(),
        href: part_file(book, p),
        label: format!("Part {}", part.number),
        title: part.title.clone(),
        summary: part.summary.clone(),
        overview_html: String::new(),
        modules: (0..part.modules.len())
            .map(|m| module_view(book, ModuleRef { part: p, module: m }))
            .collect(),
    }
}

#[derive(Debug, Serialize)]
struct MentionView {
    href: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct TagIndexView {
    name: String,
    id: String,
    modules: Vec<ModuleLink>,
    mentions: Vec<MentionView>,
}

#[derive(Debug, Serialize)]
struct ModuleLink {
    href: String,
    title: String,
    minutes: u32,
}

fn link(book: &Book, r: ModuleRef) -> ModuleLink {
    let m = book.module(r);
    ModuleLink {
        href: module_file(book, r),
        title: m.title.clone(),
        minutes: m.minutes,
    }
}

/// Tags alphabetically (case-insensitive), each with its modules and mentions.
pub fn tag_index(book: &Book) -> Value {
    let tags: Vec<TagIndexView> = book
        .index
        .tags
        .values()
        .map(|t| TagIndexView {
            name: t.name.clone(),
            id: t.id.clone(),
            modules: t.modules.iter().map(|&r| link(book, r)).collect(),
            mentions: t
                .occurrences
                .iter()
                .map(|o| {
                    let m = book.module(o.module);
                    let file = module_file(book, o.module);
                    match o.heading.as_deref().and_then(|h| m.heading(h)) {
                        Some(h) => MentionView {
                            href: format!("{file}#{}", h.id),
                            label: format!("{} — {}", m.title, h.text),
                        },
                        None => MentionView {
                            href: file,
                            label: m.title.clone(),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    to_value(&tags)
}

#[derive(Debug, Serialize)]
struct LevelView {
    difficulty: DifficultyView,
    modules: Vec<ModuleLink>,
}

pub fn difficulty_index(book: &Book) -> Value {
    let levels: Vec<LevelView> = Difficulty::ALL
        .iter()
        .map(|&d| LevelView {
            difficulty: difficulty(d),
            modules: book
                .index
                .by_difficulty
                .get(&d)
                .map(|v| v.iter().map(|&r| link(book, r)).collect())
                .unwrap_or_default(),
        })
        .collect();
    to_value(&levels)
}
