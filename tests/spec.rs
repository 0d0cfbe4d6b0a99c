//! Every example of the CommonMark spec 0.31.2 (652) and of the GFM spec's extensions (28)
//! goes through Quire (issue 12: never refuse valid Markdown, never crash, raw HTML either
//! renders or warns).
//!
//! One generated book holds every example as a module (its body is the example, verbatim);
//! `quire check` runs once over it. Exit 0 or 1 only: an example may be an error where Quire
//! has a reason (a link to `/url` that is not in the book), never a crash. The examples
//! without errors then build, once, to EPUB and PDF (exit 0: `check` and `build` agree), and:
//! - every example whose Markdown holds raw HTML (pulldown-cmark's own events say so, with
//!   Quire's options) shows no markup as text on its page, or has a warning that points into
//!   its body (file:line:col);
//! - the EPUB passes epubcheck and no page has a link inside a link.
//!
//! When a run crashes, the examples behind it are found by halving and listed.
//! Data: tests/data/commonmark/ (CC BY-SA 4.0, see its README.md).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::Instant;

use common::epub::{
    active_content, entries, epubcheck, nested_anchors, prose_texts, tag_fragments,
};
use pulldown_cmark::{Event, Parser, Tag};

struct Example {
    /// `cm-42` or `gfm-198`: unique, used in file names.
    key: String,
    spec: &'static str,
    number: u64,
    section: String,
    markdown: String,
    html: String,
}

fn load(file: &str, spec: &'static str, prefix: &str) -> Vec<Example> {
    let path = common::repo_root().join("tests/data/commonmark").join(file);
    let text = std::fs::read_to_string(&path).expect("spec data");
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("spec JSON");
    list.into_iter()
        .map(|v| {
            let number = v["number"].as_u64().expect("number");
            Example {
                key: format!("{prefix}-{number}"),
                spec,
                number,
                section: v["section"].as_str().expect("section").to_string(),
                markdown: v["markdown"].as_str().expect("markdown").to_string(),
                html: v["html"].as_str().expect("html").to_string(),
            }
        })
        .collect()
}

fn examples() -> Vec<Example> {
    let mut all = load("spec-0.31.2.json", "CommonMark 0.31.2", "cm");
    all.extend(load("gfm-0.29-extensions.json", "GFM 0.29", "gfm"));
    all
}

/// Lines of front matter before the body (and the blank line after it): the body's first
/// line is line `BODY_LINE` of the module file.
const BODY_LINE: usize = 9;

fn module_text(e: &Example) -> String {
    let head = format!(
        "---\ntitle: \"Example {}\"\nsummary: \"{} example {}.\"\ndifficulty: beginner\nminutes: 1\ntags: [spec]\n---\n\n",
        e.key, e.spec, e.number
    );
    debug_assert_eq!(head.lines().count() + 1, BODY_LINE);
    head + &e.markdown
}

/// Module files are `NNN-<key>.md` in part `01-spec`: the path of `e` in the book.
fn module_rel(i: usize, e: &Example) -> String {
    format!("01-spec/{:03}-{}.md", i + 1, e.key)
}

/// A book of the given examples (indexes into `all`); returns the folder.
fn write_book(dir: &Path, all: &[Example], pick: &[usize]) {
    common::write(dir, "book.toml", common::BOOK_TOML.as_bytes());
    common::write(
        dir,
        "01-spec/_part.md",
        b"---\ntitle: \"Spec examples\"\nsummary: \"Every example, one module each.\"\n---\n\nThe examples.\n",
    );
    for &i in pick {
        common::write(
            dir,
            &module_rel(i, &all[i]),
            module_text(&all[i]).as_bytes(),
        );
    }
}

fn is_crash(o: &Output) -> bool {
    !matches!(o.status.code(), Some(0) | Some(1))
}

fn run(content: &Path, out: &Path, args: &[&str]) -> Output {
    let mut a = vec![
        "--content",
        content.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    a.extend_from_slice(args);
    common::quire(&a)
}

/// The examples of `pick` whose book crashes `quire args` on its own (by halving).
fn culprits(all: &[Example], pick: &[usize], args: &[&str]) -> Vec<usize> {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_book(tmp.path(), all, pick);
    let o = run(tmp.path(), &tmp.path().join("out"), args);
    if !is_crash(&o) {
        return Vec::new();
    }
    if pick.len() == 1 {
        return pick.to_vec();
    }
    let (a, b) = pick.split_at(pick.len() / 2);
    let mut found = culprits(all, a, args);
    found.extend(culprits(all, b, args));
    if found.is_empty() {
        // Only the combination crashes: report the whole slice.
        return pick.to_vec();
    }
    found
}

fn describe(all: &[Example], list: &[usize]) -> String {
    list.iter()
        .map(|&i| {
            let e = &all[i];
            format!(
                "  {} example {} ({}): {:?}",
                e.spec,
                e.number,
                e.section,
                e.markdown.chars().take(70).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Diag {
    line: usize,
    error: bool,
    message: String,
}

/// `file:line:col: severity: message` lines, by module file name.
fn diagnostics(stderr: &str) -> BTreeMap<String, Vec<Diag>> {
    let mut by_file: BTreeMap<String, Vec<Diag>> = BTreeMap::new();
    for l in stderr.lines() {
        let (loc, error, message) = if let Some((loc, m)) = l.split_once(": error: ") {
            (loc, true, m)
        } else if let Some((loc, m)) = l.split_once(": warning: ") {
            (loc, false, m)
        } else {
            continue;
        };
        let mut it = loc.rsplitn(3, ':');
        let (Some(_col), Some(line), Some(file)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let Ok(line) = line.parse() else { continue };
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        by_file.entry(name).or_default().push(Diag {
            line,
            error,
            message: message.to_string(),
        });
    }
    by_file
}

/// Whether pulldown-cmark, with Quire's options, sees raw HTML in the example.
fn has_raw_html(markdown: &str) -> bool {
    Parser::new_ext(markdown, quire::parse::markdown::options()).any(|ev| {
        matches!(
            ev,
            Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::HtmlBlock)
        )
    })
}

/// Whether the example's raw HTML is of the kind Quire must drop with a warning
/// (script, style, iframe, object, form, event handlers, `javascript:` URLs).
fn has_unsafe_html(markdown: &str) -> bool {
    let html: String = Parser::new_ext(markdown, quire::parse::markdown::options())
        .filter_map(|ev| match ev {
            Event::Html(h) | Event::InlineHtml(h) => Some(h.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    [
        "<script",
        "<style",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "javascript:",
    ]
    .iter()
    .any(|t| html.contains(t))
        || html
            .split(|c: char| c.is_whitespace())
            .any(|w| w.starts_with("on") && w.contains('=') && w.len() > 3)
}

/// The text a browser shows for the example's expected HTML: comments, declarations,
/// processing instructions, CDATA and tags removed (a `>` inside a quoted attribute value
/// does not end a tag; a tag never closed swallows the rest, as in HTML5), entities decoded.
fn expected_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        let special = [
            ("<!--", "-->"),
            ("<![CDATA[", "]]>"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .iter()
        .find(|(open, _)| tail.starts_with(open));
        let end = match special {
            Some((open, close)) => tail[open.len()..]
                .find(close)
                .map(|k| open.len() + k + close.len()),
            None => tag_end(tail),
        };
        match end {
            Some(n) => rest = &tail[n..],
            None => rest = "",
        }
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Where the tag opening `tail` ends (just past its `>`), skipping quoted values.
fn tag_end(tail: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tail.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Markup-like fragments of the example's expected text: its literal text, not tags.
fn expected_literal_fragments(html: &str) -> BTreeSet<String> {
    tag_fragments(&expected_text(html)).into_iter().collect()
}

/// Every text node of the page's body, in order (code included).
fn body_text(xhtml: &str) -> String {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(xhtml, opts).expect("XHTML parses");
    doc.descendants()
        .filter(|n| n.is_text() && n.ancestors().any(|a| a.has_tag_name("body")))
        .filter_map(|n| n.text())
        .collect()
}

/// Letters and digits only: smart punctuation, entities and spacing aside, the words.
fn words_of(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[test]
fn commonmark_and_gfm_examples_never_crash_and_html_renders_or_warns() {
    let started = Instant::now();
    let all = examples();
    assert_eq!(all.iter().filter(|e| e.key.starts_with("cm-")).count(), 652);
    assert_eq!(all.iter().filter(|e| e.key.starts_with("gfm-")).count(), 28);
    let everything: Vec<usize> = (0..all.len()).collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = tmp.path().join("all");
    write_book(&book, &all, &everything);

    // 1. check over every example: exit 0 or 1, never a crash.
    let o = run(&book, &tmp.path().join("out-check"), &["check"]);
    if is_crash(&o) {
        let bad = culprits(&all, &everything, &["check"]);
        panic!(
            "quire check crashed (exit {:?}) on {} example(s):\n{}\n{}",
            o.status.code(),
            bad.len(),
            describe(&all, &bad),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let check_stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let diags = diagnostics(&check_stderr);
    let file_of = |i: usize| {
        module_rel(i, &all[i])
            .rsplit('/')
            .next()
            .expect("name")
            .to_string()
    };
    let with_errors: Vec<usize> = everything
        .iter()
        .copied()
        .filter(|&i| {
            diags
                .get(&file_of(i))
                .is_some_and(|d| d.iter().any(|d| d.error))
        })
        .collect();
    let check_secs = started.elapsed().as_secs_f64();

    // 2. The rest builds, EPUB and PDF, exit 0.
    let clean: Vec<usize> = everything
        .iter()
        .copied()
        .filter(|i| !with_errors.contains(i))
        .collect();
    let built = tmp.path().join("clean");
    write_book(&built, &all, &clean);
    let out = tmp.path().join("out");
    let build_started = Instant::now();
    let o = run(&built, &out, &["build"]);
    let build_secs = build_started.elapsed().as_secs_f64();
    let mut failures: Vec<String> = Vec::new();
    if is_crash(&o) {
        let epub_bad = culprits(&all, &clean, &["build", "--epub"]);
        let pdf_bad = if epub_bad.is_empty() {
            culprits(&all, &clean, &["build", "--pdf"])
        } else {
            Vec::new()
        };
        panic!(
            "quire build crashed (exit {:?}); EPUB culprits:\n{}\nPDF culprits:\n{}\n{}",
            o.status.code(),
            describe(&all, &epub_bad),
            describe(&all, &pdf_bad),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    if o.status.code() != Some(0) {
        failures.push(format!(
            "build of the {} examples that check accepts exited {:?}:\n{}",
            clean.len(),
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| l.contains(": error: "))
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }

    // 3. Raw HTML renders or warns.
    let epub_path = out.join("test-book.epub");
    let mut html_examples = 0;
    let mut rendered = 0;
    let mut warned = 0;
    let mut unsafe_examples = 0;
    let mut epub_verdict = "not built".to_string();
    if epub_path.is_file() {
        let zip = entries(&epub_path);
        let pages: BTreeMap<String, String> = zip
            .iter()
            .filter(|e| e.name.ends_with(".xhtml"))
            .map(|e| {
                (
                    e.name.clone(),
                    String::from_utf8_lossy(&e.bytes).into_owned(),
                )
            })
            .collect();
        for &i in &clean {
            let e = &all[i];
            if !has_raw_html(&e.markdown) {
                continue;
            }
            html_examples += 1;
            let Some(page) = pages.get(&format!("EPUB/text/m-{}.xhtml", module_id(i, e))) else {
                failures.push(format!(
                    "{} example {}: no page in the EPUB",
                    e.spec, e.number
                ));
                continue;
            };
            let allowed = expected_literal_fragments(&e.html);
            let shown: Vec<String> = prose_texts(page)
                .iter()
                .flat_map(|t| tag_fragments(t))
                .filter(|f| !allowed.contains(f))
                .collect();
            let body_lines = BODY_LINE..BODY_LINE + e.markdown.lines().count().max(1);
            let warns = diags.get(&file_of(i)).is_some_and(|d| {
                d.iter()
                    .any(|d| !d.error && body_lines.contains(&d.line) && !d.message.is_empty())
            });
            if has_unsafe_html(&e.markdown) {
                unsafe_examples += 1;
                if !warns {
                    failures.push(format!(
                        "{} example {} ({}): active HTML dropped without a warning in its body\n    markdown: {:?}",
                        e.spec, e.number, e.section, e.markdown
                    ));
                }
            }
            // Rendered: no markup printed, and every word the spec's rendering shows is on
            // the page (raw HTML may not swallow content silently).
            let page_words = words_of(&body_text(page));
            let lost = !page_words.contains(&words_of(&expected_text(&e.html)));
            if shown.is_empty() && !lost {
                rendered += 1;
            } else if warns {
                warned += 1;
            } else {
                failures.push(format!(
                    "{} example {} ({}): {} without a warning: {:?}\n    markdown: {:?}\n    spec text: {:?}",
                    e.spec,
                    e.number,
                    e.section,
                    if shown.is_empty() { "text lost" } else { "markup shown as text" },
                    shown,
                    e.markdown,
                    expected_text(&e.html)
                ));
            }
        }
        for n in nested_anchors(&epub_path) {
            failures.push(format!("nested anchor: {n}"));
        }
        for (name, page) in &pages {
            for a in active_content(page) {
                failures.push(format!("{name}: active content reached the EPUB: {a}"));
            }
        }
        if let Some(report) = epubcheck(&epub_path) {
            epub_verdict = report
                .lines()
                .find(|l| l.starts_with("Messages:"))
                .unwrap_or("no Messages line")
                .to_string();
            if !report.contains("Messages: 0 fatals / 0 errors / 0 warnings") {
                let msgs: Vec<&str> = report
                    .lines()
                    .filter(|l| {
                        l.starts_with("ERROR") || l.starts_with("FATAL") || l.starts_with("WARNING")
                    })
                    .take(20)
                    .collect();
                failures.push(format!("epubcheck: {epub_verdict}\n{}", msgs.join("\n")));
            }
        }
    } else if o.status.code() == Some(0) {
        failures.push(format!("no EPUB at {}", epub_path.display()));
    }
    let pdf_ok = out.join("test-book.pdf").is_file();
    if o.status.code() == Some(0) && !pdf_ok {
        failures.push("no book PDF written".into());
    }

    let error_sections: BTreeMap<&str, usize> =
        with_errors.iter().fold(BTreeMap::new(), |mut m, &i| {
            *m.entry(all[i].section.as_str()).or_insert(0) += 1;
            m
        });
    let warnings: usize = diags.values().flatten().filter(|d| !d.error).count();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for d in diags.values().flatten() {
        let kind: String = d
            .message
            .split([':', '`', '\'', '"'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(60)
            .collect();
        let sev = if d.error { "error" } else { "warning" };
        *kinds.entry(format!("{sev}: {}", kind.trim())).or_insert(0) += 1;
    }
    eprintln!(
        "SPEC: {} examples; check {check_secs:.1} s: {} with errors (exit 1 expected for them), {warnings} warnings; \
         build of {} examples {build_secs:.1} s, exit {:?}, epubcheck {epub_verdict}; \
         raw-HTML examples {html_examples}: {rendered} rendered, {warned} warned ({unsafe_examples} with active HTML); total {:.1} s\n  errors by section: {error_sections:?}\n  diagnostics by kind: {kinds:#?}",
        all.len(),
        with_errors.len(),
        clean.len(),
        o.status.code(),
        started.elapsed().as_secs_f64(),
    );
    if !failures.is_empty() {
        let n = failures.len();
        failures.truncate(40);
        panic!("{n} spec failure(s):\n- {}", failures.join("\n- "));
    }
}

/// The module id Quire gives a file `NNN-slug.md`: its slug.
fn module_id(i: usize, e: &Example) -> String {
    let rel = module_rel(i, e);
    let stem = rel
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_suffix(".md"))
        .expect("stem")
        .to_string();
    stem.split_once('-')
        .map(|(_, s)| s.to_string())
        .unwrap_or(stem)
}

#[test]
fn raw_html_detection_and_literal_fragments() {
    assert!(has_raw_html("<div>\nx\n</div>\n"));
    assert!(has_raw_html("a <span>b</span>\n"));
    assert!(!has_raw_html("a `<span>` b\n"));
    // Example: `<a href="foo\nbar">` is text in CommonMark, not a tag.
    let lit = expected_literal_fragments("<p>&lt;a href=&quot;x&quot;&gt;</p>\n");
    assert!(lit.contains("<a href=\"x\">"), "{lit:?}");
    assert_eq!(
        expected_text("<!-- a > b --><p>x &amp; <em>y</em></p><?php z ?><![CDATA[ q ]]>"),
        "x & y"
    );
    assert_eq!(expected_text("<p><a b='<em>\"</em>'\nc />d</p>"), "d");
    assert_eq!(expected_text("<div id=\"foo\"\n*hi*\n"), "");
    assert_eq!(words_of("“Hello,” — world…"), "Helloworld");
}
