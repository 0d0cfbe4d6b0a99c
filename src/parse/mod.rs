//! Parse stage: sources → the book model. Markdown is parsed here, once;
//! links and images are resolved against the whole book.

mod anchors;
pub mod html;
pub mod ids;
pub mod images;
pub mod markdown;
pub mod remote;
pub mod resolve;

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::model::{Book, BookMeta, Module, ModuleRef, Part};
use crate::source::{MissingAnchors, Source};
use resolve::{FileTarget, LinkStats, PendingAnchor, Resolver, Target};

/// Everything `check` reports besides the model itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub links: LinkStats,
    pub anchors_checked: usize,
    pub remote: remote::Report,
}

/// Parses the book; `fetch` says whether remote images may be downloaded
/// (see `remote`): the only I/O besides reading images and the lock.
pub fn parse(
    source: Source,
    fetch: &remote::FetchOptions,
    diags: &mut Diagnostics,
) -> (Book, Stats) {
    let Source { root, book, parts } = source;

    // Remote images are worked out before parsing, all at once, so that
    // downloads run side by side instead of one stall after another.
    let book_fetches = book.images.remote == crate::source::RemoteImages::Fetch;
    let mut remote = remote::RemoteImages::open(&root, fetch, book_fetches, diags);
    let bodies = parts.iter().flat_map(|p| {
        std::iter::once(p.file.body.as_str()).chain(p.modules.iter().map(|m| m.file.body.as_str()))
    });
    if remote.active() {
        remote.prefetch(&remote_image_urls(bodies));
    }

    // Every linkable file, keyed by its path relative to the content root.
    let mut files: BTreeMap<String, FileTarget> = BTreeMap::new();
    for (p, part) in parts.iter().enumerate() {
        // A part's page is a file (`_part.md`, an mdBook chapter with
        // sub-chapters), except an mdBook part title: a line of SUMMARY.md.
        if part
            .file
            .path
            .file_name()
            .is_some_and(|n| n != "SUMMARY.md")
        {
            files.insert(rel_path(&root, &part.file.path), FileTarget::Part(p));
        }
        for (m, module) in part.modules.iter().enumerate() {
            files.insert(
                rel_path(&root, &module.file.path),
                FileTarget::Module(ModuleRef { part: p, module: m }),
            );
        }
    }

    let mut images = images::Images::new(&root);
    let mut pending: Vec<PendingAnchor> = Vec::new();
    let mut stats = Stats::default();
    let mut out_parts = Vec::with_capacity(parts.len());
    for (p, part) in parts.into_iter().enumerate() {
        let dir = rel_dir(&root, &part.file.path);
        let mut resolver = Resolver {
            files: &files,
            images: &mut images,
            remote: &mut remote,
            pending: &mut pending,
            stats: &mut stats.links,
            file: part.file.path.clone(),
            dir: dir.clone(),
            current: Target::Part(p),
            base_url: book.links.base_url.as_deref(),
            missing_files: book.links.missing_files,
            root: &root,
        };
        let overview = markdown::parse(
            &part.file.body,
            part.file.body_line,
            &part.file.path,
            &mut resolver,
            diags,
        );
        let mut modules = Vec::with_capacity(part.modules.len());
        for (m, ms) in part.modules.into_iter().enumerate() {
            // Modules may sit in subfolders (mdBook chapters): links and images
            // are relative to the module's own folder.
            resolver.dir = rel_dir(&root, &ms.file.path);
            resolver.file = ms.file.path.clone();
            resolver.current = Target::Module(ModuleRef { part: p, module: m });
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
                title: smart_quotes(&ms.title),
                summary: smart_quotes(&ms.summary),
                difficulty: ms.difficulty,
                minutes: ms.minutes.unwrap_or_else(|| reading_minutes(parsed.words)),
                tags: ms.tags.into_iter().map(|(t, _)| t).collect(),
                source: ms.file.path,
                blocks: parsed.blocks,
                headings: parsed.headings,
                anchors: parsed.anchors,
                footnotes: parsed.footnotes,
                words: parsed.words,
            });
        }
        out_parts.push(Part {
            number: part.number,
            id: format!("part-{:02}", part.number),
            slug: part.slug,
            title: smart_quotes(&part.title),
            summary: smart_quotes(&part.summary),
            source: part.file.path,
            overview: overview.blocks,
            headings: overview.headings,
            anchors: overview.anchors,
            footnotes: overview.footnotes,
            modules,
        });
    }

    // Anchors are checked once every module's headings are known. Real books
    // link to a chapter's title (`ch04.md#what-is-ownership`: the title is a
    // heading on GitHub and in mdBook) and spell heading ids GitHub's way;
    // such links are rewritten to what they mean.
    let mut rewrites: BTreeMap<(Target, String), Option<String>> = BTreeMap::new();
    let missing_anchors = book.links.missing_anchors;
    for a in &pending {
        let (target, source) = match a.target {
            Target::Module(r) => {
                let m = &out_parts[r.part].modules[r.module];
                (anchors::Page::module(m), &m.source)
            }
            Target::Part(p) => {
                let part = &out_parts[p];
                (anchors::Page::part(part), &part.source)
            }
        };
        match anchors::resolve(&target, &a.anchor) {
            Some(Some(id)) if id == a.anchor => {}
            Some(meant) => {
                rewrites.insert((a.target, a.anchor.clone()), meant);
            }
            None => {
                let hint = anchors::closest(&target, &a.anchor);
                let what = format!(
                    "link to missing heading '#{}' in {} ({hint})",
                    a.anchor,
                    source.display()
                );
                if missing_anchors == MissingAnchors::Warn {
                    diags.warning(
                        &a.file,
                        a.pos,
                        format!("{what}: it goes to the module's start"),
                    );
                    rewrites.insert((a.target, a.anchor.clone()), None);
                } else {
                    diags.error(
                        &a.file,
                        a.pos,
                        format!("{what}; or set `[links] missing-anchors = \"warn\"` in book.toml to link to the module's start"),
                    );
                }
            }
        }
    }
    if !rewrites.is_empty() {
        for part in &mut out_parts {
            anchors::rewrite_blocks(&mut part.overview, &rewrites);
            for n in &mut part.footnotes {
                anchors::rewrite_blocks(&mut n.blocks, &rewrites);
            }
            for m in &mut part.modules {
                anchors::rewrite_blocks(&mut m.blocks, &rewrites);
                for n in &mut m.footnotes {
                    anchors::rewrite_blocks(&mut n.blocks, &rewrites);
                }
            }
        }
    }
    stats.anchors_checked = pending.len();
    stats.remote = remote.finish(diags);

    let slug = book
        .slug
        .clone()
        .unwrap_or_else(|| ids::slugify(&book.title));
    let book = Book {
        meta: BookMeta {
            title: smart_quotes(&book.title),
            subtitle: book.subtitle.as_deref().map(smart_quotes),
            description: book.description.as_deref().map(smart_quotes),
            authors: book.authors,
            language: book.language,
            identifier: book.identifier,
            version: book.version,
            copyright: book.copyright,
            publisher: book.publisher,
            date: book.date,
            slug,
            // Out-of-range values were reported when book.toml was read.
            pdf: book.pdf.settings().unwrap_or_default(),
            formats: book.build.formats(),
        },
        root,
        parts: out_parts,
        images: images.list,
    };
    (book, stats)
}

/// Reading time at 200 words a minute, rounded up, at least one minute.
pub fn reading_minutes(words: usize) -> u32 {
    u32::try_from(words.div_ceil(200))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The `http(s)` image URLs of Markdown bodies (Markdown images and HTML
/// `<img src>`), as the parser will see them.
fn remote_image_urls<'a>(bodies: impl Iterator<Item = &'a str>) -> Vec<String> {
    use pulldown_cmark::{Event, Tag};
    let mut urls = Vec::new();
    let mut push = |url: &str| {
        let url = url.trim();
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            urls.push(url.to_string());
        }
    };
    for body in bodies {
        for event in pulldown_cmark::Parser::new_ext(body, markdown::options()) {
            match event {
                Event::Start(Tag::Image { dest_url, .. }) => push(&dest_url),
                Event::Html(h) | Event::InlineHtml(h)
                    if h.to_ascii_lowercase().contains("<img") =>
                {
                    for t in html::tokenize(&h) {
                        if let html::HtmlToken::Start { name, attrs, .. } = t
                            && name == "img"
                            && let Some(src) = html::HtmlToken::attr(&attrs, "src")
                        {
                            push(src);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    urls
}

/// The folder of `file` relative to the content root, as components.
fn rel_dir(root: &std::path::Path, file: &std::path::Path) -> Vec<String> {
    let parent = file.parent().unwrap_or(file);
    parent
        .strip_prefix(root)
        .unwrap_or(parent)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// `file` relative to the content root with `/` separators: the key links resolve to.
fn rel_path(root: &std::path::Path, file: &std::path::Path) -> String {
    let mut parts = rel_dir(root, file);
    if let Some(name) = file.file_name() {
        parts.push(name.to_string_lossy().into_owned());
    }
    parts.join("/")
}

/// Titles and summaries from front matter and book.toml with the body's
/// typographic quotes (the body gets them from pulldown-cmark's smart
/// punctuation): "Conway's" becomes "Conway’s", "a "b"" becomes "a “b”". A
/// quote opens after a space, an opening bracket or dash, or at the start;
/// otherwise it closes (an apostrophe is a closing single quote).
fn smart_quotes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let opens = prev.is_none_or(|p| p.is_whitespace() || "([{\u{2014}\u{2013}-/".contains(p));
        out.push(match c {
            '\'' if opens => '\u{2018}',
            '\'' => '\u{2019}',
            '"' if opens => '\u{201c}',
            '"' => '\u{201d}',
            c => c,
        });
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn front_matter_quotes_curl_like_the_body() {
        use super::smart_quotes;
        assert_eq!(smart_quotes("Conway's Law"), "Conway\u{2019}s Law");
        assert_eq!(
            smart_quotes("The \"Hard\" Parts"),
            "The \u{201c}Hard\u{201d} Parts"
        );
        assert_eq!(
            smart_quotes("'Quoted' (\"x\")"),
            "\u{2018}Quoted\u{2019} (\u{201c}x\u{201d})"
        );
        assert_eq!(
            smart_quotes("Rock 'n' Roll's"),
            "Rock \u{2018}n\u{2019} Roll\u{2019}s"
        );
    }

    use super::*;

    #[test]
    fn remote_urls_come_from_markdown_and_html_images() {
        let body = "![a](https://x.test/a.png)\n\n![b](img/b.png) [link](https://x.test/c.png)\n\n\
                    <p><IMG SRC=\"HTTP://x.test/d.gif\" alt=\"d\"></p>\n\nInline <img src='https://x.test/e.svg'> too.\n";
        assert_eq!(
            remote_image_urls(std::iter::once(body)),
            [
                "https://x.test/a.png",
                "HTTP://x.test/d.gif",
                "https://x.test/e.svg"
            ]
        );
    }
}
