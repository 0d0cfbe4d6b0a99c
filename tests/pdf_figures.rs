//! Figures in the PDF float as a book designer floats them: one too tall for
//! what is left of its page moves to the top of the next while the text runs
//! on and fills this page; one that fits stays where it is; no line of text
//! is ever set over another (the first float printed the paragraph after a
//! figure on the line before it). Read back with `pdftotext -bbox-layout`.

mod common;

use std::path::Path;
use std::process::Command;

/// One text line on a page: its box and its words.
#[derive(Debug, Clone)]
struct Line {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    words: Vec<String>,
}

struct Page {
    height: f64,
    lines: Vec<Line>,
}

fn attr(tag: &str, name: &str) -> f64 {
    let key = format!("{name}=\"");
    let start = tag.find(&key).expect("attribute") + key.len();
    let end = tag[start..].find('"').expect("closing quote") + start;
    tag[start..end].parse().expect("number")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Every page's lines, from `pdftotext -bbox-layout`.
fn bbox_pages(pdf: &Path) -> Vec<Page> {
    let out = Command::new("pdftotext")
        .arg("-bbox-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(out.status.success(), "pdftotext -bbox-layout failed");
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut pages = Vec::new();
    for chunk in xml.split("<page ").skip(1) {
        let head = &chunk[..chunk.find('>').expect("page tag")];
        let mut lines = Vec::new();
        for l in chunk.split("<line ").skip(1) {
            let tag = &l[..l.find('>').expect("line tag")];
            let body = &l[..l.find("</line>").expect("line end")];
            let words = body
                .split("<word ")
                .skip(1)
                .filter_map(|w| {
                    let text = &w[w.find('>')? + 1..w.find("</word>")?];
                    Some(unescape(text))
                })
                .collect();
            lines.push(Line {
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
                words,
            });
        }
        pages.push(Page {
            height: attr(head, "height"),
            lines,
        });
    }
    pages
}

/// Pairs of prose lines (two words or more) on one page whose boxes overlap
/// by more than a quarter of a line: text set over text. (A one-word line
/// may be a formula's limit under its operator, which overlaps by design.)
fn overlaps(pages: &[Page]) -> Vec<String> {
    let mut found = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        let prose: Vec<&Line> = page.lines.iter().filter(|l| l.words.len() >= 2).collect();
        for (i, a) in prose.iter().enumerate() {
            for b in &prose[i + 1..] {
                let ox = a.x1.min(b.x1) - a.x0.max(b.x0);
                let oy = a.y1.min(b.y1) - a.y0.max(b.y0);
                let h = (a.y1 - a.y0).min(b.y1 - b.y0);
                if ox > 2.0 && oy > 0.25 * h {
                    found.push(format!(
                        "page {}: {:?} over {:?}",
                        n + 1,
                        a.words.join(" "),
                        b.words.join(" ")
                    ));
                }
            }
        }
    }
    found
}

fn find(pages: &[Page], word: &str) -> Option<(usize, f64)> {
    pages.iter().enumerate().find_map(|(n, p)| {
        p.lines
            .iter()
            .find(|l| l.words.iter().any(|w| w.contains(word)))
            .map(|l| (n, l.y0))
    })
}

fn paragraphs(tag: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{tag}{i} A cache in front of the database takes most reads off it, and the \
                 queue behind the writer absorbs bursts the disk cannot take at once. The \
                 service stays fast while the store catches up, as long as the backlog drains \
                 before the next peak arrives and the replicas keep pace with the primary.\n\n"
            )
        })
        .collect()
}

const TALL_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="560" viewBox="0 0 400 560"><rect x="4" y="4" width="392" height="552" fill="#dde" stroke="#334" stroke-width="4"/></svg>"##;
const SMALL_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="80" viewBox="0 0 400 80"><rect x="4" y="4" width="392" height="72" fill="#ede" stroke="#433" stroke-width="4"/></svg>"##;

#[test]
fn a_tall_figure_floats_to_the_next_page_and_the_text_fills_this_one() {
    if !["pdftotext", "pdfinfo"]
        .iter()
        .all(|t| common::tool(t, "poppler-utils"))
    {
        return;
    }
    // The tall figure at six depths into its page, one module each: some
    // land where it fits, some where it must float, on every paper.
    let small = format!(
        "## Setup {{#setup}}\n\n{}<p>Before the small figure: SMALLBEFORE.</p>\n\n\
         ![A short band](../images/small.svg \"Smallcap figure\")\n\n\
         SMALLAFTER follows the small figure at once.\n",
        paragraphs("LEAD", 3)
    );
    let mut files = vec![(
        "01-basics/01-intro.md".to_string(),
        common::module("Figures", "beginner", "Redis", &small),
    )];
    for depth in 0..6 {
        let body = format!(
            "{}![A tall panel](../images/tall.svg \"Tallcap{depth} figure\")\n\n\
             FIGAFTER{depth}: the paragraph right after the tall figure.\n\n{}",
            paragraphs(&format!("MID{depth}x"), depth + 1),
            paragraphs(&format!("TAIL{depth}x"), 6)
        );
        files.push((
            format!("03-floats/{:02}-depth-{depth}.md", depth + 1),
            common::module(&format!("Depth {depth}"), "beginner", "Redis", &body),
        ));
    }
    files.push(("03-floats/_part.md".into(), common::PART.into()));
    let extra: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = common::book(&extra);
    common::write(dir.path(), "images/tall.svg", TALL_SVG.as_bytes());
    common::write(dir.path(), "images/small.svg", SMALL_SVG.as_bytes());
    for profile in ["6x9", "a4"] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(dir.path(), out.path(), &["--pdf", "--paper", profile]);
        let pdf = out.path().join("test-book.pdf");
        let pages = bbox_pages(&pdf);

        let bad = overlaps(&pages);
        assert!(bad.is_empty(), "{profile}: text set over text: {bad:#?}");

        // The small figure fits where it is: between its two paragraphs.
        let (bp, by) = find(&pages, "SMALLBEFORE").expect("paragraph before");
        let (cp, cy) = find(&pages, "Smallcap").expect("small caption");
        let (ap, ay) = find(&pages, "SMALLAFTER").expect("paragraph after");
        assert!(
            (bp, by) < (cp, cy) && (cp, cy) < (ap, ay),
            "{profile}: the small figure left its place: before {bp}/{by}, \
             caption {cp}/{cy}, after {ap}/{ay}"
        );

        // The text block's foot: the lowest prose line anywhere.
        let text_bottom = pages
            .iter()
            .flat_map(|p| p.lines.iter().filter(|l| l.words.len() >= 2))
            .map(|l| l.y1)
            .fold(0.0, f64::max);
        let mut floated = 0;
        for depth in 0..6 {
            let (fig, fy) = find(&pages, &format!("Tallcap{depth}")).expect("tall caption");
            let (after, ay) = find(&pages, &format!("FIGAFTER{depth}")).expect("paragraph after");
            let (before, _) =
                find(&pages, &format!("MID{depth}x{depth}")).expect("paragraph before");
            if before == fig {
                // It fits: in place, the text after it below it.
                assert!(
                    after == fig && ay > fy,
                    "{profile} depth {depth}: a figure that fits moved (caption page {}, \
                     next paragraph page {})",
                    fig + 1,
                    after + 1
                );
                continue;
            }
            // It did not fit: it heads the next page, and the page it left
            // is full. Unless the text before it ended that page, it got
            // there by floating: the paragraph after it is set before it.
            assert!(
                fig == before + 1,
                "{profile} depth {depth}: the tall figure is on page {}, the text before it \
                 on page {}",
                fig + 1,
                before + 1
            );
            if after == before {
                floated += 1;
            }
            let last = pages[before]
                .lines
                .iter()
                .filter(|l| l.words.len() >= 2)
                .map(|l| l.y1)
                .fold(0.0, f64::max);
            assert!(
                text_bottom - last < 0.2 * pages[before].height,
                "{profile} depth {depth}: page {} before the floated figure ends {:.0} pt \
                 short of the text block",
                before + 1,
                text_bottom - last
            );
            // The figure heads its page: nothing but the running head above it.
            let page = &pages[fig];
            assert!(
                page.lines
                    .iter()
                    .filter(|l| l.words.len() >= 2 && l.y0 > 0.1 * page.height)
                    .all(|l| l.y0 >= fy - 1.0),
                "{profile} depth {depth}: text above the floated figure on page {}",
                fig + 1
            );
        }
        assert!(
            floated >= 1,
            "{profile}: no tall figure needed to float; the test tests nothing"
        );
    }
}

/// The shipped book on every profile: no line of text over another.
#[test]
fn shipped_book_sets_no_text_over_text() {
    if !common::tool("pdftotext", "poppler-utils") {
        return;
    }
    let content = common::repo_root().join("content");
    for profile in ["a5", "6x9"] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(&content, out.path(), &["--pdf", "--paper", profile]);
        let pdf = std::fs::read_dir(out.path())
            .expect("out")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "pdf"))
            .expect("book pdf");
        let bad = overlaps(&bbox_pages(&pdf));
        assert!(bad.is_empty(), "{profile}: text set over text: {bad:#?}");
    }
}
