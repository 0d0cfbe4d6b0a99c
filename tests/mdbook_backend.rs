//! `mdbook build` (the real mdBook, pinned in .ci/run) with `[output.html]`
//! and `[output.quire]` on `tests/fixtures/mdbook-backend`: a part title
//! ("Part I: Basics"), chapters nested three deep, `{{#include}}` with a line
//! range and an anchor, chapter links (`.md`, `.html`, a README.md as `index.html`, a fragment),
//! an SVG, MathJax math, prefix and suffix chapters. mdBook finds `mdbook-quire` on PATH.
//! Without mdBook, `mdbook-quire` is also fed a hand-written `RenderContext`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::epub::{entries, epubcheck, xhtml_pages};
use common::{fixture_copy, mdbook_build, missing_tool};

fn pdftotext(pdf: &Path) -> Option<String> {
    let o = Command::new("pdftotext").arg(pdf).arg("-").output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Each of `needles` found in `hay`, in this order.
fn assert_in_order(hay: &str, needles: &[&str], what: &str) {
    let mut at = 0;
    for n in needles {
        match hay[at..].find(n) {
            Some(i) => at += i + n.len(),
            None => panic!("{what}: '{n}' missing or out of order:\n{hay}"),
        }
    }
}

#[test]
fn mdbook_build_writes_the_epub_and_pdfs_beside_the_html() {
    let dir = fixture_copy("mdbook-backend");
    let book = dir.path().join("content");
    let Some(run) = mdbook_build(&book) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "mdbook build failed:\n{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");
    // The HTML renderer ran too, into its own folder.
    assert!(book.join("book/html/index.html").is_file(), "{stderr}");
    let out = book.join("book/quire");
    let epub = out.join("backend-book.epub");
    let pdf = out.join("backend-book.pdf");
    for f in [
        &epub,
        &pdf,
        &out.join("pdf/01-basics.pdf"),
        &out.join("pdf/02-advanced.pdf"),
    ] {
        assert!(
            f.is_file(),
            "{} missing; mdbook said:\n{stderr}",
            f.display()
        );
    }
    assert!(
        stderr.contains("mdbook-quire: wrote book/quire/backend-book.pdf"),
        "{stderr}"
    );

    if let Some(report) = epubcheck(&epub) {
        assert!(
            report.contains("0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }

    // Chapters in SUMMARY order; "Part I:" left to Quire's own numbering.
    let nav = entries(&epub)
        .into_iter()
        .find(|e| e.name == "EPUB/nav.xhtml")
        .map(|e| String::from_utf8(e.bytes).expect("UTF-8"))
        .expect("nav");
    let order = [
        ">Part 1: Basics</a>",
        ">Preface</a>",
        ">Getting Started</a>",
        ">Installing</a>",
        ">On Linux</a>",
        ">Listings</a>",
        ">Part 2: Advanced</a>",
        ">Links and Images</a>",
        ">Afterword</a>",
    ];
    assert_in_order(&nav, &order, "nav");

    // mdBook's links preprocessor expanded the includes (lines 3-5, the
    // anchor) before Quire saw them; nothing of a directive is left.
    let pages = xhtml_pages(&epub);
    let all: String = pages.iter().map(|(_, x)| x.as_str()).collect();
    for present in ["INCLUDED_RANGE_LINE", "ANCHORED_GREETING"] {
        assert!(all.contains(present), "'{present}' not in the EPUB");
    }
    for absent in ["EXCLUDED_", "ANCHOR:", "ANCHOR_END", "{{#"] {
        assert!(!all.contains(absent), "'{absent}' in the EPUB");
    }
    // Chapter links (.md and .html, with a fragment) and the image.
    let links = &pages
        .iter()
        .find(|(n, _)| n.ends_with("m-links.xhtml"))
        .expect("links chapter")
        .1;
    assert!(links.contains("href=\"m-listings.xhtml\""), "{links}");
    assert!(links.contains("href=\"m-linux.xhtml\""), "{links}");
    assert!(links.contains("<img") && links.contains(".svg"), "{links}");
    // `mathjax-support = true`: MathJax's \\( … \\) is math.
    assert!(
        links.contains("<math alttext=\"e^{i\\pi} + 1 = 0\""),
        "{links}"
    );
    let linux = &pages
        .iter()
        .find(|(n, _)| n.ends_with("m-linux.xhtml"))
        .expect("linux chapter")
        .1;
    assert!(
        linux.contains("href=\"m-install.xhtml#on-the-command-line\""),
        "{linux}"
    );
    // `index.html`: mdBook's name for the folder's README.md chapter.
    assert!(linux.contains("href=\"m-start-readme.xhtml\""), "{linux}");
    // [output.quire] keys reach the book.
    assert!(all.contains("CC BY 4.0"));

    match pdftotext(&pdf) {
        Some(text) => {
            for present in ["INCLUDED_RANGE_LINE", "ANCHORED_GREETING"] {
                assert!(text.contains(present), "'{present}' not in the PDF");
            }
            assert!(
                !text.contains("EXCLUDED_") && !text.contains("{{#"),
                "{text}"
            );
            // Module openings (a title over its reading time, which the
            // contents and part openers leave out), in SUMMARY order.
            let openings: Vec<String> = [
                "Preface",
                "Getting Started",
                "Installing",
                "On Linux",
                "Listings",
                "Links and Images",
                "Afterword",
            ]
            .iter()
            .map(|t| format!("{t}\n1 min read"))
            .collect();
            let openings: Vec<&str> = openings.iter().map(String::as_str).collect();
            assert_in_order(&text, &openings, "PDF");
        }
        None => missing_tool("pdftotext (apt-get install poppler-utils)"),
    }
    // paper = "a5" in [output.quire]: 148 x 210 mm is 419.5 x 595.3 pt.
    let info = Command::new("pdfinfo").arg(&pdf).output();
    match info {
        Ok(o) if o.status.success() => {
            let info = String::from_utf8_lossy(&o.stdout);
            assert!(info.contains("419.528 x 595.276"), "{info}");
        }
        _ => missing_tool("pdfinfo (apt-get install poppler-utils)"),
    }
}

#[test]
fn mdbook_build_fails_with_the_file_and_line_of_an_error() {
    let dir = fixture_copy("mdbook-backend");
    let book = dir.path().join("content");
    std::fs::write(
        book.join("src/afterword.md"),
        "# Afterword\n\nThanks.\n\n![gone](img/missing.png)\n",
    )
    .expect("write");
    std::fs::write(
        book.join("book.toml"),
        std::fs::read_to_string(book.join("book.toml"))
            .expect("book.toml")
            .replace("[output.quire]\n", "[output.quire]\nformats = [\"epub\"]\n"),
    )
    .expect("write");
    let Some(run) = mdbook_build(&book) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    // The chapter's own lines: its title heading came out of the body.
    assert!(stderr.contains("src/afterword.md:5:1: error:"), "{stderr}");
    assert!(stderr.contains("The \"quire\" renderer failed"), "{stderr}");
    assert!(!book.join("book/quire/backend-book.epub").exists());
}

/// `mdbook-quire` run by hand, with `input` on stdin.
fn backend(input: &str, cwd: &Path) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdbook-quire"))
        .current_dir(cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mdbook-quire");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn the_backend_reads_a_render_context_without_mdbook() {
    // The protocol as mdBook 0.5 sends it (`items`), written by hand: the
    // chapters' texts are what Quire prints, not the files (a preprocessor
    // may have changed them), and the destination is where the books go.
    let dir = fixture_copy("mdbook-backend");
    let root = dir.path().join("content");
    let dest = dir.path().join("elsewhere/quire");
    let chapter = |name: &str, path: &str, content: &str, number: u32| {
        serde_json::json!({"Chapter": {
            "name": name, "content": content, "number": [number], "sub_items": [],
            "path": path, "source_path": path, "parent_names": []
        }})
    };
    let json = serde_json::json!({
        "version": "0.5.0",
        "root": root,
        "destination": dest,
        "config": {"book": {"title": "By Hand", "authors": ["Ann"], "src": "src"},
                   "output": {"quire": {"formats": ["epub"]}}},
        "book": {"items": [
            {"PartTitle": "Only"},
            chapter("First", "README.md", "# First\n\nPREPROCESSED_TEXT\n", 1),
            chapter("Second", "afterword.md", "# Second\n\nSee [first](README.md).\n", 2),
        ]}
    })
    .to_string();
    let out = backend(&json, dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let epub = dest.join("by-hand.epub");
    assert!(epub.is_file(), "{stderr}");
    assert!(!dest.join("by-hand.pdf").exists(), "formats = [\"epub\"]");
    let pages = xhtml_pages(&epub);
    let all: String = pages.iter().map(|(_, x)| x.as_str()).collect();
    assert!(all.contains("PREPROCESSED_TEXT"));
    // Not the files' text: "Preface" is what src/README.md says.
    assert!(!all.contains("printed by Quire"));
    assert!(all.contains("href=\"m-readme.xhtml\""));
}

#[test]
fn the_backend_refuses_what_is_not_a_render_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (input, says) in [
        ("", "add [output.quire] to book.toml and run `mdbook build`"),
        (
            "{\"version\": 1}",
            "stdin is not mdBook's RenderContext JSON (line 1",
        ),
    ] {
        let out = backend(input, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
