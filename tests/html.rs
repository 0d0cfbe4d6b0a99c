//! Raw HTML and odd-but-valid Markdown from real books: built whole, never refused.

mod common;

use std::io::Read;
use std::path::Path;

use common::{book, build, check, missing_tool, module, write};

/// A module written the way GitHub READMEs and mdBook chapters are.
const HTML_BODY: &str = r#"## Figures {#figures}

<!-- ignore: a comment no reader should see -->

<p align="center">
  <img src="../images/chart.png" width="300" alt="A chart of hits">
</p>

<div align="center">

![Second chart](../images/chart.png)

</div>

<figure>
  <img src="../images/chart.png" alt="Captioned chart">
  <figcaption>Figure: the <em>captioned</em> chart</figcaption>
</figure>

[![Linked chart](../images/chart.png)](https://example.org/chart)

[![Exported diagram](../images/chart.png)]()

## Inline {#inline}

<span class="filename">Filename: src/main.rs</span>

Press <kbd>Ctrl</kbd>+<kbd>C</kbd>, read x<sup>2</sup> and H<sub>2</sub>O, <b>bold</b>, <i>italic</i>,
<u>under</u>, <mark>marked</mark>, <s>gone</s>, <code>let x = 1;</code>.<br>
A new line after a break, a <a href="https://example.org">web link</a> and an
<a name="old-anchor"></a>old anchor, a *<span id="span-term">defined term</span>* and a
<strong id="strong-term">strong one</strong>.

<details>
<summary>Show the answer</summary>

The answer is **42**.

</details>

<table>
  <thead><tr><th>Name</th><th align="right">Value</th></tr></thead>
  <tbody>
    <tr><td>alpha</td><td>1</td></tr>
    <tr><td colspan="2"><p>spans</p><p>two</p></td></tr>
  </tbody>
</table>

<ul>
  <li>one</li>
  <li>two <b>bold</b></li>
</ul>

<h3 id="html-heading">An HTML heading</h3>

<script>alert('x')</script>
<iframe src="https://example.org/embed"></iframe>
<img src="javascript:alert(2)" alt="x">
<p onclick="steal()">Clicked text stays.</p>

Back to [the old anchor](#old-anchor), [the term](#span-term), [the other](#strong-term),
[this title](#html-in-real-books),
[the next module's title](02-next.md#next) and its [GitHub-style heading](02-next.md#details).
"#;

fn html_book(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let body = module("HTML in real books", "beginner", "Redis", HTML_BODY);
    let mut files: Vec<(&str, &str)> = vec![("01-basics/03-html.md", body.as_str())];
    files.extend_from_slice(extra);
    let dir = book(&files);
    write(
        dir.path(),
        "images/chart.png",
        &std::fs::read(common::repo_root().join("tests/fixtures/mini/images/chart.png"))
            .expect("fixture image"),
    );
    dir
}

fn epub_pages(epub: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(epub).expect("open epub");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let name = f.name().expect("name").to_string();
        if name.ends_with(".xhtml") {
            let mut s = String::new();
            f.read_to_string(&mut s).expect("utf-8");
            out.push((name, s));
        }
    }
    out
}

/// The one output file with this extension a build wrote into `out`.
fn built(out: &Path, ext: &str) -> std::path::PathBuf {
    std::fs::read_dir(out)
        .expect("out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap_or_else(|| panic!("no .{ext} in {}", out.display()))
}

/// The XHTML page whose name ends with `name`.
fn page<'a>(pages: &'a [(String, String)], name: &str) -> &'a str {
    &pages
        .iter()
        .find(|(n, _)| n.ends_with(name))
        .unwrap_or_else(|| panic!("no page {name}"))
        .1
}

/// Text nodes that look like markup: raw HTML shown to the reader.
fn raw_tag_text(xhtml: &str) -> Vec<String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(xhtml, opts).expect("well-formed");
    let re = |t: &str| {
        let b = t.as_bytes();
        (0..b.len()).any(|i| {
            b[i] == b'<'
                && b.get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'/' || *c == b'!')
        })
    };
    doc.descendants()
        .filter(|n| n.is_text())
        .filter(|n| {
            // Code is allowed to show markup.
            !n.ancestors()
                .any(|a| matches!(a.tag_name().name(), "code" | "pre" | "math"))
        })
        .filter_map(|n| n.text())
        .filter(|t| re(t))
        .map(str::to_string)
        .collect()
}

#[test]
fn raw_html_becomes_the_model_in_epub_and_pdf() {
    let dir = html_book(&[]);
    let (code, _out, err) = check(dir.path());
    assert_eq!(code, 0, "valid Markdown with HTML must build: {err}");
    // Dropped active content is reported with file:line:col.
    for what in ["<script>", "<iframe>", "onclick", "script URL"] {
        assert!(
            err.lines()
                .any(|l| l.contains("03-html.md:") && l.contains("warning") && l.contains(what)),
            "no warning for {what}: {err}"
        );
    }
    assert!(err.contains("empty target"), "{err}");
    assert!(!err.contains("not rendered; it is shown as text"), "{err}");

    let out = tempfile::tempdir().expect("tmp");
    let o = build(dir.path(), out.path(), &["--epub"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let epub = built(out.path(), "epub");
    let pages = epub_pages(&epub);
    let m = page(&pages, "m-html.xhtml");
    for (name, xhtml) in &pages {
        assert!(
            raw_tag_text(xhtml).is_empty(),
            "{name}: {:?}",
            raw_tag_text(xhtml)
        );
        assert!(
            !xhtml.contains("<script") && !xhtml.contains("<iframe"),
            "{name}"
        );
        assert!(!xhtml.contains("onclick"), "{name}");
        common::epub::assert_no_nested_anchors(name, xhtml);
    }
    for needle in [
        "<kbd>Ctrl</kbd>",
        "<sup>2</sup>",
        "<sub>2</sub>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<u>under</u>",
        "<mark>marked</mark>",
        "<del>gone</del>",
        "<code>let x = 1;</code>",
        "<br/>",
        "<summary>Show the answer</summary>",
        "<strong>42</strong>",
        "<span id=\"old-anchor\"></span>",
        "href=\"#old-anchor\"",
        "<span id=\"span-term\"></span>",
        "href=\"#span-term\"",
        "href=\"#strong-term\"",
        "href=\"#quire-title\"",
        "href=\"m-next.xhtml\"",
        "href=\"m-next.xhtml#details\"",
        "<th scope=\"col\">Name</th>",
        "<li>two <strong>bold</strong></li>",
        "id=\"html-heading\"",
        "Clicked text stays.",
        "Filename: src/main.rs",
        // (a "Larger view" link to the figure's plate may follow the caption)
        "<figcaption>Figure: the <em>captioned</em> chart",
        "<a href=\"https://example.org/chart\"><img",
        "style=\"width: 300px",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
    assert_eq!(m.matches("<figure").count(), 5, "{m}");
    assert!(!m.contains("alert("), "script content leaked");
    assert!(!m.contains("ignore: a comment"), "comment leaked");
    if let Some(report) = common::epub::epubcheck(&epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

#[test]
fn raw_html_in_the_pdf_text() {
    if which("pdftotext").is_none() {
        missing_tool("pdftotext");
        return;
    }
    let dir = html_book(&[]);
    let out = tempfile::tempdir().expect("tmp");
    let o = build(dir.path(), out.path(), &["--pdf"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pdf = built(out.path(), "pdf");
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    for bad in [
        "<p", "<img", "<kbd", "</", "<details", "<br", "<span", "<!--", "alert(",
    ] {
        assert!(!text.contains(bad), "PDF text shows {bad}");
    }
    for good in [
        "Show the answer",
        "Ctrl",
        "Filename: src/main.rs",
        "Clicked text stays.",
    ] {
        assert!(text.contains(good), "PDF text lacks {good}");
    }
}

#[test]
fn links_leaving_the_book() {
    let body = module(
        "Intro",
        "beginner",
        "Redis",
        "See [the licence](../../LICENSE) and [a listing](listings/main.rs).",
    );
    let dir = book(&[("01-basics/03-away.md", body.as_str())]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("leaves the book"), "{err}");

    // With a base URL they link there.
    let toml = format!(
        "{}\n[links]\nbase-url = \"https://github.com/o/r/blob/main/src/\"\n",
        common::BOOK_TOML
    );
    write(dir.path(), "book.toml", toml.as_bytes());
    let out = tempfile::tempdir().expect("tmp");
    let o = build(dir.path(), out.path(), &["--epub"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let epub = built(out.path(), "epub");
    let pages = epub_pages(&epub);
    let m = page(&pages, "m-away.xhtml");
    assert!(
        m.contains("href=\"https://github.com/o/r/blob/main/LICENSE\""),
        "{m}"
    );
    assert!(
        m.contains("href=\"https://github.com/o/r/blob/main/src/01-basics/listings/main.rs\""),
        "{m}"
    );

    // A missing module is still an error.
    let body = module("Away", "beginner", "Redis", "See [gone](99-gone.md).");
    let dir = book(&[("01-basics/03-away.md", body.as_str())]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("03-away.md:11:5: error:") && err.contains("not a module"),
        "{err}"
    );
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|f| f.is_file())
    })
}

#[test]
fn level_one_sections_keep_their_outline() {
    let body = module(
        "Readme",
        "beginner",
        "Redis",
        "# Install\n\nText.\n\n## From source\n\nMore.\n\n# Use {#use}\n\n## Again {#use}\n\nDone.",
    );
    let dir = book(&[("01-basics/03-readme.md", body.as_str())]);
    let out = tempfile::tempdir().expect("tmp");
    let o = build(dir.path(), out.path(), &["--epub"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("03-readme.md:21:1: warning: duplicate heading id '#use'"),
        "{err}"
    );
    let epub = built(out.path(), "epub");
    let pages = epub_pages(&epub);
    let m = page(&pages, "m-readme.xhtml");
    for needle in [
        "<h2 id=\"install\">Install</h2>",
        "<h3 id=\"from-source\">From source</h3>",
        "<h2 id=\"use\">Use</h2>",
        "<h3 id=\"use-1\">Again</h3>",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
}

#[test]
fn stale_anchors_are_errors_unless_the_book_says_warn() {
    let body = module(
        "Away",
        "beginner",
        "Redis",
        "See [setup](01-intro.md#set-up) and [here](#nowhere).",
    );
    let dir = book(&[("01-basics/03-away.md", body.as_str())]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("03-away.md:11:5: error: link to missing heading '#set-up'")
            && err.contains("did you mean #setup")
            && err.contains("missing-anchors = \"warn\""),
        "{err}"
    );
    let toml = format!(
        "{}\n[links]\nmissing-anchors = \"warn\"\n",
        common::BOOK_TOML
    );
    write(dir.path(), "book.toml", toml.as_bytes());
    let out = tempfile::tempdir().expect("tmp");
    let o = build(dir.path(), out.path(), &["--epub"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("03-away.md:11:5: warning: link to missing heading '#set-up'"),
        "{err}"
    );
    let epub = built(out.path(), "epub");
    let pages = epub_pages(&epub);
    let m = page(&pages, "m-away.xhtml");
    // To the module's start: no fragment that the page lacks.
    assert!(m.contains("href=\"m-intro.xhtml\">setup</a>"), "{m}");
    assert!(m.contains("href=\"#quire-title\">here</a>"), "{m}");
    if let Some(report) = common::epub::epubcheck(&epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

/// The Rust book's figures: an `<img>` and, in the paragraph after it, its
/// caption in `<span class="caption">`. The span is the figure's caption
/// (the alt text stays the alt text), and a caption with its own
/// "Figure 4-1:" is not numbered again in the PDF ("Figure 1: Figure 4-1:").
#[test]
fn a_caption_span_after_a_figure_is_its_caption() {
    let body = module(
        "Captions",
        "beginner",
        "Redis",
        "Before the figure.\n\n\
         <img alt=\"Two tables side by side\" src=\"../images/chart.png\" class=\"center\" />\n\n\
         <span class=\"caption\">Figure 4-1: The <code>String</code> in memory</span>\n\n\
         <span class=\"caption\">Not after a figure: an ordinary paragraph.</span>\n\n\
         ![Alt of the second](../images/chart.png \"A caption without a label\")\n",
    );
    let dir = html_book(&[("01-basics/04-captions.md", body.as_str())]);
    let out = tempfile::tempdir().expect("tmp");
    build(dir.path(), out.path(), &["--epub", "--pdf"]);
    let pages = epub_pages(&built(out.path(), "epub"));
    let xhtml = page(&pages, "captions.xhtml");
    assert!(
        xhtml.contains("<figcaption>Figure 4-1: The <code>String</code> in memory"),
        "the caption span is not the figure's caption:\n{xhtml}"
    );
    assert!(
        xhtml.contains("alt=\"Two tables side by side\""),
        "alt text lost"
    );
    assert!(
        !xhtml.contains("Two tables side by side</figcaption>"),
        "the alt text is still the caption"
    );
    assert_eq!(
        xhtml.matches("Figure 4-1").count(),
        1,
        "caption printed twice"
    );
    assert!(
        xhtml.contains("<p>Not after a figure: an ordinary paragraph.</p>"),
        "a caption span not after a figure must stay a paragraph"
    );
    if which("pdftotext").is_none() {
        missing_tool("pdftotext");
        return;
    }
    let text = std::process::Command::new("pdftotext")
        .arg(built(out.path(), "pdf"))
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).replace('\n', " ");
    assert!(text.contains("Figure 4-1: The String in memory"), "{text}");
    assert!(!text.contains(": Figure 4-1"), "numbered twice: {text}");
    // A caption without its own label keeps Typst's number.
    assert!(
        text.contains(": A caption without a label"),
        "an unlabelled caption lost its number"
    );
}
