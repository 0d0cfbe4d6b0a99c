//! Opening a built EPUB and checking it against the model it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use quire::model::ModuleRef;

pub struct Entry {
    pub name: String,
    pub stored: bool,
    pub bytes: Vec<u8>,
}

pub fn entries(epub: &Path) -> Vec<Entry> {
    let file = std::fs::File::open(epub).expect("open epub");
    let mut zip = zip::ZipArchive::new(file).expect("epub is a zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("read entry");
            Entry {
                name: f.name().expect("entry name").to_string(),
                stored: f.compression() == zip::CompressionMethod::Stored,
                bytes,
            }
        })
        .collect()
}

fn parse(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts).expect("well-formed XML")
}

fn is_external(href: &str) -> bool {
    href.contains("://") || href.starts_with("mailto:")
}

/// Joins an href onto the folder of `base` (both inside the zip).
pub fn resolve(base: &str, href: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for c in href.split('/') {
        match c {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Runs every structural check of issue 4 against `book`; panics with a reason.
pub fn check_structure(epub: &Path, loaded: &quire::Loaded) {
    let book = &loaded.book;
    let entries = entries(epub);
    // mimetype first, stored, exact.
    assert_eq!(entries[0].name, "mimetype");
    assert!(entries[0].stored, "mimetype must be stored");
    assert_eq!(entries[0].bytes, b"application/epub+zip");

    let texts: BTreeMap<&str, String> = entries
        .iter()
        .filter(|e| {
            e.name.ends_with(".xhtml") || e.name.ends_with(".opf") || e.name.ends_with(".ncx")
        })
        .map(|e| {
            (
                e.name.as_str(),
                String::from_utf8(e.bytes.clone()).expect("utf-8"),
            )
        })
        .collect();
    let names: BTreeSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();

    // Ids of every document.
    let mut ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &texts {
        let doc = parse(text);
        let set = doc
            .descendants()
            .filter_map(|n| n.attribute("id"))
            .map(str::to_string)
            .collect();
        ids.insert(name, set);
    }

    // Every internal href and src resolves to a file and, with a fragment, to an id.
    let mut checked = 0;
    for (name, text) in &texts {
        if name.ends_with(".opf") || name.ends_with(".ncx") {
            continue;
        }
        let doc = parse(text);
        for n in doc.descendants() {
            for attr in ["href", "src"] {
                let Some(href) = n.attribute(attr) else {
                    continue;
                };
                if is_external(href) {
                    continue;
                }
                let (file, frag) = match href.split_once('#') {
                    Some((f, frag)) => (f, Some(frag)),
                    None => (href, None),
                };
                let target = if file.is_empty() {
                    name.to_string()
                } else {
                    resolve(name, file)
                };
                assert!(
                    names.contains(target.as_str()),
                    "{name}: {attr}={href} → missing {target}"
                );
                if let Some(frag) = frag {
                    let known = ids.get(target.as_str()).expect("target parsed");
                    assert!(
                        known.contains(frag),
                        "{name}: {attr}={href} → no id '{frag}' in {target}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > book.module_count(),
        "too few links checked: {checked}"
    );

    // One XHTML per module, in book order in the spine.
    let opf = &texts["EPUB/package.opf"];
    let doc = parse(opf);
    let hrefs: BTreeMap<&str, &str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .filter_map(|n| Some((n.attribute("id")?, n.attribute("href")?)))
        .collect();
    let spine: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("itemref"))
        .filter_map(|n| n.attribute("idref"))
        .map(|id| hrefs[id])
        .collect();
    let module_pages: Vec<&str> = spine
        .iter()
        .copied()
        .filter(|h| h.starts_with("text/m-"))
        .collect();
    let expected: Vec<String> = book
        .modules()
        .map(|(_, m)| format!("text/m-{}.xhtml", m.id))
        .collect();
    assert_eq!(module_pages, expected, "module pages in book order");
    let module_files = names
        .iter()
        .filter(|n| n.starts_with("EPUB/text/m-"))
        .count();
    assert_eq!(module_files, book.module_count(), "one XHTML per module");

    // Badges: on every module opening with a difficulty, matching it, and in the contents.
    for (_, m) in book.modules() {
        let page = &texts[format!("EPUB/text/m-{}.xhtml", m.id).as_str()];
        match m.difficulty {
            Some(d) => {
                let badge = format!("class=\"badge badge-{}\"", d.as_str());
                assert!(page.contains(&badge), "{}: no {badge}", m.id);
            }
            None => assert!(
                !page.contains("class=\"badge "),
                "{}: badge without difficulty",
                m.id
            ),
        }
    }
    let contents = &texts["EPUB/text/contents.xhtml"];
    assert_eq!(
        contents.matches("class=\"badge badge-").count(),
        book.modules()
            .filter(|(_, m)| m.difficulty.is_some())
            .count()
    );

    // Tag index (one file, or several split by letter): every tag links to
    // exactly the modules tagged with it.
    let index_files: Vec<roxmltree::Document<'_>> = texts
        .iter()
        .filter(|(name, _)| is_tag_index_file(name))
        .map(|(_, text)| parse(text))
        .collect();
    // A book without tags has no tag index at all.
    assert_eq!(
        index_files.is_empty(),
        loaded.index.tags.is_empty(),
        "tag index files"
    );
    for tag in loaded.index.tags.values() {
        let entry = index_files
            .iter()
            .flat_map(|d| d.descendants())
            .find(|n| n.attribute("id") == Some(tag.id.as_str()))
            .unwrap_or_else(|| panic!("no index entry for {}", tag.name));
        let linked: BTreeSet<String> = entry
            .descendants()
            .filter(|n| n.attribute("class") == Some("index-tagged"))
            .flat_map(|p| {
                p.descendants()
                    .filter_map(|a| a.attribute("href"))
                    .map(str::to_string)
            })
            .collect();
        let want: BTreeSet<String> = book
            .modules()
            .filter(|(_, m)| m.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag.name)))
            .map(|(_, m)| format!("m-{}.xhtml", m.id))
            .collect();
        assert_eq!(linked, want, "index entry for {}", tag.name);
    }

    // Footnotes linked both ways.
    for (r, m) in book.modules() {
        let _: ModuleRef = r;
        let page = &texts[format!("EPUB/text/m-{}.xhtml", m.id).as_str()];
        let doc = parse(page);
        for note in &m.footnotes {
            let aside = doc
                .descendants()
                .find(|n| n.attribute("id") == Some(format!("quire-fn-{}", note.number).as_str()))
                .unwrap_or_else(|| panic!("{}: footnote {} missing", m.id, note.number));
            assert_eq!(
                aside.attribute(("http://www.idpf.org/2007/ops", "type")),
                Some("footnote")
            );
            for k in 1..=note.refs {
                let id = format!("quire-fnref-{}-{k}", note.number);
                let r = doc
                    .descendants()
                    .find(|n| n.attribute("id") == Some(id.as_str()))
                    .unwrap_or_else(|| panic!("{}: reference {id} missing", m.id));
                assert_eq!(
                    r.attribute("href"),
                    Some(format!("#quire-fn-{}", note.number).as_str())
                );
                assert_eq!(
                    r.attribute(("http://www.idpf.org/2007/ops", "type")),
                    Some("noteref")
                );
                let back = format!("#{id}");
                assert!(
                    aside
                        .descendants()
                        .any(|a| a.attribute("href") == Some(back.as_str())),
                    "{}: footnote {} has no link back to {id}",
                    m.id,
                    note.number
                );
            }
        }
    }
}

/// `EPUB/text/tag-index.xhtml` and the files it is split into (`tag-index-2.xhtml`, …).
pub fn is_tag_index_file(name: &str) -> bool {
    name.strip_prefix("EPUB/text/tag-index")
        .and_then(|r| r.strip_suffix(".xhtml"))
        .is_some_and(|n| {
            n.is_empty()
                || n.strip_prefix('-')
                    .is_some_and(|d| d.parse::<u32>().is_ok())
        })
}

/// epubcheck's verdict, or None (with a message) when it isn't installed locally.
pub fn epubcheck(epub: &Path) -> Option<String> {
    let jar = Path::new("/usr/share/java/epubcheck.jar");
    if !jar.exists() {
        super::missing_tool("epubcheck (apt-get install epubcheck)");
        return None;
    }
    let out = std::process::Command::new("java")
        .args(["-jar", jar.to_str()?, epub.to_str()?])
        .output()
        .expect("run epubcheck");
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// No `<a>` inside another `<a>` (epubcheck errors on it; readers misbehave).
pub fn assert_no_nested_anchors(name: &str, xhtml: &str) {
    let doc = parse(xhtml);
    for a in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "a")
    {
        assert!(
            !a.ancestors()
                .skip(1)
                .any(|p| p.is_element() && p.tag_name().name() == "a"),
            "{name}: nested <a> (an anchor inside an anchor)"
        );
    }
}

/// The XHTML pages of an EPUB: (entry name, text).
pub fn xhtml_pages(epub: &Path) -> Vec<(String, String)> {
    entries(epub)
        .into_iter()
        .filter(|e| e.name.ends_with(".xhtml"))
        .map(|e| {
            let text = String::from_utf8(e.bytes).expect("XHTML is UTF-8");
            (e.name, text)
        })
        .collect()
}

/// Every `<a>` that has an `<a>` ancestor, in every XHTML page of the EPUB, as
/// `page: <a href=outer> holds <a href=inner>`. A valid EPUB has none.
pub fn nested_anchors(epub: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in xhtml_pages(epub) {
        let doc = parse(&text);
        let is_a = |n: &roxmltree::Node<'_, '_>| n.is_element() && n.tag_name().name() == "a";
        for a in doc.descendants().filter(is_a) {
            if let Some(outer) = a.ancestors().skip(1).find(is_a) {
                found.push(format!(
                    "{name}: <a href={:?}> holds <a href={:?}>",
                    outer.attribute("href").unwrap_or(""),
                    a.attribute("href").unwrap_or("")
                ));
            }
        }
    }
    found
}

/// Elements whose text is shown as written (code): markup-like text is expected there.
const VERBATIM: [&str; 5] = ["pre", "code", "samp", "math", "style"];

fn in_verbatim(n: roxmltree::Node<'_, '_>) -> bool {
    n.ancestors()
        .any(|p| p.is_element() && VERBATIM.contains(&p.tag_name().name()))
}

/// The text a reader sees outside code, one string per text node.
pub fn prose_texts(xhtml: &str) -> Vec<String> {
    let doc = parse(xhtml);
    doc.descendants()
        .filter(|n| n.is_text() && !in_verbatim(*n))
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

/// The text of code elements (`pre`, `code`, `samp`), where `<tag>` text is legitimate.
pub fn code_texts(xhtml: &str) -> Vec<String> {
    let doc = parse(xhtml);
    doc.descendants()
        .filter(|n| n.is_element() && ["pre", "code", "samp"].contains(&n.tag_name().name()))
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .filter_map(|t| t.text())
                .collect::<String>()
        })
        .collect()
}

/// Fragments of plain text that look like HTML markup: `<p …>`, `</a>`, `<br/>`,
/// `<!--` (what `</?[a-zA-Z][^>]*>` and comments match). Such text means a tag was
/// printed instead of rendered.
pub fn tag_fragments(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if text[i..].starts_with("<!--") {
            out.push("<!--".to_string());
            i += 4;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        if j < b.len() && b[j] == b'/' {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_alphabetic() {
            // `[^>]*>`: up to the next `>` (a `<` first means this one was not a tag).
            match text[j..].find(['>', '<']) {
                Some(k) if b[j + k] == b'>' => {
                    let end = j + k + 1;
                    let frag: String = text[start..end].chars().take(60).collect();
                    out.push(frag);
                    i = end;
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    out
}

/// Anything active in an XHTML page: script-like elements, event-handler attributes,
/// `javascript:` URLs. Raw HTML may bring them in; none may reach an output.
pub fn active_content(xhtml: &str) -> Vec<String> {
    const ACTIVE: [&str; 7] = [
        "script", "iframe", "object", "embed", "form", "frame", "frameset",
    ];
    let doc = parse(xhtml);
    let mut found = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let tag = n.tag_name().name();
        let in_body = n.ancestors().any(|a| a.tag_name().name() == "body");
        if ACTIVE.contains(&tag) || (tag == "style" && in_body) {
            found.push(format!("<{tag}>"));
        }
        for a in n.attributes() {
            let value = a.value().trim_start().to_ascii_lowercase();
            if a.name().to_ascii_lowercase().starts_with("on") {
                found.push(format!("<{tag} {}=…>", a.name()));
            }
            if value.starts_with("javascript:") || value.starts_with("vbscript:") {
                found.push(format!("<{tag} {}={:?}>", a.name(), a.value()));
            }
        }
    }
    found
}
