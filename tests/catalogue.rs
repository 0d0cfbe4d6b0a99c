//! The shipped curriculum against its source of truth, the catalogue: every
//! part and module title, summary, difficulty, minutes and visible tag must
//! round-trip. The catalogue is parsed here independently of Quire's loader.

mod common;

use quire::model::Difficulty;

struct CatModule {
    part: u32,
    number: u32,
    /// "TITLE SUMMARY TAGSdiff" with the hidden-tag count removed.
    glued: String,
    minutes: u32,
}

struct CatPart {
    number: u32,
    title: String,
    summary: String,
}

fn parse_catalogue(text: &str) -> (Vec<CatPart>, Vec<CatModule>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut parts = Vec::new();
    let mut modules = Vec::new();
    let mut current = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(n) = line
            .strip_prefix("Part ")
            .and_then(|n| n.trim().parse::<u32>().ok())
        {
            // "Part N", blank, title, blank, summary
            let rest: Vec<&str> = lines[i + 1..]
                .iter()
                .copied()
                .filter(|l| !l.trim().is_empty())
                .take(2)
                .collect();
            parts.push(CatPart {
                number: n,
                title: rest[0].trim().to_string(),
                summary: rest[1].trim().to_string(),
            });
            current = Some(n);
        } else if let (Some(part), Some((num, rest))) =
            (current, line.trim_start().split_once(". "))
            && let (Ok(number), Some(body)) = (num.parse::<u32>(), rest.strip_suffix(" min"))
        {
            let (glued, minutes) = body.rsplit_once(' ').expect("minutes");
            // Drop the "+N" count of hidden tags just before the difficulty.
            let (head, diff) = glued.split_at(glued.len() - 3);
            let head = match head.rfind('+') {
                Some(p)
                    if p + 1 < head.len() && head[p + 1..].chars().all(|c| c.is_ascii_digit()) =>
                {
                    &head[..p]
                }
                _ => head,
            };
            modules.push(CatModule {
                part,
                number,
                glued: format!("{head}{diff}"),
                minutes: minutes.parse().expect("minutes number"),
            });
        }
        i += 1;
    }
    (parts, modules)
}

fn abbrev(d: Difficulty) -> &'static str {
    match d {
        Difficulty::Beginner => "beg",
        Difficulty::Intermediate => "int",
        Difficulty::Advanced => "adv",
    }
}

#[test]
fn shipped_curriculum_matches_the_catalogue() {
    let root = common::repo_root();
    let text = std::fs::read_to_string(root.join("tests/data/curriculum-catalogue.txt"))
        .expect("catalogue");
    let (cat_parts, cat_modules) = parse_catalogue(&text);
    assert_eq!(cat_parts.len(), 12);
    assert_eq!(cat_modules.len(), 159);

    let loaded = quire::load(&root.join("content")).unwrap_or_else(|e| match e {
        quire::Error::Content(d) => panic!(
            "{}",
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
        e => panic!("{e}"),
    });
    let book = &loaded.book;
    assert_eq!(book.parts.len(), 12);
    assert_eq!(book.module_count(), 159);

    for (cp, part) in cat_parts.iter().zip(&book.parts) {
        assert_eq!(part.number, cp.number);
        assert_eq!(straight(&part.title), cp.title, "part {}", cp.number);
        assert_eq!(straight(&part.summary), cp.summary, "part {}", cp.number);
    }
    let mut mismatches = Vec::new();
    for (cm, (_, m)) in cat_modules.iter().zip(book.modules()) {
        let part = &book
            .parts
            .iter()
            .find(|p| p.modules.iter().any(|x| x.id == m.id))
            .expect("part");
        assert_eq!((part.number, m.number), (cm.part, cm.number), "{}", m.title);
        let glued = format!(
            "{} {} {}{}",
            straight(&m.title),
            straight(&m.summary),
            m.tags.concat(),
            m.difficulty.map(abbrev).unwrap_or_default()
        );
        if glued != cm.glued || m.minutes != cm.minutes {
            mismatches.push(format!(
                "part {} module {}:\n  catalogue: {}\n  content:   {}",
                cm.part, cm.number, cm.glued, glued
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // Spot checks the issue names.
    let url = book
        .modules()
        .find(|(_, m)| m.id == "design-a-url-shortener")
        .expect("URL shortener")
        .1;
    assert_eq!(url.title, "Design a URL Shortener (TinyURL / bit.ly)");
    assert!(url.summary.starts_with("An interview-grade walkthrough"));
    assert!(url.heading("capacity-estimation").is_some());
}

#[test]
fn every_module_starts_with_its_summary() {
    let loaded = quire::load(&common::repo_root().join("content")).expect("content loads");
    for (_, m) in loaded.book.modules() {
        let Some(quire::model::Block::Paragraph(first)) = m.blocks.first() else {
            panic!("{}: first block is not a paragraph", m.id);
        };
        // Smart punctuation curls quotes in the body; compare without them.
        let norm = |s: &str| s.replace(['’', '‘'], "'").replace(['“', '”'], "\"");
        assert_eq!(
            norm(quire::model::inline_text(first).trim()),
            norm(&m.summary),
            "{}",
            m.id
        );
    }
}

#[test]
fn six_full_length_modules_in_different_parts() {
    let loaded = quire::load(&common::repo_root().join("content")).expect("content loads");
    let long: Vec<(u32, &str, usize)> = loaded
        .book
        .parts
        .iter()
        .flat_map(|p| {
            p.modules
                .iter()
                .map(move |m| (p.number, m.id.as_str(), m.words))
        })
        .filter(|(_, _, w)| *w >= 1500)
        .collect();
    assert!(long.len() >= 6, "{long:?}");
    let parts: std::collections::BTreeSet<u32> = long.iter().map(|(p, _, _)| *p).collect();
    assert!(parts.len() >= 6, "spread over parts: {long:?}");
}

/// The catalogue is plain text with straight quotes; the book's titles and
/// summaries carry the typographic quotes the body gets ("Conway’s").
fn straight(s: &str) -> String {
    s.replace(['\u{2019}', '\u{2018}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
}
