//! What issue 13 found in the EPUB beyond the validators, end to end: the tag
//! index (each module once, mentions only outside them, split by letter when
//! too big for one file), the embedded monospace font (subset, still a font
//! a browser loads), and figures that stay where they are in MuPDF.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::epub::{check_structure, entries, epubcheck, is_tag_index_file};

fn texts(epub: &Path) -> BTreeMap<String, String> {
    entries(epub)
        .into_iter()
        .filter(|e| {
            e.name.ends_with(".xhtml") || e.name.ends_with(".opf") || e.name.ends_with(".ncx")
        })
        .map(|e| (e.name, String::from_utf8(e.bytes).expect("UTF-8")))
        .collect()
}

fn xml(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts).expect("well-formed XHTML")
}

fn assert_epubcheck_clean(epub: &Path) {
    if let Some(report) = epubcheck(epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

fn build_epub(content: &Path, out: &Path) -> std::path::PathBuf {
    common::build(content, out, &["--epub"]);
    std::fs::read_dir(out)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "epub"))
        .expect("an EPUB was written")
}

/// The `href`s inside the element with `id` (its index entry).
fn entry_links(page: &str, id: &str, class: &str) -> Vec<String> {
    let doc = xml(page);
    let Some(entry) = doc.descendants().find(|n| n.attribute("id") == Some(id)) else {
        return vec![];
    };
    entry
        .descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .flat_map(|p| p.descendants().filter_map(|a| a.attribute("href")))
        .map(str::to_string)
        .collect()
}

#[test]
fn tag_index_lists_modules_once_and_mentions_only_other_modules() {
    let dir = common::book(&[
        (
            "01-basics/01-intro.md",
            &common::module(
                "Intro",
                "beginner",
                "Redis, redis",
                "## Setup {#setup}\n\nUse Redis here.\n\n## Later\n\nRedis again, and Kafka.",
            ),
        ),
        (
            "01-basics/02-next.md",
            &common::module(
                "Next",
                "intermediate",
                "Kafka",
                "Redis before any heading.\n\n## One {#one}\n\nRedis here.\n\n## Two {#two}\n\nRedis there.\n\n## Three\n\nNo mention.",
            ),
        ),
    ]);
    let out = tempfile::tempdir().expect("tempdir");
    let epub = build_epub(dir.path(), out.path());
    let t = texts(&epub);
    let index = &t["EPUB/text/tag-index.xhtml"];
    assert_eq!(
        entry_links(index, "tag-redis", "index-tagged"),
        ["m-intro.xhtml"],
        "a module tagged twice (two spellings) is listed once"
    );
    // Next mentions Redis before its first heading and in two sections: one
    // link to the module, then its two sections; nothing points into Intro,
    // which is already listed.
    assert_eq!(
        entry_links(index, "tag-redis", "index-mentions"),
        ["m-next.xhtml", "m-next.xhtml#one", "m-next.xhtml#two"]
    );
    assert_eq!(
        entry_links(index, "tag-kafka", "index-mentions"),
        ["m-intro.xhtml", "m-intro.xhtml#later"]
    );
    let loaded = quire::load(dir.path()).expect("loads");
    check_structure(&epub, &loaded);
    assert_epubcheck_clean(&epub);
}

/// Tags spread over the alphabet, many per module: an index of ~500 KB.
fn big_index_book() -> tempfile::TempDir {
    let words = [
        "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
        "Juliet", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra",
        "Tango", "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu",
    ];
    let mut files: Vec<(String, String)> = Vec::new();
    for m in 0..36 {
        let tags: Vec<String> = (0..50)
            .map(|k| format!("{}{:04}", words[(m * 50 + k) % words.len()], m * 50 + k))
            .collect();
        files.push((
            format!("01-basics/{:02}-module-{m}.md", m + 1),
            common::module(
                &format!("Module number {m} with a longer title"),
                "beginner",
                &tags.join(", "),
                "## Body\n\nText.",
            ),
        ));
    }
    files.push(("02-more/_part.md".into(), common::PART.into()));
    files.push((
        "02-more/01-deep.md".into(),
        common::module("Deep", "advanced", "Alpha0000", "## Deep dive\n\nText."),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = common::book(&refs);
    for stale in ["01-basics/01-intro.md", "01-basics/02-next.md"] {
        let _ = std::fs::remove_file(dir.path().join(stale));
    }
    dir
}

#[test]
fn big_tag_index_is_split_by_letter_and_links_find_their_file() {
    let dir = big_index_book();
    let out = tempfile::tempdir().expect("tempdir");
    let epub = build_epub(dir.path(), out.path());
    let t = texts(&epub);
    let index_files: Vec<&String> = t.keys().filter(|n| is_tag_index_file(n)).collect();
    assert!(index_files.len() > 1, "one index file: {index_files:?}");
    // Where each tag's entry is, and every file under Kindle's 300 KB.
    let mut file_of: BTreeMap<String, String> = BTreeMap::new();
    for name in &index_files {
        let page = &t[name.as_str()];
        assert!(page.len() < 300_000, "{name}: {} bytes", page.len());
        let doc = xml(page);
        for e in doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("index-entry"))
        {
            let id = e.attribute("id").expect("entry id").to_string();
            let file = name.trim_start_matches("EPUB/text/").to_string();
            assert!(
                file_of.insert(id.clone(), file).is_none(),
                "{id} listed twice"
            );
        }
    }
    let loaded = quire::load(dir.path()).expect("loads");
    assert_eq!(file_of.len(), loaded.index.tags.len());
    // Letters are never out of order across files.
    let firsts: Vec<char> = file_of
        .keys()
        .map(|id| id.trim_start_matches("tag-").chars().next().unwrap_or('?'))
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
    // Every "Technologies:" link on a module page goes to the file holding the entry.
    let mut checked = 0;
    for (name, page) in t.iter().filter(|(n, _)| n.starts_with("EPUB/text/m-")) {
        let doc = xml(page);
        for href in doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("module-tags"))
            .flat_map(|p| p.descendants().filter_map(|a| a.attribute("href")))
        {
            let (file, id) = href.split_once('#').expect("anchor");
            assert_eq!(
                file_of.get(id).map(String::as_str),
                Some(file),
                "{name}: {href}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} tag links");
    // Each index file is in the spine, in order, and in the nav.
    let opf = &t["EPUB/package.opf"];
    let spine: Vec<&str> = opf
        .split("<itemref idref=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|id| id.starts_with("tag-index"))
        .collect();
    let want: Vec<String> = (1..=index_files.len())
        .map(|k| {
            if k == 1 {
                "tag-index".into()
            } else {
                format!("tag-index-{k}")
            }
        })
        .collect();
    assert_eq!(spine, want);
    for name in &index_files {
        let file = name.trim_start_matches("EPUB/");
        assert!(
            t["EPUB/nav.xhtml"].contains(&format!("href=\"{file}\"")),
            "nav lacks {file}"
        );
        assert!(
            t["EPUB/toc.ncx"].contains(&format!("src=\"{file}\"")),
            "NCX lacks {file}"
        );
    }
    check_structure(&epub, &loaded);
    assert_epubcheck_clean(&epub);
}

const CODE_BOOK_MODULE: &str = "## Setup {#setup}\n\n## Code\n\nInline `λx → x` and:\n\n```rust\nfn main() {\n\tlet s = \"über\"; // ≤ 4 ✓\n}\n```\n";

/// The font the EPUB embeds keeps every character its code shows (and little
/// else), and is a font a browser accepts: Chromium loads it and lays code out
/// in it (monospaced: `iiii` as wide as `MMMM`).
#[test]
fn embedded_font_is_subset_to_the_code_and_loads_in_chromium() {
    let dir = common::book(&[(
        "01-basics/01-intro.md",
        &common::module("Intro", "beginner", "Redis", CODE_BOOK_MODULE),
    )]);
    let out = tempfile::tempdir().expect("tempdir");
    let epub = build_epub(dir.path(), out.path());
    let all = entries(&epub);
    let font = &all
        .iter()
        .find(|e| e.name == "EPUB/fonts/DejaVuSansMono.ttf")
        .expect("font in the EPUB")
        .bytes;
    assert!(font.len() < 40_000, "font is {} bytes", font.len());
    let code: BTreeSet<char> = all
        .iter()
        .filter(|e| e.name.ends_with(".xhtml"))
        .flat_map(|e| common::epub::code_texts(&String::from_utf8_lossy(&e.bytes)))
        .flat_map(|s| s.chars().collect::<Vec<_>>())
        .filter(|c| !c.is_control())
        .collect();
    for c in ['λ', '→', 'ü', '≤', '✓'] {
        assert!(code.contains(&c), "test book lost {c:?}");
    }
    {
        use write_fonts::read::{FontRef, TableProvider};
        let cmap = FontRef::new(font).expect("a font").cmap().expect("a cmap");
        let missing: Vec<char> = code
            .iter()
            .copied()
            .filter(|&c| cmap.map_codepoint(c).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "code characters not in the font: {missing:?}"
        );
    }

    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        common::missing_tool("chromium (apt-get install chromium)");
        return;
    }
    let page = out.path().join("font.html");
    std::fs::write(out.path().join("mono.ttf"), font).expect("write font");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><body><div id="out">pending</div><script>
const face = new FontFace('Probe', 'url(mono.ttf)');
face.load().then((f) => {
  document.fonts.add(f);
  const c = document.createElement('canvas').getContext('2d');
  c.font = '40px Probe, serif';
  const mono = c.measureText('iiii').width === c.measureText('MMMM').width;
  document.getElementById('out').textContent = mono ? 'LOADED-MONO' : 'LOADED-NOT-MONO';
}).catch((e) => { document.getElementById('out').textContent = 'REJECTED ' + e; });
</script></body></html>"#,
    )
    .expect("write page");
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("LOADED-MONO"),
        "Chromium did not use the subset font: {}",
        dom.lines()
            .find(|l| l.contains("id=\"out\""))
            .unwrap_or(&dom)
    );
}

/// MuPDF (SumatraPDF, Librera) moved every figure that is a direct child of a
/// `<section>` to the top of it: the caption must come after the text that
/// precedes the figure in the source.
#[test]
fn figures_stay_in_place_in_mupdf() {
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100"><rect x="10" y="10" width="180" height="80" fill="none" stroke="black"/></svg>"#;
    let dir = common::book(&[
        ("images/box.svg", svg),
        (
            "01-basics/01-intro.md",
            &common::module(
                "Intro",
                "beginner",
                "Redis",
                "## Setup {#setup}\n\nTextbeforethefigure.\n\n![A box](../images/box.svg \"Captionofthebox\")\n\nTextafterthefigure.\n",
            ),
        ),
    ]);
    let out = tempfile::tempdir().expect("tempdir");
    let epub = build_epub(dir.path(), out.path());
    let Ok(o) = Command::new("mutool").arg("-v").output() else {
        common::missing_tool("mutool (apt-get install mupdf-tools)");
        return;
    };
    let _ = o;
    let x = tempfile::tempdir().expect("tempdir");
    for e in entries(&epub) {
        let p = x.path().join(&e.name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, e.bytes).expect("write");
    }
    let o = Command::new("mutool")
        .args(["draw", "-F", "txt", "-o", "-", "-w", "600", "-h", "800"])
        .arg(x.path().join("EPUB/text/m-intro.xhtml"))
        .output()
        .expect("run mutool");
    let text = String::from_utf8_lossy(&o.stdout);
    // A rule MuPDF can't parse costs it the rest of the stylesheet.
    let errors = String::from_utf8_lossy(&o.stderr);
    assert!(!errors.contains("css syntax error"), "MuPDF:\n{errors}");
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} not in MuPDF's text:\n{text}"))
    };
    assert!(at("Intro") < at("Textbeforethefigure"), "{text}");
    assert!(
        at("Textbeforethefigure") < at("Captionofthebox")
            && at("Captionofthebox") < at("Textafterthefigure"),
        "MuPDF moved the figure:\n{text}"
    );
}
