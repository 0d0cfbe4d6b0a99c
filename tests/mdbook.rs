//! An mdBook project builds as it is: `tests/fixtures/mdbook-mini` (book.toml
//! with `[book]`, `[output.*]`, `[preprocessor.*]` and `[rust]`; SUMMARY.md
//! with a prefix chapter, two `# Part`s, nested chapters in subfolders, a
//! draft, separators and a suffix chapter; `{{#include}}` and
//! `{{#rustdoc_include}}` of a listing outside `src/`; hidden code lines;
//! links to other chapters' headings and titles; an SVG with a DOCTYPE).

mod common;

use std::path::Path;

use common::epub::{entries, epubcheck, nested_anchors};
use common::{build, check, fixture_copy, quire, repo_root};

fn fixture() -> std::path::PathBuf {
    repo_root().join("tests/fixtures/mdbook-mini")
}

fn page(epub: &Path, name: &str) -> String {
    entry(epub, &format!("EPUB/text/{name}"))
}

/// An entry of the EPUB as text, by its full name.
fn entry(epub: &Path, name: &str) -> String {
    let entry = entries(epub)
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no {name} in the EPUB"));
    String::from_utf8(entry.bytes).expect("UTF-8")
}

#[test]
fn mdbook_project_checks_with_its_warnings() {
    let (code, out, err) = check(&fixture());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("parts          2"), "{out}");
    assert!(out.contains("modules        6"), "{out}");
    // The draft chapter is left out, where SUMMARY.md lists it.
    assert!(
        err.contains("src/SUMMARY.md:12:5: warning: draft chapter 'Writing notes' has no file"),
        "{err}"
    );
    // An unknown directive is kept as text, with a warning at its place.
    assert!(
        err.contains(
            "src/guide/hello.md:22:44: warning: mdBook directive '{{#tabs}}' is not supported"
        ),
        "{err}"
    );
    // Nothing about tags, difficulty or front matter: mdBook has none of them.
    assert_eq!(err.matches("warning:").count(), 2, "{err}");
}

#[test]
fn mdbook_project_builds_an_epub() {
    let out = tempfile::tempdir().expect("tempdir");
    build(&fixture(), out.path(), &["--epub"]);
    let epub = out.path().join("mini-mdbook.epub");
    assert!(epub.is_file());
    // [book] description is the EPUB's description (escaped as XML).
    let opf = entry(&epub, "EPUB/package.opf");
    assert!(
        opf.contains("<dc:description>A mini book: every SUMMARY construct &amp; an include.</dc:description>"),
        "{opf}"
    );

    // Parts from the `# Part` headings; modules in SUMMARY order, titled by
    // their SUMMARY links (sub-chapters flattened into the same part).
    let nav = entry(&epub, "EPUB/nav.xhtml");
    let order = [
        "Part 1: Getting Started",
        "Introduction",
        "Installation",
        "On Linux",
        "Hello, World!",
        "Part 2: Going Further",
        "Advanced Topics",
        "Contributors",
    ];
    let mut at = 0;
    for label in order {
        let found = nav[at..]
            .find(&format!(">{label}</a>"))
            .unwrap_or_else(|| panic!("'{label}' missing or out of order in the nav:\n{nav}"));
        at += found;
    }
    // No module has a difficulty: no difficulty index anywhere.
    assert!(!nav.contains("difficulty"), "{nav}");
    assert!(!entries(&epub).iter().any(|e| e.name.contains("difficulty")));

    // The title is printed once: the chapter's own `# Installation` (and the
    // `## On Linux` that repeats the SUMMARY entry) left the body.
    for (file, title) in [
        ("m-install.xhtml", "Installation"),
        ("m-linux.xhtml", "On Linux"),
    ] {
        let p = page(&epub, file);
        assert_eq!(
            p.matches(&format!(">{title}</h")).count(),
            1,
            "{file}:\n{p}"
        );
        assert!(
            !p.contains("class=\"badge"),
            "{file}: a badge without difficulty"
        );
    }

    // Includes: the anchored listing, the other lines hidden (rustdoc_include)
    // and mdBook's hidden-line prefixes dropped.
    let hello = page(&epub, "m-hello.xhtml");
    assert!(hello.contains("println!"), "{hello}");
    for gone in ["use std::io", "ANCHOR", "unused", "import sys", "~"] {
        assert!(
            !hello.contains(gone),
            "'{gone}' should not be in the page:\n{hello}"
        );
    }

    // Links relative to chapters in subfolders, to headings and to titles.
    let linux = page(&epub, "m-linux.xhtml");
    assert!(
        linux.contains("href=\"m-hello.xhtml#running-it\""),
        "{linux}"
    );
    assert!(
        linux.contains("href=\"m-install.xhtml#checking-the-version\""),
        "{linux}"
    );
    let intro = page(&epub, "m-readme.xhtml");
    assert!(
        intro.contains("href=\"m-advanced.xhtml#error-handling\""),
        "{intro}"
    );
    let advanced = page(&epub, "m-advanced.xhtml");
    assert!(advanced.contains("href=\"m-hello.xhtml\""), "{advanced}");

    // The figure, relative to its chapter in src/guide/, stored without its DOCTYPE.
    let svg = entries(&epub)
        .into_iter()
        .find(|e| e.name.starts_with("EPUB/images/") && e.name.ends_with(".svg"))
        .expect("the SVG figure");
    assert!(!String::from_utf8_lossy(&svg.bytes).contains("DOCTYPE"));

    // [output.quire] settings reach the book.
    assert!(page(&epub, "copyright.xhtml").contains("CC BY 4.0"));
    assert!(nested_anchors(&epub).is_empty());

    if let Some(report) = epubcheck(&epub) {
        assert!(
            report.contains("0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

#[test]
fn mdbook_project_builds_pdfs() {
    let out = tempfile::tempdir().expect("tempdir");
    build(&fixture(), out.path(), &["--pdf"]);
    let pdf = out.path().join("mini-mdbook.pdf");
    assert!(pdf.is_file());
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().expect("utf-8"), "-"])
        .output();
    match text {
        Ok(o) if o.status.success() => {
            let t = String::from_utf8_lossy(&o.stdout);
            assert!(t.contains("Going Further"), "{t}");
            assert!(t.contains("println!"), "{t}");
            assert!(!t.contains("Modules by difficulty"), "{t}");
            assert!(!t.contains("use std::io"), "{t}");
        }
        _ => common::missing_tool("pdftotext (apt-get install poppler-utils)"),
    }
}

#[test]
fn mdbook_errors_point_at_summary_and_directives() {
    let dir = fixture_copy("mdbook-mini");
    let content = dir.path().join("content");
    std::fs::remove_file(content.join("src/guide/hello.md")).expect("rm");
    std::fs::write(
        content.join("src/advanced.md"),
        "# Advanced Topics\n\n{{#include ../../outside.rs}}\n\n{{#include missing.rs}}\n",
    )
    .expect("write");
    let (code, _, err) = check(&content);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("src/SUMMARY.md:13:3: error: chapter file 'guide/hello.md' not found"),
        "{err}"
    );
    assert!(
        err.contains("src/advanced.md:3:1: error: included file '../../outside.rs' is outside the book folder"),
        "{err}"
    );
    assert!(
        err.contains("src/advanced.md:5:1: error: included file 'missing.rs' not found"),
        "{err}"
    );
    // Nothing was written into the book (mdBook would create the missing file).
    assert!(!content.join("src/guide/hello.md").exists());

    // A SUMMARY.md item that is not a link is refused, as mdBook refuses it.
    std::fs::write(
        content.join("src/SUMMARY.md"),
        "# S\n\n- [A](README.md)\n- Plain text\n",
    )
    .expect("write");
    let out = quire(&["--content", content.to_str().expect("utf-8"), "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("src/SUMMARY.md:4:"), "{err}");
}
