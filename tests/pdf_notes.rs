//! A footnote shares its page with its reference, on every paper: where
//! Typst would keep a note on the page before (its paragraph moved on with a
//! sticky heading, typst/typst#5314) or put it on the next (no room at the
//! foot, typst/typst#5603), Quire starts the reference's block on a new page.

mod common;

use std::process::Command;

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];

const FILLER: &str = "Replication keeps a copy of every write on more than one machine, so a \
    failure loses nothing and reads can go to any copy. ";

/// Modules whose heading and footnoted paragraph fall a little lower on the
/// page each time, so some reach its foot.
fn notes_book() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(dir.path(), "book.toml", common::BOOK_TOML.as_bytes());
    common::write(dir.path(), "01-basics/_part.md", common::PART.as_bytes());
    for (m, word) in WORDS.iter().enumerate() {
        let lead = FILLER.repeat(12 + 2 * m);
        let body = format!(
            "{lead}\n\n{lead}\n\n### Where {word} goes\n\nThe {word}marker sentence.[^n] {FILLER}\n\n\
             {FILLER}{FILLER}{FILLER}\n\n[^n]: The {word}note, with a source.\n"
        );
        let module = common::module(&format!("Module {word}"), "beginner", "Redis", &body);
        common::write(
            dir.path(),
            &format!("01-basics/{:02}-{word}.md", m + 1),
            module.as_bytes(),
        );
    }
    dir
}

#[test]
fn every_footnote_is_on_the_page_of_its_reference() {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        common::missing_tool("pdftotext (apt-get install poppler-utils)");
        return;
    }
    let book = notes_book();
    for paper in ["a4", "letter", "a5", "6x9"] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(book.path(), out.path(), &["--pdf", "--paper", paper]);
        let o = Command::new("pdftotext")
            .arg(out.path().join("test-book.pdf"))
            .arg("-")
            .output()
            .expect("pdftotext");
        let text = String::from_utf8_lossy(&o.stdout);
        let pages: Vec<String> = text
            .split('\u{c}')
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let page_of = |needle: &str| {
            pages
                .iter()
                .position(|p| p.contains(needle))
                .unwrap_or_else(|| panic!("{paper}: {needle:?} is printed"))
        };
        for word in WORDS {
            let (reference, note) = (
                page_of(&format!("{word}marker")),
                page_of(&format!("{word}note")),
            );
            assert_eq!(
                reference,
                note,
                "{paper}: the footnote of {word} is on page {}, its reference on page {}",
                note + 1,
                reference + 1
            );
        }
    }
}
