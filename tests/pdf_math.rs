//! Math in the PDFs: TeX converts without leftovers (no "(, )" for the
//! thousands separator `{,}`, no backslash commands or braces), and every
//! display equation, however wide, stays inside the text block on the small
//! papers (A5 and 6x9), scaled or broken before its relations.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn tool(name: &str) -> bool {
    common::tool(name, "poppler-utils")
}

/// Prose that fills justified lines, so each page shows where its text block is.
const PROSE: &str = "A cache in front of the database absorbs the reads that repeat, and the \
    misses fall through to the primary, which has to be sized for them and for the writes; \
    a rough estimate of both, made before any design is drawn, says which parts need care. ";

/// Inline formulas and the text each must print (as pdftotext extracts it).
const INLINE: &[(&str, &str)] = &[
    (r"L = 1.4 \times 10^5 \times 0.05 = 7{,}000", "7,000"),
    (r"1{.}5 + 2", "1.5"),
    (r"\text{50\% off, \$5 \& more}", "50% off, $5 & more"),
    (r"3\,\text{s} + 125\;\text{MB/s}", "MB/s"),
    (r"\frac{a,b}{c} + \sqrt{x} + \sqrt[3]{y}", "√"),
    (r"\left( \frac{1}{2} \right) \cdot x \approx y", "≈"),
    (r"x^{2} + x_{i} + x_i^2 + 100\% \ldots", "100%"),
    (r"\mathrm{d}x + \operatorname{Var}(X) + \log_2 n", "Var"),
    (r"a \le b \ne c \ge d \to e", "≤"),
];

/// Display equations far wider than an A5 text block.
const DISPLAY: &[&str] = &[
    // Broken before its relations.
    r"T_{\text{first byte}} \approx T_{\text{DNS}} + \text{RTT}_{\text{TCP}} + \text{RTT}_{\text{TLS}} + \text{RTT}_{\text{HTTP}} + T_{\text{server}} \approx 50 + 90 + 90 + 90 + 20 = 340\,\text{ms}",
    // One relation: scaled.
    r"\text{Storage per year} = \text{items per day} \times \text{bytes per item} \times \text{days retained} \times \text{replicas} \times \text{overhead}",
    // No relation at all: scaled.
    r"\text{ingress} + \text{egress} + \text{replication} + \text{backups} + \text{snapshots} + \text{logs} + \text{metrics} + \text{traces} + \text{indexes}",
    r"\frac{10^9 \times 3600\,\text{s} \times 3 \times 10^6\,\text{bit/s}}{86\,400\,\text{s}} \approx 1.25 \times 10^{14}\,\text{bit/s} = 125\,\text{Tbit/s} = 125{,}000\,\text{Gbit/s}",
    r"\begin{aligned} \text{QPS}_{\text{avg}} &= \frac{\text{DAU} \times \text{actions}}{86\,400} \\ &\approx 2{,}300 \end{aligned}",
    r"f(x) = \begin{cases} 0 & \text{if } x < 0 \\ x & \text{otherwise} \end{cases}",
];

fn math_book() -> tempfile::TempDir {
    let mut body = String::from("## Estimates\n\n");
    for (i, (tex, _)) in INLINE.iter().enumerate() {
        body.push_str(&format!("{PROSE}Formula {i}: ${tex}$. {PROSE}\n\n"));
    }
    for tex in DISPLAY {
        body.push_str(&format!("{PROSE}{PROSE}\n\n$$\n{tex}\n$$\n\n"));
    }
    body.push_str(&format!("{PROSE}{PROSE}\n"));
    let module = common::module("Estimates", "beginner", "Redis", &body);
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in [
        ("book.toml", common::BOOK_TOML),
        ("01-basics/_part.md", common::PART),
        ("01-basics/01-estimates.md", &module),
    ] {
        common::write(dir.path(), path, text.as_bytes());
    }
    dir
}

fn build(content: &Path, paper: &str) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().expect("tempdir");
    let o = common::build(content, out.path(), &["--pdf", "--paper", paper]);
    (out, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn tex_leaves_nothing_of_itself_in_the_pdf() {
    if !tool("pdftotext") {
        return;
    }
    let book = math_book();
    let (out, stderr) = build(book.path(), "a4");
    assert!(
        !stderr.contains("math could not be typeset"),
        "a formula fell back to its TeX source:\n{stderr}"
    );
    let pdf = out.path().join("test-book.pdf");
    let o = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout);
    for leftover in [
        "(, )", "(,)", "\\", "frac", "times", "approx", "mathrm", "text",
    ] {
        assert!(!text.contains(leftover), "{leftover:?} in the PDF's text");
    }
    // A brace is a TeX group left over unless it stands alone (the big
    // brace of `cases`).
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or('\n');
        assert!(
            !matches!(c, '{' | '}') || next.is_whitespace(),
            "a brace in the PDF's text: {:?}",
            chars[i.saturating_sub(20)..(i + 20).min(chars.len())]
                .iter()
                .collect::<String>()
        );
    }
    for (tex, printed) in INLINE {
        assert!(text.contains(printed), "{tex} should print {printed:?}");
    }
    assert!(
        text.contains("125,000"),
        "a thousands separator in display math"
    );
}

/// A word as `pdftotext -bbox-layout` places it.
struct Word {
    x_min: f64,
    x_max: f64,
    text: String,
}

fn attr(tag: &str, name: &str) -> f64 {
    let key = format!("{name}=\"");
    let at = tag.find(&key).expect("attribute") + key.len();
    tag[at..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("number")
}

/// Each page's lines, each line's words.
fn lines(pdf: &Path) -> Vec<Vec<Vec<Word>>> {
    let o = Command::new("pdftotext")
        .arg("-bbox-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let xml = String::from_utf8_lossy(&o.stdout);
    let mut pages = Vec::new();
    for page in xml.split("<page ").skip(1) {
        let mut page_lines = Vec::new();
        for line in page.split("<line ").skip(1) {
            let words = line
                .split("<word ")
                .skip(1)
                .map(|w| {
                    let (tag, rest) = w.split_once('>').expect("word tag");
                    Word {
                        x_min: attr(tag, "xMin"),
                        x_max: attr(tag, "xMax"),
                        text: rest.split("</word>").next().unwrap_or_default().to_string(),
                    }
                })
                .collect::<Vec<_>>();
            page_lines.push(words);
        }
        pages.push(page_lines);
    }
    pages
}

/// The most common value, to the nearest point.
fn mode(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for v in values {
        *count.entry(v.round() as i64).or_default() += 1;
    }
    count
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(v, _)| v as f64)
}

/// Whether a word is set in the math font (mathematical italic letters,
/// operators pdftotext keeps as such).
fn is_math(w: &str) -> bool {
    w.chars()
        .any(|c| ('\u{1D400}'..='\u{1D7FF}').contains(&c) || "≈×≤≥∑√".contains(c))
}

#[test]
fn display_equations_stay_inside_the_text_block_on_a5_and_6x9() {
    if !tool("pdftotext") {
        return;
    }
    let book = math_book();
    for paper in ["a5", "6x9"] {
        let (out, _) = build(book.path(), paper);
        let pages = lines(&out.path().join("test-book.pdf"));
        // The text block of left- and right-hand pages, from the edges of the
        // justified lines of prose (of every page of that side).
        let mut edges = Vec::new();
        for side in 0..2 {
            let prose = || {
                pages
                    .iter()
                    .skip(side)
                    .step_by(2)
                    .flatten()
                    .filter(|l| l.len() >= 10 && !l.iter().any(|w| is_math(&w.text)))
            };
            let left = mode(prose().map(|l| l[0].x_min));
            let right = mode(prose().filter_map(|l| l.last()).map(|w| w.x_max));
            edges.push(left.zip(right));
        }
        let mut math_lines = 0;
        for (i, page) in pages.iter().enumerate() {
            let Some((left, right)) = edges[i % 2] else {
                continue;
            };
            for line in page.iter().filter(|l| l.iter().any(|w| is_math(&w.text))) {
                math_lines += 1;
                for w in line {
                    assert!(
                        w.x_min >= left - 2.5 && w.x_max <= right + 2.5,
                        "{paper}, page {}: {:?} at {:.1}-{:.1} pt, text block {left}-{right} pt",
                        i + 1,
                        w.text,
                        w.x_min,
                        w.x_max
                    );
                }
            }
        }
        // Every display equation and inline formula was looked at.
        assert!(
            math_lines >= DISPLAY.len() + INLINE.len(),
            "{paper}: {math_lines} lines with math"
        );
    }
}
