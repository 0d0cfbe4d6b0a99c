//! Property-based fuzzing of the whole front end: arbitrary front matter and
//! Markdown → load → model → XHTML (the EPUB) and Typst markup must never
//! panic. Bounded so CI spends well under a minute here; every crash found
//! becomes a regression case below.

mod common;

use proptest::prelude::*;

const PIECES: &[&str] = &[
    "word ",
    "Redis ",
    "# ",
    "## H ",
    "### ",
    "{#x} ",
    "{#x}",
    "*",
    "**",
    "_",
    "`",
    "```rust\n",
    "```\n",
    "$",
    "$$",
    "\\frac{a}{b}",
    "\\unknown",
    "^",
    "[",
    "]",
    "(",
    ")",
    "![alt](../images/p.svg)",
    "![](https://x.y/z.png)",
    "[l](01-a.md)",
    "[l](01-a.md#x)",
    "[l](#x)",
    "[l](nowhere.md)",
    "> ",
    "> [!NOTE]\n> ",
    "> [!WARNING]\n",
    "- ",
    "  - ",
    "1. ",
    "- [ ] ",
    "- [x] ",
    "| a | b |\n|:--|--:|\n| c | d |\n",
    "---\n",
    "\n",
    "\n\n",
    "[^a]",
    "\n\n[^a]: note ",
    "<b>",
    "</b>",
    "<script>x</script>",
    "~~",
    "~",
    "\\",
    "é",
    "😀",
    "\t",
    "    ",
    "#set page(width: 1cm)",
    "@cite",
    "<label>",
    "// comment",
    "/* c */",
    "\"",
    "'",
    "&amp;",
    "\u{0}",
    "\r\n",
];

/// Raw HTML as real books write it, cut into pieces that open and close anywhere.
const HTML_PIECES: &[&str] = &[
    "<p align=\"center\">",
    "</p>",
    "<div>",
    "</div>",
    "<img src=\"../images/p.svg\" width=\"30\" alt=\"a\">",
    "<img src=\"https://x.y/z.png\">",
    "<img>",
    "<a href=\"01-a.md\">",
    "<a href=\"javascript:alert(1)\">",
    "<a name=\"x\">",
    "<a id=\"y\"></a>",
    "</a>",
    "[![i](../images/p.svg)](https://x.y)",
    "[![i](https://x.y/i.png)](https://x.y)",
    "[t]()",
    "<details>",
    "<summary>",
    "</summary>",
    "</details>",
    "<table>",
    "<tr>",
    "<td colspan=\"3\">",
    "<th>",
    "</td>",
    "</tr>",
    "</table>",
    "<ul>",
    "<li>",
    "</ul>",
    "<ol start=\"3\">",
    "<pre><code class=\"language-rust\">",
    "</code></pre>",
    "<h2 id=\"h\">",
    "</h2>",
    "<figure>",
    "<figcaption>",
    "</figcaption>",
    "</figure>",
    "<kbd>",
    "</kbd>",
    "<sup>",
    "</sup>",
    "<br>",
    "<br/>",
    "<!-- ignore -->",
    "<!--",
    "-->",
    "<script>alert(1)</script>",
    "<style>p{}</style>",
    "<iframe src=x>",
    "<span onclick=\"x()\">",
    "</span>",
    "<unknown-tag>",
    "<",
    ">",
    "&lt;",
    "text ",
    "\n",
    "\n\n",
    "- ",
    "> ",
    "**",
    "`",
];

fn html_markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(HTML_PIECES), 0..60).prop_map(|v| v.concat())
}

fn markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..80).prop_map(|v| v.concat())
}

fn front_matter() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("---\ntitle: \"T\"\nsummary: \"S\"\ndifficulty: beginner\nminutes: 5\ntags: [Redis]\n---\n".to_string()),
        Just("---\ntitle: T\nsummary: S\ndifficulty: expert\nminutes: ten\n---\n".to_string()),
        Just("---\ntitle: [unclosed\n---\n".to_string()),
        Just("---\ntitle: T\n".to_string()),
        Just(String::new()),
        "[a-z: \\n\\-\\[\\]\"]{0,60}".prop_map(|s| format!("---\n{s}\n---\n")),
    ]
}

fn exercise(front: &str, body: &str) {
    let dir = common::book(&[("01-basics/01-a.md", &format!("{front}\n{body}\n"))]);
    common::write(
        dir.path(),
        "images/p.svg",
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>"#,
    );
    if let Ok(loaded) = quire::load(dir.path()) {
        let info = quire::render::BuildInfo::new(&loaded.book, None);
        let epub =
            quire::render::epub::render(&loaded.book, &loaded.index, &info).expect("epub renders");
        // Every page well-formed, no nested anchors, nothing active.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(epub.bytes)).expect("zip");
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).expect("entry");
            let name = f.name().unwrap_or_default().to_string();
            if !name.ends_with(".xhtml") {
                continue;
            }
            let mut page = String::new();
            std::io::Read::read_to_string(&mut f, &mut page).expect("utf-8 page");
            common::epub::assert_no_nested_anchors(&name, &page);
            assert!(
                !page.contains("<script")
                    && !page.contains("onclick")
                    && !page.contains("javascript:"),
                "{name}: active content"
            );
        }
        let book = quire::render::pdf::markup(&loaded.book, &loaded.index, Default::default());
        assert!(book.contains("#show: book.with("));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn front_end_never_panics(front in front_matter(), body in markdown()) {
        exercise(&front, &body);
    }

    #[test]
    fn raw_html_never_panics_nor_leaks(body in html_markdown()) {
        exercise(OK_FRONT, &body);
    }
}

const OK_FRONT: &str =
    "---\ntitle: \"T\"\nsummary: \"S\"\ndifficulty: beginner\nminutes: 5\ntags: [Redis]\n---\n";

/// Regression cases (inputs that once broke something, and edge cases).
#[test]
fn regressions() {
    let ok =
        "---\ntitle: \"T\"\nsummary: \"S\"\ndifficulty: beginner\nminutes: 5\ntags: [Redis]\n---\n";
    for body in [
        "S\n\n[^a]\n\n[^a]: self [^a]",    // a footnote citing itself
        "S\n\n- [ ] \n- [x]",              // empty task items
        "S\n\n| a |\n|--|\n| b | c | d |", // ragged table rows
        "S\n\n$$\n$$",                     // empty display math
        "S\n\n> [!NOTE]",                  // empty admonition
        "S\n\n![alt](../images/p.svg)![alt](../images/p.svg)",
        "S\n\n# Title {#x}\n\n## Again {#x}", // duplicate explicit id
        "S\u{0}",
    ] {
        exercise(ok, body);
    }
}
