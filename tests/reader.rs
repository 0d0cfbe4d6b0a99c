//! What a reader sees: the EPUB opened in real reading engines (epub.js and
//! foliate-js, the engine of the Foliate reader, both paginated, in Debian's
//! headless Chromium) at a phone (360×640) and a 6" e-reader (600×800) size. For every spine item `tests/reader/check.mjs`
//! asserts that nothing is wider or taller than the page, no text shows
//! escaped markup, every image loads and every internal link resolves in the
//! engine. `QUIRE_SCREENSHOTS=1` also keeps review screenshots (cover,
//! contents, part opener, module opening, code, table, math, index) in
//! `output/screenshots/`.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SIZES: &str = "360x640,600x800";

fn chromium() -> PathBuf {
    std::env::var_os("QUIRE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn reader_dir() -> PathBuf {
    common::repo_root().join("tests/reader")
}

/// Node, Chromium and the pinned npm packages, or a visible skip (a failure in CI).
fn engine_available() -> bool {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        common::missing_tool("node (apt-get install nodejs npm)");
        return false;
    }
    if !chromium().exists() {
        common::missing_tool("chromium (apt-get install chromium)");
        return false;
    }
    let modules = reader_dir().join("node_modules");
    if !["epubjs", "foliate-js", "jszip", "playwright-core"]
        .iter()
        .all(|m| modules.join(m).join("package.json").exists())
    {
        common::missing_tool("tests/reader/node_modules (cd tests/reader && npm ci)");
        return false;
    }
    true
}

/// The engines `check.mjs` drives (its `--engine`).
const ENGINES: [&str; 2] = ["epubjs", "foliate"];

/// Runs the engine check; returns its exit code and JSON report.
fn read_in_engine(epub: &Path, engine: &str, extra: &[&str]) -> (i32, Value, String) {
    let out = Command::new("node")
        .arg(reader_dir().join("check.mjs"))
        .arg(epub)
        .args(["--engine", engine, "--sizes", SIZES, "--chromium"])
        .arg(chromium())
        .args(extra)
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "check.mjs could not run the engine (exit {code}):\n{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check.mjs printed no JSON report ({e}):\n{stderr}"));
    (code, report, stderr)
}

fn the_epub(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .expect("ls out")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "epub"))
        .expect("the build wrote an EPUB")
}

/// Every failure of the report, one line each, for the assertion message.
fn failures(report: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for size in report["sizes"].as_array().into_iter().flatten() {
        let s = size["size"].as_str().unwrap_or("?");
        for item in size["failedItems"].as_array().into_iter().flatten() {
            let href = item["href"].as_str().unwrap_or("?");
            for (kind, list) in item["failures"].as_object().into_iter().flatten() {
                let total = item["counts"][kind].as_u64().unwrap_or(0);
                for f in list.as_array().into_iter().flatten() {
                    lines.push(format!("{s} {href}: {kind} {f}"));
                }
                let shown = list.as_array().map_or(0, Vec::len) as u64;
                if total > shown {
                    lines.push(format!("{s} {href}: {kind} … {} more", total - shown));
                }
            }
        }
        for l in size["brokenLinks"].as_array().into_iter().flatten() {
            lines.push(format!("{s} broken link {l}"));
        }
        for e in size["pageErrors"].as_array().into_iter().flatten() {
            lines.push(format!("{s} engine error {e}"));
        }
    }
    lines
}

fn failing_hrefs(report: &Value, size: &str, kind: &str) -> Vec<String> {
    report["sizes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["size"] == size)
        .flat_map(|s| s["failedItems"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["counts"][kind].as_u64().unwrap_or(0) > 0)
        .filter_map(|i| i["href"].as_str().map(str::to_string))
        .collect()
}

/// Builds `content` to EPUB, reads it in the engine, and fails with every
/// problem found; `min_items` and `min_links` prove the engine really rendered it.
fn assert_reads_cleanly(
    content: &Path,
    engine: &str,
    min_items: u64,
    min_links: u64,
    screenshots: bool,
) -> Value {
    let out = tempfile::tempdir().expect("tempdir");
    common::build(content, out.path(), &["--epub"]);
    let epub = the_epub(out.path());
    let shots = common::repo_root().join("output/screenshots");
    let mut extra = Vec::new();
    if screenshots {
        extra = vec!["--screenshots", shots.to_str().expect("utf-8 path")];
    }
    let (code, report, stderr) = read_in_engine(&epub, engine, &extra);
    eprintln!("{engine}:\n{stderr}");
    for size in report["sizes"].as_array().expect("sizes") {
        assert!(size["items"].as_u64().unwrap_or(0) >= min_items, "{size}");
        assert!(
            size["linksChecked"].as_u64().unwrap_or(0) >= min_links,
            "{size}"
        );
    }
    figures_legible(&report, engine);
    let lines = failures(&report);
    assert!(
        code == 0 && lines.is_empty(),
        "{} problems a reader would see in {engine}:\n{}",
        lines.len(),
        lines.join("\n")
    );
    report
}

/// Defect 6 of the reading-engine issue: a diagram's labels shrunk to 4–7 px
/// on a phone. Every SVG figure whose smallest text is drawn under 9 px in
/// the flow has a plate (its own pages, one tap away) on which that text is
/// drawn at 9 px or more, at both sizes; the plate's whole view is never
/// smaller than the figure in the flow. The engine measures the sizes.
fn figures_legible(report: &Value, engine: &str) {
    const LEGIBLE: f64 = 9.0;
    for size in report["sizes"].as_array().into_iter().flatten() {
        let s = size["size"].as_str().unwrap_or("?");
        let figures = size["figures"].as_array().cloned().unwrap_or_default();
        let label = |f: &Value| f["label"].as_f64().unwrap_or(0.0);
        let name = |f: &Value| f["name"].as_str().unwrap_or("").to_string();
        let on_plates = |n: &str| -> Vec<&Value> {
            figures
                .iter()
                .filter(|f| f["plate"] == true && name(f).starts_with(n))
                .collect()
        };
        let mut summary = Vec::new();
        for f in figures.iter().filter(|f| f["plate"] == false) {
            let plates = on_plates(&name(f));
            let best = plates.iter().map(|p| label(p)).fold(label(f), f64::max);
            summary.push(format!("{:.1}→{best:.1}", label(f)));
            if label(f) < LEGIBLE {
                assert!(
                    best >= LEGIBLE,
                    "{engine} {s}: labels at {} px in the flow and {best} px at best on its plate: {f}",
                    label(f)
                );
            }
            if let Some(whole) = plates.iter().find(|p| name(p) == name(f)) {
                assert!(
                    label(whole) >= label(f),
                    "{engine} {s}: plate smaller: {whole} vs {f}"
                );
            }
        }
        eprintln!(
            "{engine} {s}: smallest figure text in the flow → best on its plate (px): {summary:?}"
        );
    }
}

fn screenshots_wanted() -> bool {
    std::env::var("QUIRE_SCREENSHOTS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// 12 parts, 159 modules and the front and back matter; thousands of links.
fn shipped_book_reads_cleanly(engine: &str) {
    if !engine_available() {
        return;
    }
    let content = common::repo_root().join("content");
    let report = assert_reads_cleanly(&content, engine, 170, 2000, screenshots_wanted());
    // The seven SVG diagrams were measured, in the flow and on their plates.
    for size in report["sizes"].as_array().expect("sizes") {
        let figures = size["figures"].as_array().expect("figures");
        let plates = figures.iter().filter(|f| f["plate"] == true).count();
        assert!(
            figures.len() - plates >= 7 && plates >= 7,
            "{engine}: figures not measured: {figures:?}"
        );
    }
}

#[test]
fn shipped_book_reads_cleanly_in_epub_js() {
    shipped_book_reads_cleanly("epubjs");
}

#[test]
fn shipped_book_reads_cleanly_in_foliate_js() {
    shipped_book_reads_cleanly("foliate");
}

/// Titles and text full of `<`, `&`, `*`, `@`, `//`: shown as written, never
/// as markup, and nothing pushed off the page.
#[test]
fn adversarial_book_reads_cleanly() {
    if !engine_available() {
        return;
    }
    let content = common::repo_root().join("tests/fixtures/adversarial");
    for engine in ENGINES {
        assert_reads_cleanly(&content, engine, 8, 20, false);
    }
}

/// Rewrites one entry of an EPUB (zip) in place.
fn patch_epub(epub: &Path, name: &str, edit: impl Fn(&str) -> String) {
    let bytes = std::fs::read(epub).expect("read epub");
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut zout = zip::ZipWriter::new(std::fs::File::create(epub).expect("create"));
    let mut found = false;
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).expect("entry");
        let entry = f.name().expect("name").to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read entry");
        if entry == name {
            found = true;
            data = edit(std::str::from_utf8(&data).expect("utf-8")).into_bytes();
        }
        let method = if entry == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        zout.start_file(entry.as_str(), opts).expect("start");
        zout.write_all(&data).expect("write");
    }
    zout.finish().expect("finish zip");
    assert!(found, "{name} not in the EPUB");
}

/// The check is only worth something if it fails: each kind of defect planted
/// in a page of a real Quire EPUB must be reported for that page, and only there.
#[test]
fn engine_check_reports_planted_defects() {
    if !engine_available() {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    common::build(
        &common::repo_root().join("tests/fixtures/mini"),
        out.path(),
        &["--epub"],
    );
    let epub = the_epub(out.path());
    // Clean first, so that what follows is caused by the plants alone.
    for engine in ENGINES {
        let (code, report, _) = read_in_engine(&epub, engine, &[]);
        assert_eq!(code, 0, "{engine}: {}", failures(&report).join("\n"));
    }

    patch_epub(&epub, "EPUB/text/m-queues.xhtml", |page| {
        // Inline styles, so the plants don't depend on the book's stylesheet.
        let long = "a sentence that may not wrap and so runs far past the right edge of the page, \
            on a phone and on a six-inch e-reader alike";
        let planted = format!(
            concat!(
                // a formula as wide as the known display-math defect, no scroll region
                r#"<math display="block"><mi>x</mi><mo>=</mo>"#,
                r#"<mn>12345678901234567890123456789012345678901234567890123456789012345678</mn></math>"#,
                r#"<p style="white-space:nowrap">{long}</p>"#,
                // clipped by its box, and hidden in a sideways scroll region
                r#"<div style="overflow:hidden"><p style="white-space:nowrap">{long}</p></div>"#,
                r#"<div style="overflow-x:auto"><p style="white-space:nowrap">{long}</p></div>"#,
                // an overview escaped twice, as part openers once were
                r#"<p>&lt;p&gt;Building Blocks is&lt;a href="m-caching.xhtml"&gt;</p>"#,
                r#"<p><img src="../images/no-such-image.png" alt="gone"/></p>"#,
                r##"<p><a href="m-caching.xhtml#no-such-id">dangling</a> <a href="m-missing.xhtml">gone</a></p>"##,
            ),
            long = long
        );
        page.replacen("</h1>", &format!("</h1>{planted}"), 1)
    });
    for engine in ENGINES {
        planted_defects_reported(&epub, engine);
    }
}

fn planted_defects_reported(epub: &Path, engine: &str) {
    let (code, report, stderr) = read_in_engine(epub, engine, &[]);
    assert_eq!(
        code, 1,
        "{engine}: planted defects must fail the check:\n{stderr}"
    );
    for size in ["360x640", "600x800"] {
        for kind in ["overflow", "cut", "scroll", "markup", "images"] {
            assert_eq!(
                failing_hrefs(&report, size, kind),
                vec!["text/m-queues.xhtml".to_string()],
                "{engine} {size} {kind}:\n{stderr}"
            );
        }
        let broken: Vec<String> = report["sizes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["size"] == size)
            .flat_map(|s| s["brokenLinks"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| l["href"].as_str().map(str::to_string))
            .collect();
        assert_eq!(
            broken,
            ["m-caching.xhtml#no-such-id", "m-missing.xhtml"],
            "{engine} {size}"
        );
    }
}
