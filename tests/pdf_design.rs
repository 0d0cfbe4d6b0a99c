//! The book PDF as a book designer reads it, on every paper profile: titles
//! whole (never hyphenated) on the cover, title page, contents and module
//! openings; the front matter on its sides (title recto, copyright verso,
//! contents recto); contents entries that wrap keep leader and page number
//! on their last line; blank pages carry no head or number; the PDF claims
//! PDF/UA-1.
//! The shipped book is built once per profile, and every check reads it.

mod common;

use std::path::Path;
use std::process::Command;

use quire::model::Book;

fn tools() -> bool {
    ["pdftotext", "qpdf"]
        .iter()
        .all(|t| common::tool(t, "qpdf poppler-utils"))
}

/// Text of each physical page (layout order when `layout`).
fn pages(pdf: &Path, layout: bool) -> Vec<String> {
    let mut v = common::pdf_pages(pdf, layout);
    v.pop(); // after the last form feed
    v
}

/// The text of each page of the A5 book PDF of a fixture book with `files`.
fn a5_pages(files: &[(String, String)]) -> Vec<String> {
    let extra: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = common::book(&extra);
    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &["--pdf", "--paper", "a5"]);
    let book = quire::load(dir.path()).expect("loads").book;
    pages(&out.path().join(format!("{}.pdf", book.meta.slug)), false)
}

/// Text as one line: a break after a hard hyphen joins ("Back-of-the-
/// Envelope"), other line ends are spaces. A soft hyphen (U+00AD), the mark
/// of a hyphenated word, stays, so a title broken by one is not found whole.
fn flat(text: &str) -> String {
    text.replace("-\n", "-")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn non_empty(page: &str) -> Vec<&str> {
    page.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

fn is_page_number(s: &str) -> bool {
    !s.is_empty()
        && (s.chars().all(|c| c.is_ascii_digit()) || s.chars().all(|c| "ivxlc".contains(c)))
}

/// The physical page (from 0) where each module opens: its kicker line.
fn openings(reading: &[String], book: &Book) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for part in &book.parts {
        for m in &part.modules {
            let kicker = format!("Part {} · Module {}", part.number, m.number);
            let at = reading
                .iter()
                .position(|p| p.lines().any(|l| l.trim() == kicker))
                .unwrap_or_else(|| panic!("no page opens {kicker}"));
            out.push((at, m.title.clone()));
        }
    }
    out
}

/// The contents pages: from the page headed "Contents" while each page
/// carries the "Contents" running head.
fn contents_range(layout: &[String]) -> std::ops::Range<usize> {
    let first = layout
        .iter()
        .position(|p| non_empty(p).first() == Some(&"Contents"))
        .expect("a contents page");
    let mut end = first + 1;
    while end < layout.len() && non_empty(&layout[end]).first() == Some(&"Contents") {
        end += 1;
    }
    first..end
}

fn check_titles_whole(profile: &str, book: &Book, reading: &[String], layout: &[String]) {
    let title = &book.meta.title;
    // Cover (page 1) and title page (page 3).
    for (page, what) in [(0, "cover"), (2, "title page")] {
        assert!(
            flat(&reading[page]).contains(title.as_str()),
            "{profile}: the {what} does not show {title:?} whole: {:?}",
            reading[page]
        );
    }
    let contents: String = layout[contents_range(layout)].concat();
    let toc = flat(&contents);
    assert!(
        !contents.contains('\u{ad}'),
        "{profile}: a contents entry is hyphenated"
    );
    for part in &book.parts {
        let t = format!("Part {}: {}", part.number, part.title);
        assert!(
            toc.contains(&t),
            "{profile}: {t:?} not whole in the contents"
        );
    }
    let mut broken = Vec::new();
    for (at, t) in openings(reading, book) {
        if !toc.contains(t.as_str()) {
            broken.push(format!("contents: {t}"));
        }
        // Layout order: reading order drops a hyphen at a line end.
        if !flat(&layout[at]).contains(t.as_str()) {
            broken.push(format!("opening page {}: {t}", at + 1));
        }
    }
    assert!(
        broken.is_empty(),
        "{profile}: {} titles not whole (hyphenated?):\n{}",
        broken.len(),
        broken.join("\n")
    );
    // Running heads (first line of a page) and the index pages never
    // hyphenate either.
    for (i, page) in layout.iter().enumerate() {
        if let Some(head) = non_empty(page).first() {
            assert!(
                !head.contains('\u{ad}'),
                "{profile}: running head of page {} hyphenated: {head}",
                i + 1
            );
        }
    }
    let index = layout
        .iter()
        .rposition(|p| non_empty(p).first() == Some(&"Index of technologies"))
        .map(|last| {
            layout
                .iter()
                .position(|p| non_empty(p).first() == Some(&"Index of technologies"))
                .unwrap_or(last)
        })
        .expect("a tag index");
    assert!(
        !layout[index..].concat().contains('\u{ad}'),
        "{profile}: an index entry is hyphenated"
    );
}

/// Cover recto, its back blank, title page recto, copyright verso, contents
/// recto; the body starts on a right-hand page (an odd physical page).
fn check_front_matter_sides(profile: &str, book: &Book, reading: &[String]) {
    let title = &book.meta.title;
    assert!(
        flat(&reading[0]).contains(title.as_str()),
        "{profile}: page 1 is the cover"
    );
    assert!(
        reading[1].trim().is_empty(),
        "{profile}: the cover's back is blank: {:?}",
        reading[1]
    );
    assert!(
        flat(&reading[2]).contains(title.as_str()) && !reading[2].contains("Identifier:"),
        "{profile}: page 3 (recto) is the title page: {:?}",
        reading[2]
    );
    assert!(
        reading[3].contains("Identifier:") && reading[3].contains("Version"),
        "{profile}: page 4 (the title page's back) is the copyright page: {:?}",
        reading[3]
    );
    assert_eq!(
        non_empty(&reading[4]).first(),
        Some(&"Contents"),
        "{profile}: the contents open on page 5, a right-hand page"
    );
    // Part 1 (or 0) opens the body, on page 1 of the body: a right-hand page.
    let first = &book.parts[0];
    let opening = format!("Part {}: {}", first.number, first.title);
    let at = reading
        .iter()
        .enumerate()
        .skip(5)
        .find(|(_, p)| non_empty(p).first() == Some(&opening.as_str()))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("{profile}: no page opens {opening}"));
    assert_eq!(
        at % 2,
        0,
        "{profile}: the body opens on physical page {}",
        at + 1
    );
}

/// Every module entry of the contents: its lines run from its number to
/// the one line that ends with its page number, after the leader and
/// with "… min" before it, never a number alone; the next entry follows.
fn check_contents_wrap(profile: &str, book: &Book, layout: &[String]) -> usize {
    let lines: Vec<&str> = layout[contents_range(layout)]
        .iter()
        .flat_map(|p| p.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Contents" && !is_page_number(l))
        .collect();
    let text = lines.join("\n");
    assert!(
        !regex_like_split_minutes(&text),
        "{profile}: '25 / min' split across lines in the contents"
    );
    let mut at = 0;
    let mut wrapped = 0;
    for part in &book.parts {
        let head = format!("Part {}: {}", part.number, part.title);
        let i = lines[at..]
            .iter()
            .position(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("{profile}: {head} not in the contents"));
        at += i + 1;
        for m in &part.modules {
            let number = format!("{}.{} ", part.number, m.number);
            assert!(
                lines[at].starts_with(&number),
                "{profile}: expected the entry {number}({}) next in the contents, found {:?}",
                m.title,
                lines[at]
            );
            let start = at;
            // The entry's last line ends "min . . . 47" (or "min 47": a
            // leader can shrink to nothing): every line before has no page.
            let end = (start..lines.len())
                .find(|&k| ends_with_page(lines[k]))
                .unwrap_or_else(|| panic!("{profile}: {number} has no page number"));
            let last = lines[end];
            assert!(
                last.contains("min"),
                "{profile}: the page number of {number}({}) stands on a line without the entry's minutes: {last:?}",
                m.title
            );
            if end > start {
                wrapped += 1;
            }
            at = end + 1;
        }
    }
    wrapped
}

/// "… min . . . 47", "… min 47": a line ending with a page number.
fn ends_with_page(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().rev().take(2).collect();
    matches!(words[..], [page, "." | "min"] if page.parse::<u64>().is_ok())
}

/// Whether a number ends a line and "min" starts the next ("25\nmin").
fn regex_like_split_minutes(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(2).any(|w| {
        w[0].split_whitespace()
            .last()
            .is_some_and(|t| t.parse::<u64>().is_ok())
            && w[1].starts_with("min")
    })
}

/// The difficulty index: an entry that wraps ends with leader and page on
/// its last line, so no line is a page number alone or a leader alone.
fn check_difficulty_index(profile: &str, layout: &[String]) {
    let first = layout
        .iter()
        .position(|p| non_empty(p).first() == Some(&"Modules by difficulty"))
        .expect("a difficulty index");
    let mut entries = 0;
    for line in layout[first..].iter().flat_map(|p| non_empty(p)) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((last, rest)) = words.split_last() else {
            continue;
        };
        if last.parse::<u64>().is_err() || rest.is_empty() {
            continue; // a footer, or not an entry's last line
        }
        entries += 1;
        assert!(
            rest.iter().any(|w| w.chars().any(char::is_alphabetic)),
            "{profile}: a difficulty index line without its title: {line:?}"
        );
    }
    assert!(
        entries >= 100,
        "{profile}: {entries} difficulty index entries"
    );
}

/// A page with nothing but a page number or a running head is a blank page
/// that kept its furniture.
fn check_blank_pages(profile: &str, book: &Book, layout: &[String]) {
    let mut heads: Vec<String> = vec![
        "Contents".into(),
        "Index of technologies".into(),
        "Modules by difficulty".into(),
    ];
    for part in &book.parts {
        heads.push(format!("Part {}: {}", part.number, part.title));
        heads.extend(part.modules.iter().map(|m| m.title.clone()));
    }
    for (i, page) in layout.iter().enumerate() {
        let lines = non_empty(page);
        if !lines.is_empty()
            && lines
                .iter()
                .all(|l| is_page_number(l) || heads.iter().any(|h| h == l))
        {
            panic!("{profile}: page {} is blank but for {lines:?}", i + 1);
        }
    }
}

#[test]
fn shipped_book_titles_front_matter_and_contents_on_every_profile() {
    if !tools() {
        return;
    }
    let content = common::repo_root().join("content");
    let book = quire::load(&content).expect("content loads").book;
    for profile in ["a4", "letter", "a5", "6x9"] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(&content, out.path(), &["--pdf", "--paper", profile]);
        let pdf = out.path().join(format!("{}.pdf", book.meta.slug));
        let check = Command::new("qpdf")
            .arg("--check")
            .arg(&pdf)
            .output()
            .expect("qpdf");
        assert!(check.status.success(), "{profile}: qpdf --check failed");
        // PDF/UA-1 claimed (Quire drops the claim when the content cannot
        // meet it: a heading level skipped in one module did, for the whole
        // book). The XMP metadata is stored uncompressed.
        let bytes = std::fs::read(&pdf).expect("read pdf");
        assert!(
            bytes.windows(12).any(|w| w == b"pdfuaid:part"),
            "{profile}: the book PDF carries no PDF/UA-1 claim"
        );
        // Its small objects are packed into compressed object streams
        // (typst-pdf writes each uncompressed; packed, A4 is 2.8 -> 1.3 MB).
        assert!(
            bytes.windows(12).any(|w| w == b"/Type/ObjStm"),
            "{profile}: the book PDF has no object streams"
        );
        let reading = pages(&pdf, false);
        let layout = pages(&pdf, true);
        assert_eq!(reading.len(), layout.len());
        check_front_matter_sides(profile, &book, &reading);
        check_titles_whole(profile, &book, &reading, &layout);
        let wrapped = check_contents_wrap(profile, &book, &layout);
        // The rule is only tested if entries do wrap (47 of 159 did on A4).
        assert!(
            wrapped > 5,
            "{profile}: only {wrapped} contents entries wrap"
        );
        check_blank_pages(profile, &book, &layout);
        check_difficulty_index(profile, &layout);
        // Right-hand pages of the contents run its title, not an empty rule.
        let toc = contents_range(&layout);
        assert!(toc.len() >= 2, "{profile}: contents of {} pages", toc.len());
    }
}

/// Headings nest without a skipped level however the Markdown jumps
/// (`##` then `####` is 3 then 4 in the PDF, under the module's 2): PDF/UA
/// requires it, and one such module cost the whole book its claim.
#[test]
fn heading_levels_never_skip() {
    let dir = common::book(&[
        (
            "01-basics/_part.md",
            "---\ntitle: \"Part\"\nsummary: \"A part.\"\n---\n\n## Reading plan\n\nOverview.\n",
        ),
        (
            "01-basics/01-intro.md",
            &common::module(
                "Intro",
                "beginner",
                "Redis",
                "## Setup {#setup}\n\nText.\n\n#### Deep\n\nText.\n\n##### Deeper\n\nText.\n\n## Next\n\nText.",
            ),
        ),
    ]);
    let loaded = quire::load(dir.path()).expect("loads");
    let markup =
        quire::render::pdf::markup(&loaded.book, &loaded.index, quire::render::pdf::Paper::A4);
    // Intro's sections, from its first.
    let intro = markup.find("[#\"Setup\"]").expect("the section Setup");
    let start = markup[..intro]
        .rfind("#heading(level: ")
        .expect("its heading");
    let after: Vec<&str> = markup[start..]
        .match_indices("#heading(level: ")
        .map(|(i, m)| &markup[start + i + m.len()..start + i + m.len() + 1])
        .collect();
    assert_eq!(after[..4], ["3", "4", "5", "3"], "{markup}");
    // A part overview's `##` is 2, under the part's title (1), not 3.
    let plan = markup
        .find("[#\"Reading plan\"]")
        .expect("the overview heading");
    let at = markup[..plan]
        .rfind("#heading(level: ")
        .expect("its heading");
    assert_eq!(&markup[at + 16..at + 17], "2", "{}", &markup[at..plan]);
}

/// Code blocks split across pages keep at least three lines on each side,
/// and one of up to six lines never splits: modules whose code starts at
/// every height of the page (the text before it grows a line at a time).
#[test]
fn code_blocks_keep_three_lines_on_each_side_of_a_break() {
    if !tools() {
        return;
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for k in 0..36 {
        let filler = "Words to fill the page before the code. ".repeat(4 + k * 2);
        let long: Vec<String> = (0..24)
            .map(|i| format!("    m{k}_x{i} = compute({i})"))
            .collect();
        let short: Vec<String> = (0..5)
            .map(|i| format!("    m{k}_y{i} = compute({i})"))
            .collect();
        let body = format!(
            "## Code\n\n{filler}\n\n```python\n{}\n```\n\n{filler}\n\n```python\n{}\n```\n",
            long.join("\n"),
            short.join("\n")
        );
        files.push((
            format!("03-code/{:02}-m{k}.md", k + 1),
            common::module(&format!("Module {k}"), "beginner", "Redis", &body),
        ));
    }
    files.push(("03-code/_part.md".into(), common::PART.into()));
    let reading = a5_pages(&files);
    let mut splits = 0;
    for k in 0..36 {
        for (name, len) in [("x", 24), ("y", 5)] {
            let counts: Vec<usize> = reading
                .iter()
                .map(|p| {
                    (0..len)
                        .filter(|i| p.contains(&format!("m{k}_{name}{i} =")))
                        .count()
                })
                .filter(|&n| n > 0)
                .collect();
            assert_eq!(
                counts.iter().sum::<usize>(),
                len,
                "module {k} {name}: {counts:?}"
            );
            if len <= 6 {
                assert_eq!(
                    counts.len(),
                    1,
                    "module {k}: a 5-line block split {counts:?}"
                );
            } else if counts.len() > 1 {
                splits += 1;
                assert!(
                    counts.iter().all(|&n| n >= 3),
                    "module {k}: a code block split leaving fewer than 3 lines: {counts:?}"
                );
            }
        }
    }
    // The check means something only if blocks did split.
    assert!(splits >= 5, "only {splits} code blocks split");
}

/// Admonition titles and quote attributions never stand alone at a page's
/// foot or head: modules whose admonition and quote start at every height
/// of the page.
#[test]
fn admonition_titles_and_attributions_stay_with_their_text() {
    if !tools() {
        return;
    }
    let mut files: Vec<(String, String)> = vec![("03-keep/_part.md".into(), common::PART.into())];
    for k in 0..30 {
        let filler = "Words to fill the page before the box. ".repeat(4 + k * 2);
        let body = format!(
            "## Keep\n\n{filler}\n\n> [!TIP]\n> tipbody{k} starts the tip, which runs on for a while to fill a line or two of the box.\n\n\
             {filler}\n\n> A quotation that runs on for a line or two, so that it can break, ending quoteend{k}.\n>\n> — Someone{k}\n"
        );
        files.push((
            format!("03-keep/{:02}-m{k}.md", k + 1),
            common::module(&format!("Keep {k}"), "beginner", "Redis", &body),
        ));
    }
    let reading = a5_pages(&files);
    for k in 0..30 {
        let page_of = |needle: &str| {
            reading
                .iter()
                .position(|p| p.contains(needle))
                .unwrap_or_else(|| panic!("{needle} not printed"))
        };
        let tip_body = page_of(&format!("tipbody{k} "));
        assert!(
            non_empty(&reading[tip_body]).contains(&"Tip"),
            "module {k}: the tip's title is not on the page of its text (page {})",
            tip_body + 1
        );
        assert_eq!(
            page_of(&format!("quoteend{k}")),
            page_of(&format!("Someone{k}")),
            "module {k}: the attribution is parted from its quote"
        );
    }
}
