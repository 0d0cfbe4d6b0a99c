//! An mdBook project builds as it is: `tests/fixtures/mdbook-mini` (book.toml
//! with `[book]`, `[output.*]`, `[preprocessor.*]` and `[rust]`; SUMMARY.md
//! with a prefix chapter, two `# Part`s, nested chapters in subfolders, a
//! draft, separators and a suffix chapter; `{{#include}}` and
//! `{{#rustdoc_include}}` of a listing outside `src/`; hidden code lines;
//! links to other chapters' headings and titles; an SVG with a DOCTYPE).

mod common;

use std::path::Path;

use common::epub::{entries, epubcheck, nested_anchors};
use common::pdf::{PdfLink, Word, pdf_links, pdf_words};
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

// ---------------------------------------------------------------------------
// `tests/fixtures/mdbook-chapters`: SUMMARY.md without part titles. Each
// top-level chapter with sub-chapters is a part whose page is its content;
// a top-level chapter without sub-chapters after such a part opens a part of
// its own (one is its page alone, the next gets the suffix chapter, which
// closes the last part); the prefix chapter opens the book in a part named
// after it. Chapters link to the top-level ones
// (`.md` and `.html`, with and without a fragment, to a heading, an HTML
// anchor and the title), and a part's page links within itself.

fn chapters() -> std::path::PathBuf {
    repo_root().join("tests/fixtures/mdbook-chapters")
}

/// Parts (the nav's "Part N: …" labels) and modules, in SUMMARY order.
const CHAPTERS_OUTLINE: [&str; 12] = [
    "Part 1: Chapters Without Parts",
    "Preface",
    "Part 2: Basics",
    "Values",
    "Numbers",
    "Floats",
    "Names",
    "Part 3: Interlude",
    "Part 4: Advanced",
    "Traits",
    "Part 5: Glossary",
    "Credits",
];

#[test]
fn mdbook_without_part_titles_maps_top_level_chapters_to_parts() {
    let (code, out, err) = check(&chapters());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("parts          5"), "{out}");
    assert!(out.contains("modules        7"), "{out}");
    // Counted on the parts' pages too.
    assert!(
        out.contains("footnotes      1, figures 1, code blocks 2"),
        "{out}"
    );
    // Only the draft: every link to a part's page and its headings resolved.
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(
        err.contains("src/SUMMARY.md:13:5: warning: draft chapter 'Macros' has no file"),
        "{err}"
    );

    let book = quire::load(&chapters()).expect("loads").book;
    let outline: Vec<String> = book
        .parts
        .iter()
        .flat_map(|p| {
            std::iter::once(format!("Part {}: {}", p.number, p.title))
                .chain(p.modules.iter().map(|m| m.title.clone()))
        })
        .collect();
    assert_eq!(outline, CHAPTERS_OUTLINE);
    // The part's page is its chapter: the body without its title heading.
    let basics = &book.parts[1];
    assert!(basics.source.ends_with("src/basics/README.md"));
    let ids: Vec<&str> = basics.headings.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["setup", "options"]);
    assert_eq!(basics.footnotes.len(), 1);
    assert!(book.parts[0].overview.is_empty());
    assert!(book.parts[2].anchors.contains(&"breath".to_string()));
    assert!(book.parts[2].modules.is_empty());
}

#[test]
fn mdbook_without_part_titles_epub_links_reach_part_pages() {
    let out = tempfile::tempdir().expect("tempdir");
    build(&chapters(), out.path(), &["--epub"]);
    let epub = out.path().join("chapters-without-parts.epub");

    let nav = entry(&epub, "EPUB/nav.xhtml");
    let mut at = 0;
    for label in CHAPTERS_OUTLINE {
        let found = nav[at..]
            .find(&format!(">{label}</a>"))
            .unwrap_or_else(|| panic!("'{label}' missing or out of order in the nav:\n{nav}"));
        at += found;
    }

    // A part's page's sections come before its modules, as in the PDF's bookmarks.
    let setup = nav.find("href=\"text/part-02.xhtml#setup\">Setup</a>");
    let values = nav.find(">Values</a>");
    assert!(
        setup.is_some_and(|s| values.is_some_and(|v| s < v)),
        "{nav}"
    );
    let ncx = entry(&epub, "EPUB/toc.ncx");
    assert!(
        ncx.contains("<content src=\"text/part-03.xhtml#a-pause\"/>"),
        "{ncx}"
    );

    // The part's page holds the chapter: headings with ids, the included
    // code, the figure, the note; an in-page link to its own heading.
    let basics = page(&epub, "part-02.xhtml");
    for want in [
        "<h1 id=\"part-title\">Basics</h1>",
        "<h2 id=\"setup\">Setup</h2>",
        "<h3 id=\"options\">Options</h3>",
        "hello from an include",
        "<img src=\"../images/",
        "id=\"quire-fn-1\"",
        "href=\"part-02.xhtml#setup\"",
        "href=\"m-values.xhtml#ranges\"",
    ] {
        assert!(
            basics.contains(want),
            "'{want}' not in part-02.xhtml:\n{basics}"
        );
    }
    // Its title heading is printed once, as the part's title.
    assert_eq!(basics.matches(">Basics</h").count(), 1, "{basics}");
    // A part that is its page alone lists no modules (nor does the nav).
    let interlude = page(&epub, "part-03.xhtml");
    assert!(interlude.contains("Breathe") && !interlude.contains("In this part"));
    assert!(!nav.contains("<ol>\n</ol>"), "{nav}");
    // The page's code loses mdBook's hidden lines, as a module's does.
    let advanced = page(&epub, "part-04.xhtml");
    assert!(
        advanced.contains("shown") && !advanced.contains("hidden"),
        "{advanced}"
    );

    // Links to the top-level chapters: .md and .html, a heading, the title
    // (the part's start), an HTML anchor of the page.
    for (file, href) in [
        ("m-preface.xhtml", "part-02.xhtml"),
        ("m-preface.xhtml", "part-02.xhtml#setup"),
        ("m-preface.xhtml", "part-04.xhtml"),
        ("m-preface.xhtml", "part-04.xhtml#roadmap"),
        ("m-preface.xhtml", "part-03.xhtml"),
        ("m-values.xhtml", "part-02.xhtml#options"),
        ("m-floats.xhtml", "part-02.xhtml#options"),
        ("m-numbers.xhtml", "part-03.xhtml#a-pause"),
        ("part-05.xhtml", "part-03.xhtml#breath"),
        ("part-05.xhtml", "part-03.xhtml"),
        ("m-traits.xhtml", "part-04.xhtml#roadmap"),
    ] {
        let p = page(&epub, file);
        assert!(
            p.contains(&format!("href=\"{href}\"")),
            "{file}: no {href}:\n{p}"
        );
    }
    // Every internal href reaches a file of the EPUB and an id in it.
    let loaded = quire::load(&chapters()).expect("loads");
    common::epub::check_structure(&epub, &loaded);
    assert!(nested_anchors(&epub).is_empty());
    if let Some(report) = epubcheck(&epub) {
        assert!(
            report.contains("0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

#[test]
fn mdbook_without_part_titles_pdf_links_land_on_their_headings() {
    if !common::tool("pdftotext", "poppler-utils") || !common::tool("qpdf", "qpdf") {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    build(&chapters(), out.path(), &["--pdf"]);
    let pdf = out.path().join("chapters-without-parts.pdf");
    let words = pdf_words(&pdf);
    let links = pdf_links(&pdf, &words);
    let text_of = |page: &[Word]| -> String {
        page.iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let page_with = |phrase: &str| -> usize {
        words
            .iter()
            .position(|p| text_of(p).contains(phrase))
            .unwrap_or_else(|| panic!("no page shows '{phrase}'"))
    };
    // Every chapter link: on the page of the chapter that has it (found by
    // a phrase of that chapter), by its text, to the page and height where
    // the heading (its first word) or anchored text is.
    let expected = [
        ("no part titles", "the basics", "Part 2: Basics"),
        ("no part titles", "how to set up", "Setup"),
        ("no part titles", "advanced topics", "Part 4: Advanced"),
        ("no part titles", "the roadmap", "Roadmap"),
        ("no part titles", "the interlude", "Part 3: Interlude"),
        ("The basics overview", "setup", "Setup"),
        ("The basics overview", "ranges", "Ranges"),
        ("Values have ranges", "the basics", "Part 2: Basics"),
        ("Values have ranges", "setup", "Setup"),
        ("Values have ranges", "its options", "Options"),
        ("three levels down", "options", "Options"),
        ("Numbers are values", "a pause", "A pause"),
        ("The breath", "breath", "Breathe."),
        ("The breath", "the interlude", "Part 3: Interlude"),
        ("The breath", "advanced topics", "Part 4: Advanced"),
        ("Back to the roadmap", "the roadmap", "Roadmap"),
        ("Back to the roadmap", "the basics", "Part 2: Basics"),
    ];
    for (chapter, link, heading) in expected {
        let on = page_with(chapter);
        let found: Vec<&PdfLink> = links
            .iter()
            // A word carries the punctuation after it; a link into another
            // part is followed by "(Part N)", which keeps it off.
            .filter(|l| l.page == on && l.text.trim_end_matches(['.', ',']) == link)
            .collect();
        assert!(
            !found.is_empty(),
            "no link '{link}' on page {} ('{chapter}'); its links: {:?}",
            on + 1,
            links.iter().filter(|l| l.page == on).collect::<Vec<_>>()
        );
        let first = heading.split_whitespace().next().expect("a word");
        for l in found {
            let at = &words[l.to_page];
            assert!(
                at.iter()
                    .any(|w| w.text == first && (w.top - l.to_top).abs() < 24.0),
                "'{link}' on page {} goes to page {} at {:.0} pt, where '{heading}' is not: {}",
                on + 1,
                l.to_page + 1,
                l.to_top,
                text_of(at)
            );
            assert!(text_of(at).contains(heading), "{heading}: {}", text_of(at));
        }
    }

    // Parts and modules in SUMMARY order; the part's page holds its
    // chapter's text, the included code, the figure and the note.
    let all = words
        .iter()
        .map(|p| text_of(p))
        .collect::<Vec<_>>()
        .join(" ");
    // From the first part's opening page (after the contents).
    let body = words[page_with("In this part")..]
        .iter()
        .map(|p| text_of(p))
        .collect::<Vec<_>>()
        .join(" ");
    let mut at = 0;
    for title in CHAPTERS_OUTLINE {
        at += body[at..]
            .find(title)
            .unwrap_or_else(|| panic!("'{title}' missing or out of order in the PDF"));
    }
    let basics = text_of(&words[page_with("The basics overview")]);
    for want in [
        "Setup",
        "hello from an include",
        "A box diagram",
        "A part’s page can carry notes",
    ] {
        assert!(
            basics.contains(want),
            "'{want}' not on the part's page: {basics}"
        );
    }
    assert!(!all.contains("fn hidden"), "a hidden line was printed");

    // Bookmarks: a part's page's sections before its modules.
    let json = std::process::Command::new("qpdf")
        .args(["--json", "--json-key=outlines"])
        .arg(&pdf)
        .output()
        .expect("qpdf --json");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let top = v["outlines"].as_array().expect("outlines");
    let basics = top
        .iter()
        .find(|o| o["title"] == "Part 2: Basics")
        .unwrap_or_else(|| panic!("no bookmark for Part 2: {top:#?}"));
    let kids: Vec<&str> = basics["kids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["title"].as_str())
        .collect();
    assert_eq!(kids, ["Setup", "Values", "Numbers", "Floats", "Names"]);
}

/// mdBook never checks a link's fragment, so a book with a stale one (the
/// async book links `#race-select` to "## Race/select", whose id is
/// `raceselect`) builds there. Here too: a warning at the link, and the
/// link goes to the chapter's start, unless `[output.quire.links]` asks for
/// the error.
#[test]
fn mdbook_stale_fragment_is_a_warning_unless_the_book_asks_for_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&chapters(), dir.path());
    let values = dir.path().join("src/basics/values.md");
    let mut text = std::fs::read_to_string(&values).expect("values.md");
    text.push_str("\nSee [the glossary's terms](../glossary.md#no-such-heading).\n");
    std::fs::write(&values, text).expect("write values.md");

    let (code, _, err) = common::check(dir.path());
    assert_eq!(code, 0, "a stale fragment refused the book:\n{err}");
    assert!(
        err.contains("values.md:") && err.contains("warning") && err.contains("#no-such-heading"),
        "no warning at the link:\n{err}"
    );
    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &["--epub"]);
    let epub = std::fs::read_dir(out.path())
        .expect("out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "epub"))
        .expect("epub");
    let values_page = page(&epub, "m-values.xhtml");
    // The link keeps its target page (the glossary is the last part's
    // page) and drops the fragment.
    let at = values_page
        .find(">the glossary’s terms</a>")
        .or_else(|| values_page.find(">the glossary's terms</a>"))
        .expect("the link");
    let start = values_page[..at].rfind("href=\"").expect("href") + 6;
    let href = &values_page[start..at - 1];
    assert!(
        href.ends_with(".xhtml") && !href.contains('#'),
        "the stale link does not go to the chapter's start: {href}"
    );

    let toml = dir.path().join("book.toml");
    let mut t = std::fs::read_to_string(&toml).expect("book.toml");
    t.push_str("\n[output.quire.links]\nmissing-anchors = \"error\"\n");
    std::fs::write(&toml, t).expect("write book.toml");
    let (code, _, err) = common::check(dir.path());
    assert_eq!(
        code, 1,
        "[output.quire.links] missing-anchors = \"error\" ignored:\n{err}"
    );
    assert!(err.contains("#no-such-heading"), "{err}");
}
