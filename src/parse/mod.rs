//! Parse stage: sources → the book model. Markdown is parsed here, once;
//! links and images are resolved against the whole book.

pub mod ids;
pub mod images;
pub mod markdown;
pub mod resolve;

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::model::{Book, BookMeta, Index, Module, ModuleRef, Part};
use crate::source::Source;
use resolve::{FileTarget, LinkStats, PendingAnchor, Resolver};

/// Everything `check` reports besides the model itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub links: LinkStats,
    pub anchors_checked: usize,
}

pub fn parse(source: Source, diags: &mut Diagnostics) -> (Book, Stats) {
    let Source { root, book, parts } = source;

    // Every linkable file, keyed by its path relative to the content root.
    let mut files: BTreeMap<String, FileTarget> = BTreeMap::new();
    for (p, part) in parts.iter().enumerate() {
        let dir = dir_name(&part.dir);
        files.insert(format!("{dir}/_part.md"), FileTarget::Part(p));
        for (m, module) in part.modules.iter().enumerate() {
            let name = module
                .file
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.insert(
                format!("{dir}/{name}"),
                FileTarget::Module(ModuleRef { part: p, module: m }),
            );
        }
    }

    let mut images = images::Images::new(&root);
    let mut pending: Vec<PendingAnchor> = Vec::new();
    let mut stats = Stats::default();
    let mut out_parts = Vec::with_capacity(parts.len());
    for (p, part) in parts.into_iter().enumerate() {
        let dir = vec![dir_name(&part.dir)];
        let mut resolver = Resolver {
            files: &files,
            images: &mut images,
            pending: &mut pending,
            stats: &mut stats.links,
            file: part.file.path.clone(),
            dir: dir.clone(),
            current: None,
        };
        let overview = markdown::parse(
            &part.file.body,
            part.file.body_line,
            &part.file.path,
            &mut resolver,
            diags,
        )
        .blocks;
        let mut modules = Vec::with_capacity(part.modules.len());
        for (m, ms) in part.modules.into_iter().enumerate() {
            resolver.file = ms.file.path.clone();
            resolver.current = Some(ModuleRef { part: p, module: m });
            let parsed = markdown::parse(
                &ms.file.body,
                ms.file.body_line,
                &ms.file.path,
                &mut resolver,
                diags,
            );
            modules.push(Module {
                id: ms.id,
                number: ms.number,
                slug: ms.slug,
                title: ms.title,
                summary: ms.summary,
                difficulty: ms.difficulty,
                minutes: ms.minutes.unwrap_or_else(|| reading_minutes(parsed.words)),
                tags: ms.tags.into_iter().map(|(t, _)| t).collect(),
                source: ms.file.path,
                blocks: parsed.blocks,
                headings: parsed.headings,
                footnotes: parsed.footnotes,
                words: parsed.words,
            });
        }
        out_parts.push(Part {
            number: part.number,
            id: format!("part-{:02}", part.number),
            slug: part.slug,
            title: part.title,
            summary: part.summary,
            source: part.file.path,
            overview,
            modules,
        });
    }

    for a in &pending {
        let target = &out_parts[a.target.part].modules[a.target.module];
        if target.heading(&a.anchor).is_none() {
            let known: Vec<&str> = target.headings.iter().map(|h| h.id.as_str()).collect();
            let hint = if known.is_empty() {
                "it has no headings".to_string()
            } else {
                format!("its headings are #{}", known.join(", #"))
            };
            diags.error(
                &a.file,
                a.pos,
                format!(
                    "link to missing heading '#{}' in {} ({hint})",
                    a.anchor,
                    target.source.display()
                ),
            );
        }
    }
    stats.anchors_checked = pending.len();

    let slug = book
        .slug
        .clone()
        .unwrap_or_else(|| ids::slugify(&book.title));
    let book = Book {
        meta: BookMeta {
            title: book.title,
            subtitle: book.subtitle,
            authors: book.authors,
            language: book.language,
            identifier: book.identifier,
            version: book.version,
            copyright: book.copyright,
            publisher: book.publisher,
            date: book.date,
            slug,
        },
        root,
        parts: out_parts,
        images: images.list,
        index: Index::default(),
    };
    (book, stats)
}

/// Reading time at 200 words a minute, rounded up, at least one minute.
pub fn reading_minutes(words: usize) -> u32 {
    u32::try_from(words.div_ceil(200)).unwrap_or(u32::MAX).max(1)
}

fn dir_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
