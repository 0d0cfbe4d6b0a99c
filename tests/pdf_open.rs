//! Where modules and parts open (`[pdf]` in book.toml, `--open`,
//! `--part-open`): a book of short modules built with `open = "any"` runs on
//! without blank pages, and a module that starts on a left-hand page has its
//! margins, running heads and page numbers on the left-hand side; the command
//! line overrides book.toml; `paper` and the booklet settings come from it too.

mod common;

use std::path::Path;
use std::process::Command;

fn tool(name: &str) -> bool {
    common::tool(name, "qpdf poppler-utils")
}

const PDF_ANY: &str = "\n[pdf]\nopen = \"any\"\npart-open = \"any\"\n";

/// A module of one page, or of about three (`long`).
fn module(title: &str, long: bool) -> String {
    let para = "Queues decouple producers from consumers, so a slow consumer does not \
                slow the producer down; the broker keeps the messages until they are read. ";
    let body = if long {
        (0..19)
            .map(|i| format!("Paragraph {i}. {}{para}", para))
            .collect::<Vec<_>>()
            .join("\n\n")
    } else {
        "One short paragraph.".to_string()
    };
    common::module(title, "beginner", "Kafka", &body)
}

/// Part 1: A, B (one page each), C (three pages), D; part 2: E, F. With
/// `open = "any"` the body runs 1 opening, 2 A, 3 B, 4-6 C, 7 D, 8 opening,
/// 9 E, 10 F: C starts on a left-hand page.
fn guides(pdf_table: &str) -> tempfile::TempDir {
    let toml = format!("{}{pdf_table}", common::BOOK_TOML);
    let (a, b, c, d, e, f) = (
        module("Alpha", false),
        module("Bravo", false),
        module("Charlie", true),
        module("Delta", false),
        module("Echo", false),
        module("Foxtrot", false),
    );
    let part =
        |t: &str| format!("---\ntitle: \"{t}\"\nsummary: \"About {t}.\"\n---\n\nOverview.\n");
    let (p1, p2) = (part("Guides"), part("More"));
    common::book(&[
        ("book.toml", &toml),
        ("01-basics/_part.md", &p1),
        ("01-basics/01-intro.md", &a),
        ("01-basics/02-next.md", &b),
        ("01-basics/03-long.md", &c),
        ("01-basics/04-after.md", &d),
        ("02-more/_part.md", &p2),
        ("02-more/01-deep.md", &e),
        ("02-more/02-deeper.md", &f),
    ])
}

fn build(content: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["--pdf"];
    args.extend_from_slice(extra);
    common::build(content, out.path(), &args);
    out
}

fn book_pdf(out: &Path) -> std::path::PathBuf {
    out.join("test-book.pdf")
}

fn page_count(pdf: &Path) -> usize {
    let o = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {text}"))
}

fn page_size(pdf: &Path) -> String {
    let o = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .map(|s| s.trim().to_string())
        .unwrap_or(text)
}

fn qpdf_check(pdf: &Path) {
    let o = Command::new("qpdf")
        .arg("--check")
        .arg(pdf)
        .output()
        .expect("qpdf");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("No syntax or stream encoding errors"),
        "qpdf --check {}: {text}",
        pdf.display()
    );
}

/// The text of each page.
fn texts(pdf: &Path) -> Vec<String> {
    let o = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let mut pages: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .split('\u{c}')
        .map(str::to_string)
        .collect();
    // pdftotext ends with a form feed.
    if pages.last().is_some_and(|p| p.is_empty()) {
        pages.pop();
    }
    pages
}

/// For each page (in order), the pages (0-based) its internal links go to.
fn link_targets(pdf: &Path) -> Vec<Vec<usize>> {
    use serde_json::Value;
    let o = Command::new("qpdf")
        .args(["--json=2", "--json-key=qpdf", "--json-key=pages"])
        .arg(pdf)
        .output()
        .expect("qpdf --json");
    assert!(o.status.success(), "qpdf --json {}", pdf.display());
    let json: Value = serde_json::from_slice(&o.stdout).expect("qpdf json");
    let objects = json["qpdf"][1].as_object().expect("objects").clone();
    let value = |r: &str| objects.get(&format!("obj:{r}")).map(|o| o["value"].clone());
    // A reference "12 0 R" resolved; anything else as it is.
    let deref = |v: &Value| v.as_str().and_then(value).unwrap_or_else(|| v.clone());
    let order: Vec<String> = json["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["object"].as_str().expect("page object").to_string())
        .collect();
    // Named destinations, wherever their name tree keeps them.
    fn leaves(v: &Value, out: &mut Vec<(String, Value)>) {
        if let Some(map) = v.as_object() {
            for (k, x) in map {
                match x.as_array() {
                    Some(names) if k == "/Names" => {
                        for pair in names.chunks(2) {
                            if let [n, d] = pair {
                                out.push((n.as_str().unwrap_or_default().into(), d.clone()));
                            }
                        }
                    }
                    _ => leaves(x, out),
                }
            }
        }
    }
    let mut named = Vec::new();
    for o in objects.values() {
        leaves(&o["value"], &mut named);
    }
    order
        .iter()
        .map(|page| {
            let annots = value(page)
                .map(|p| deref(&p["/Annots"]))
                .unwrap_or_default();
            let mut targets = Vec::new();
            for a in annots.as_array().into_iter().flatten() {
                let a = deref(a);
                if a["/Subtype"] != "/Link" {
                    continue;
                }
                let action = deref(&a["/A"]);
                let mut dest = deref(if a["/Dest"].is_null() {
                    &action["/D"]
                } else {
                    &a["/Dest"]
                });
                if let Some(name) = dest.as_str()
                    && let Some((_, d)) = named.iter().find(|(n, _)| n == name)
                {
                    dest = deref(d);
                }
                if let Some(target) = dest[0].as_str()
                    && let Some(i) = order.iter().position(|p| p == target)
                {
                    targets.push(i);
                }
            }
            targets
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Word {
    text: String,
    x_min: f64,
    x_max: f64,
    y_min: f64,
}

#[derive(Debug)]
struct Page {
    width: f64,
    words: Vec<Word>,
}

fn attr(line: &str, name: &str) -> f64 {
    let key = format!("{name}=\"");
    let from = line.find(&key).map(|i| i + key.len()).expect("attribute");
    let to = line[from..].find('"').expect("closing quote") + from;
    line[from..to].parse().expect("number")
}

/// Every word of every page with its box (`pdftotext -bbox`), in points
/// from the top-left corner.
fn words(pdf: &Path) -> Vec<Page> {
    let o = Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext -bbox");
    let mut pages = Vec::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            pages.push(Page {
                width: attr(line, "width"),
                words: Vec::new(),
            });
        } else if line.starts_with("<word ")
            && let Some(page) = pages.last_mut()
        {
            let text = line
                .split_once('>')
                .and_then(|(_, rest)| rest.strip_suffix("</word>"))
                .unwrap_or_default()
                .to_string();
            page.words.push(Word {
                text,
                x_min: attr(line, "xMin"),
                x_max: attr(line, "xMax"),
                y_min: attr(line, "yMin"),
            });
        }
    }
    pages
}

/// A4 margins of the shipped template, in points: inside 3.4 cm, outside 5.4 cm, top 2.6 cm.
const INSIDE: f64 = 3.4 / 2.54 * 72.0;
const OUTSIDE: f64 = 5.4 / 2.54 * 72.0;
const TOP: f64 = 2.6 / 2.54 * 72.0;
/// Running heads sit in the top margin, clear of the text's first line
/// (whose tallest glyphs reach a little above the margin).
const HEAD_BELOW: f64 = TOP - 10.0;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.6
}

/// Checks one page of the body, printed page number `number`: the text
/// area starts at the inside margin of its side, the page number sits on
/// the outside edge, the running head (if `head`) at the outside edge.
fn check_sides(page: &Page, number: u64, head: Option<&str>) {
    let left_page = number.is_multiple_of(2);
    let footer = page
        .words
        .iter()
        .max_by(|a, b| a.y_min.total_cmp(&b.y_min))
        .expect("a word");
    assert_eq!(footer.text, number.to_string(), "page {number}: {page:?}");
    if left_page {
        assert!(
            near(footer.x_min, OUTSIDE),
            "page {number}: number at {footer:?}"
        );
    } else {
        assert!(
            near(footer.x_max, page.width - OUTSIDE),
            "page {number}: number at {footer:?}"
        );
    }
    let body: Vec<&Word> = page
        .words
        .iter()
        .filter(|w| w.y_min > HEAD_BELOW && w.y_min < footer.y_min - 1.0)
        .collect();
    let left_edge = body.iter().map(|w| w.x_min).fold(f64::INFINITY, f64::min);
    let margin = if left_page { OUTSIDE } else { INSIDE };
    assert!(
        near(left_edge, margin),
        "page {number}: text starts at {left_edge:.2} pt, not {margin:.2}"
    );
    let heads: Vec<&Word> = page.words.iter().filter(|w| w.y_min < HEAD_BELOW).collect();
    match head {
        None => assert!(heads.is_empty(), "page {number}: running head {heads:?}"),
        Some(expected) => {
            let text: Vec<&str> = heads.iter().map(|w| w.text.as_str()).collect();
            assert_eq!(text.join(" "), expected, "page {number}");
            if left_page {
                assert!(near(heads[0].x_min, OUTSIDE), "page {number}: {heads:?}");
            } else {
                let right = heads.iter().map(|w| w.x_max).fold(0.0, f64::max);
                assert!(
                    near(right, page.width - OUTSIDE),
                    "page {number}: {heads:?}"
                );
            }
        }
    }
}

#[test]
fn open_any_runs_modules_on_and_keeps_every_page_on_its_side() {
    if !tool("pdfinfo") || !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let book = guides(PDF_ANY);
    let out = build(book.path(), &[]);
    let pdf = book_pdf(out.path());
    let pages = texts(&pdf);
    // Where the body starts: the first part's opening page.
    let body = pages
        .iter()
        .position(|p| p.contains("Part 1: Guides") && p.contains("In this part"))
        .expect("part 1 opens");
    let page_of = |kicker: &str| {
        let at = pages
            .iter()
            .position(|p| p.contains(kicker))
            .unwrap_or_else(|| panic!("{kicker} not found"));
        (at, (at - body + 1) as u64)
    };
    // Every module on the page after the last: no blank page in the body.
    let expected = [
        ("Part 1 · Module 1", 2),
        ("Part 1 · Module 2", 3),
        ("Part 1 · Module 3", 4),
        ("Part 1 · Module 4", 7),
        ("About More.", 8),
        ("Part 2 · Module 1", 9),
        ("Part 2 · Module 2", 10),
    ];
    for (kicker, number) in expected {
        assert_eq!(page_of(kicker).1, number, "{kicker}");
    }
    // The contents give those pages (and the indexes right after part 2).
    let contents = Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext -layout");
    let contents = String::from_utf8_lossy(&contents.stdout);
    let listed = |title: &str| {
        contents
            .lines()
            .find(|l| l.contains(title))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<u64>().ok())
    };
    for (title, number) in [
        ("Alpha", 2),
        ("Charlie", 4),
        ("Delta", 7),
        ("Part 2: More", 8),
        ("Foxtrot", 10),
        ("Index of technologies", 11),
        ("Modules by difficulty", 12),
    ] {
        assert_eq!(listed(title), Some(number), "contents line of {title}");
    }
    for (i, text) in pages.iter().enumerate().skip(body) {
        assert!(
            !text.trim().is_empty(),
            "page {} of the book is blank",
            i + 1
        );
    }
    assert_eq!(page_count(&pdf), pages.len());
    // Charlie (three pages) starts on the left-hand page 4: laid out once,
    // its pages sit on their own side, heads and numbers outside.
    let boxes = words(&pdf);
    let (c, _) = page_of("Part 1 · Module 3");
    check_sides(&boxes[c], 4, None);
    check_sides(&boxes[c + 1], 5, Some("Charlie"));
    check_sides(&boxes[c + 2], 6, Some("Part 1: Guides"));
    // One-page modules on either side.
    check_sides(&boxes[page_of("Part 1 · Module 1").0], 2, None);
    check_sides(&boxes[page_of("Part 1 · Module 2").0], 3, None);
    // Part 2 opens on the left-hand page 8 (its own footer and margins).
    check_sides(&boxes[page_of("About More.").0], 8, None);

    // The part PDF keeps the book's sides: a blank right-hand page first.
    let part2 = out.path().join("pdf/02-more.pdf");
    let part_pages = texts(&part2);
    assert!(part_pages[0].trim().is_empty(), "{part_pages:#?}");
    assert!(part_pages[1].contains("Part 2: More"), "{part_pages:#?}");
    assert!(part_pages[2].contains("Part 2 · Module 1"));
    // Its contents link to its modules' pages, one and two after its opening.
    let links = link_targets(&part2);
    assert!(links[1].contains(&2) && links[1].contains(&3), "{links:?}");
    // The book's contents link to where Charlie and Part 2 open.
    let links = link_targets(&pdf);
    let contents = pages
        .iter()
        .position(|p| p.starts_with("Contents"))
        .expect("contents");
    for (kicker, _) in [("Part 1 · Module 3", 4), ("About More.", 8)] {
        let (at, _) = page_of(kicker);
        assert!(links[contents].contains(&at), "{kicker}: {links:?}");
    }
    let part1 = texts(&out.path().join("pdf/01-basics.pdf"));
    assert!(part1[0].contains("Part 1: Guides"));
    for p in [pdf, part2, out.path().join("pdf/01-basics.pdf")] {
        qpdf_check(&p);
    }
}

#[test]
fn the_command_line_overrides_book_toml_which_overrides_the_default() {
    if !tool("pdfinfo") {
        return;
    }
    let any = guides(PDF_ANY);
    let plain = guides("");
    let pages_of =
        |content: &Path, extra: &[&str]| page_count(&book_pdf(build(content, extra).path()));
    let by_book = pages_of(any.path(), &[]);
    let overridden = pages_of(any.path(), &["--open", "right", "--part-open", "right"]);
    let default = pages_of(plain.path(), &[]);
    let by_flag = pages_of(plain.path(), &["--open", "any", "--part-open", "any"]);
    let all_right = pages_of(plain.path(), &["--open", "right"]);
    // Right: 1 opening, 3 A, 5 B, 7-9 C, 11 D, 13 opening, 15 E, 17 F, the
    // indexes on 19 and 21; any: 1-10, then 11 and 12: 9 pages fewer.
    assert_eq!(overridden, all_right);
    assert_eq!(by_flag, by_book);
    assert_eq!(all_right, by_book + 9, "right {all_right}, any {by_book}");
    // By default only the modules run on: part 2 and the indexes still open
    // on the right (9 not 8, 13 not 11, 15 not 12).
    assert_eq!(default, by_book + 3, "{default}");
    let modules_only = pages_of(plain.path(), &["--open", "any", "--part-open", "right"]);
    assert_eq!(modules_only, default);
}

#[test]
fn book_toml_sets_the_paper_and_the_command_line_overrides_it() {
    if !tool("pdfinfo") {
        return;
    }
    let book = guides("\n[pdf]\npaper = \"letter\"\n");
    let letter = build(book.path(), &[]);
    assert_eq!(
        page_size(&book_pdf(letter.path())),
        "612 x 792 pts (letter)"
    );
    let a4 = build(book.path(), &["--paper", "a4"]);
    assert_eq!(page_size(&book_pdf(a4.path())), "595.276 x 841.89 pts (A4)");
}

#[test]
fn book_toml_pdf_mistakes_are_content_errors_with_their_line() {
    for (table, line, says) in [
        ("[pdf]\nopen = \"left\"\n", 8, "unknown variant `left`"),
        ("[pdf]\npaper = \"a3\"\n", 8, "unknown variant `a3`"),
        ("[pdf]\nopening = \"any\"\n", 8, "unknown field `opening`"),
        (
            "[pdf.booklet]\nsignature = 0\n",
            8,
            "signature = 0 is out of range",
        ),
        (
            "[pdf.booklet]\ncreep = 9.0\n",
            8,
            "creep = 9 is out of range",
        ),
    ] {
        let book = guides(&format!("\n{table}"));
        let (code, _, stderr) = common::check(book.path());
        assert_eq!(code, 1, "{table}: {stderr}");
        let at = format!("book.toml:{line}:");
        assert!(
            stderr.lines().any(|l| l.contains(&at) && l.contains(says)),
            "{table}: {stderr}"
        );
    }
}

/// The text in the left half of the first side of a booklet (A4 sheets).
fn first_side_left(booklet: &Path) -> String {
    let o = Command::new("pdftotext")
        .args([
            "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "420", "-H", "596",
        ])
        .arg(booklet)
        .arg("-")
        .output()
        .expect("pdftotext");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn booklets_take_open_and_their_settings_from_book_toml() {
    if !tool("pdftotext") || !tool("pdfinfo") {
        return;
    }
    let book =
        guides("\n[pdf]\nopen = \"any\"\npart-open = \"any\"\n[pdf.booklet]\nsignature = 1\n");
    // A booklet is the part as an A5 PDF would have it, the part opening on
    // its first page: modules run on as book.toml says.
    let a5 = build(book.path(), &["--paper", "a5", "--part-open", "right"]);
    let part = texts(&a5.path().join("pdf/01-basics.pdf"));
    let right = build(
        book.path(),
        &["--paper", "a5", "--open", "right", "--part-open", "right"],
    );
    assert!(part.len() < texts(&right.path().join("pdf/01-basics.pdf")).len());
    let sheets = part.len().div_ceil(4);
    assert!(sheets >= 2, "{} pages", part.len());
    let out = tempfile::tempdir().expect("tempdir");
    let booklet_with = |extra: &[&str]| {
        let mut args = vec![
            "--content",
            book.path().to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
            "booklet",
            "1",
        ];
        args.extend_from_slice(extra);
        let o = common::quire(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out.path().join("booklets/01-basics-booklet.pdf")
    };
    let booklet = booklet_with(&[]);
    assert_eq!(
        page_count(&booklet),
        2 * sheets,
        "both sides of every sheet"
    );
    // Signatures of one sheet (book.toml): the first side carries pages 4 | 1.
    let first_line = |page: &str| {
        page.lines()
            .find(|l| !l.trim().is_empty())
            .map(str::to_string)
    };
    let fourth = first_line(&part[3]).expect("page 4 has text");
    assert!(first_side_left(&booklet).contains(&fourth), "{fourth}");
    // The command line wins: one signature, its last page | 1.
    let booklet = booklet_with(&["--signature", "8"]);
    let last = part.get(4 * sheets - 1).and_then(|p| first_line(p));
    match last {
        Some(line) => assert!(first_side_left(&booklet).contains(&line)),
        None => assert!(first_side_left(&booklet).is_empty()),
    }
}

/// A page with no text, or only its page number.
fn is_blank(page: &str) -> bool {
    let t = page.trim();
    t.is_empty()
        || t.chars().all(|c| c.is_ascii_digit())
        || t.chars().all(|c| "ivxlcdm".contains(c))
}

#[test]
fn the_shipped_book_is_at_most_15_percent_blank_paper_by_default() {
    if !tool("pdftotext") {
        return;
    }
    let content = common::repo_root().join("content");
    let out = tempfile::tempdir().expect("tempdir");
    common::build(&content, out.path(), &["--pdf"]);
    let book = quire::load(&content).expect("content loads").book;
    let pages = texts(&out.path().join(format!("{}.pdf", book.meta.slug)));
    let blank = pages.iter().filter(|p| is_blank(p)).count();
    // Opening each module on a right-hand page left 166 of 379 A4 pages blank.
    assert!(
        blank * 100 <= pages.len() * 15,
        "{blank} of {} pages blank",
        pages.len()
    );
    // Parts still open on a right-hand page (odd page of the PDF: the front
    // matter has an even number of pages): the page whose title is followed
    // by the part's summary.
    for part in &book.parts {
        let title = format!("Part {}: {}", part.number, part.title);
        let summary: String = part.summary.chars().take(20).collect();
        let opening = pages
            .iter()
            .position(|p| {
                let flat = p.split_whitespace().collect::<Vec<_>>().join(" ");
                flat.starts_with(&format!("{title} {summary}"))
            })
            .unwrap_or_else(|| panic!("{title} opens somewhere"));
        assert!(
            opening % 2 == 0,
            "{title} opens on page {}, a left-hand page",
            opening + 1
        );
    }
}
