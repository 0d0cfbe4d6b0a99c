//! Reading a built PDF: its words with their boxes (`pdftotext -bbox`) and
//! its internal links with where they land (`qpdf --json`).

use std::path::Path;

/// A word of a PDF page from `pdftotext -bbox`: its box from the page's top
/// left (pt) and its text.
#[derive(Debug, Clone)]
pub struct Word {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub text: String,
}

/// The words of every page of a PDF, in order.
pub fn pdf_words(pdf: &Path) -> Vec<Vec<Word>> {
    let out = std::process::Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext -bbox");
    assert!(out.status.success(), "pdftotext -bbox {}", pdf.display());
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        let end = start + tag[start..].find('"').expect("closing quote");
        tag[start..end].parse().expect("a number")
    };
    html.split("<page ")
        .skip(1)
        .map(|page| {
            page.split("<word ")
                .skip(1)
                .map(|w| {
                    let (tag, rest) = w.split_once('>').expect("word tag");
                    let text = rest.split("</word>").next().unwrap_or_default();
                    Word {
                        left: attr(tag, "xMin"),
                        top: attr(tag, "yMin"),
                        right: attr(tag, "xMax"),
                        bottom: attr(tag, "yMax"),
                        text: text
                            .replace("&lt;", "<")
                            .replace("&gt;", ">")
                            .replace("&quot;", "\"")
                            .replace("&#39;", "'")
                            .replace("&amp;", "&"),
                    }
                })
                .collect()
        })
        .collect()
}

/// An internal link of a PDF: the page it is on and the words it covers;
/// the page it goes to and the height there (pt from the page's top).
#[derive(Debug)]
pub struct PdfLink {
    pub page: usize,
    pub text: String,
    pub to_page: usize,
    pub to_top: f64,
}

/// Every object of a PDF (`obj:N 0 R` and `trailer`), from `qpdf --json`.
pub fn qpdf_objects(pdf: &Path) -> serde_json::Map<String, serde_json::Value> {
    let out = std::process::Command::new("qpdf")
        .args(["--json=2", "--json-key=qpdf"])
        .arg(pdf)
        .output()
        .expect("qpdf");
    assert!(out.status.success(), "qpdf --json {}", pdf.display());
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("qpdf json");
    match json["qpdf"][1].take() {
        serde_json::Value::Object(objects) => objects,
        other => panic!("qpdf --json {}: no objects in {other}", pdf.display()),
    }
}

/// The internal links of a PDF, read with `qpdf --json`; panics on one
/// whose destination is not a page of the file.
pub fn pdf_links(pdf: &Path, words: &[Vec<Word>]) -> Vec<PdfLink> {
    let objects = &qpdf_objects(pdf);
    // "12 0 R" → that object's value; anything else as it is.
    let value = |v: &serde_json::Value| -> serde_json::Value {
        match v.as_str().filter(|r| r.ends_with(" R")) {
            Some(r) => objects
                .get(&format!("obj:{r}"))
                .map(|o| o["value"].clone())
                .unwrap_or_default(),
            None => v.clone(),
        }
    };
    // The pages in order (the page tree from the catalog): reference, height.
    let root = value(&objects["trailer"]["value"]["/Root"]);
    let mut pages: Vec<(String, f64)> = Vec::new();
    let mut stack = vec![root["/Pages"].clone()];
    while let Some(node_ref) = stack.pop() {
        let node = value(&node_ref);
        if node["/Type"] == "/Pages" {
            let kids = node["/Kids"].as_array().expect("kids");
            stack.extend(kids.iter().rev().cloned());
        } else {
            let height = node["/MediaBox"][3].as_f64().expect("page height");
            pages.push((node_ref.as_str().unwrap_or_default().to_string(), height));
        }
    }
    // Named destinations (a link within one of the book's documents): name → array.
    let mut named: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
    let mut stack = vec![value(&root["/Names"])["/Dests"].clone()];
    while let Some(node) = stack.pop() {
        let node = value(&node);
        if let Some(pairs) = node["/Names"].as_array() {
            for pair in pairs.chunks(2) {
                if let [n, d] = pair {
                    named.insert(n.as_str().unwrap_or_default().to_string(), value(d));
                }
            }
        }
        stack.extend(node["/Kids"].as_array().into_iter().flatten().cloned());
    }
    let mut links = Vec::new();
    for (i, (page_ref, height)) in pages.iter().enumerate() {
        let page = value(&serde_json::Value::String(page_ref.clone()));
        let annots = value(&page["/Annots"]);
        for a in annots.as_array().into_iter().flatten() {
            let a = value(a);
            if a["/Subtype"] != "/Link" || !a["/A"]["/URI"].is_null() {
                continue;
            }
            let dest = if a["/Dest"].is_null() {
                value(&value(&a["/A"])["/D"])
            } else {
                value(&a["/Dest"])
            };
            let dest = match dest.as_str() {
                Some(name) => named.get(name).cloned().unwrap_or_default(),
                None => dest,
            };
            let target = dest[0].as_str().unwrap_or_default();
            let to_page = pages
                .iter()
                .position(|(r, _)| r == target)
                .unwrap_or_else(|| panic!("link {a} on page {} goes nowhere", i + 1));
            let to_top = pages[to_page].1 - dest[3].as_f64().unwrap_or(pages[to_page].1);
            let rect: Vec<f64> = a["/Rect"]
                .as_array()
                .expect("rect")
                .iter()
                .filter_map(serde_json::Value::as_f64)
                .collect();
            let (left, right) = (rect[0].min(rect[2]), rect[0].max(rect[2]));
            let (top, bottom) = (height - rect[1].max(rect[3]), height - rect[1].min(rect[3]));
            let text: Vec<&str> = words[i]
                .iter()
                .filter(|w| {
                    let (x, y) = ((w.left + w.right) / 2.0, (w.top + w.bottom) / 2.0);
                    x >= left && x <= right && y >= top && y <= bottom
                })
                .map(|w| w.text.as_str())
                .collect();
            links.push(PdfLink {
                page: i,
                text: text.join(" "),
                to_page,
                to_top,
            });
        }
    }
    links
}
