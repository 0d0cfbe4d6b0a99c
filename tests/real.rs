//! Real public books (issue 12): excerpts of two mdBook books, three README-style courses
//! and a docs site, each built to EPUB and PDF and held to what a reader needs: exit 0,
//! epubcheck 0 errors / 0 warnings, no markup printed as text (EPUB pages and `pdftotext`),
//! every image present, no link inside a link.
//!
//! The Rust book's excerpt is vendored in `tests/books/rust-book/` (Rust 1.63.0's, from
//! Debian's rustc source package, with its licences and SOURCE.md), so it always runs. The
//! other excerpts are other people's text that is not in this repository: they are data
//! in the steering repo's `shared/real-books/<book>/` (`book/` is the content folder,
//! `LICENSE*` and `SOURCE.md` say where each came from and what was changed, `served/` holds
//! the bytes of remote images). Tests find them beside the clone (`../shared/real-books`) or
//! where `QUIRE_REAL_BOOKS` points. Each book is copied to a temporary folder first, so
//! nothing is written next to the corpus.
//!
//! Every check of a book runs even when an earlier one failed; the test then fails with all
//! of them and a summary line (modules, warnings by kind, epubcheck, PDF pages), which
//! `--nocapture` also prints for passing books.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::epub::{code_texts, entries, epubcheck, nested_anchors, prose_texts, tag_fragments};

const IMAGE_EXTS: [&str; 6] = ["png", "jpg", "jpeg", "gif", "svg", "webp"];

/// Debian's fonts-droid-fallback: one TTF with Chinese and Japanese glyphs.
const CJK_FONT: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";

/// The corpus folder, or None (skipped locally, a failure in CI) when it is not there.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("QUIRE_REAL_BOOKS") {
        Some(d) => PathBuf::from(d),
        None => common::repo_root().join("../shared/real-books"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    // The corpus is other people's text, kept as data beside the repository
    // (never committed): a clone without it skips these books, in CI too,
    // and says so; the spec, HTML and fixture tests still run.
    eprintln!(
        "SKIPPED: the real-book corpus is not at {} (set QUIRE_REAL_BOOKS to run these books)",
        dir.display()
    );
    None
}

fn has_tool(name: &str) -> bool {
    Command::new(name)
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty())
        .unwrap_or(false)
}

/// Every file under `dir` whose extension is an image's, as paths relative to `dir`.
fn image_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| IMAGE_EXTS.contains(&x.to_ascii_lowercase().as_str()))
            {
                out.push(p.strip_prefix(dir).expect("prefix").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out
}

/// A small HTTP/1.0 file server on 127.0.0.1 for `served/`: the hosts of a book's remote
/// images are its first-level folders. Bounded: it stops after 200 requests, 300 s, or when
/// dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, r) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            while !s.load(Ordering::Relaxed)
                && Instant::now() < deadline
                && r.load(Ordering::Relaxed) < 200
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        r.fetch_add(1, Ordering::Relaxed);
                        serve(stream, &root);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server {
            port,
            stop,
            requests,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, root: &Path) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Headers are read and ignored.
    let mut h = String::new();
    while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
        h.clear();
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let file = root.join(rel);
    let mut out = stream;
    let ok = !rel.split('/').any(|c| c == ".." || c.is_empty()) && file.is_file();
    if !ok {
        let _ = out.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let bytes = std::fs::read(&file).unwrap_or_default();
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let ty = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    };
    let head = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: {ty}\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    );
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&bytes);
}

/// A warning's kind: its message with quoted parts (`…`, "…", '…') and numbers blanked.
fn warning_kind(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match quote {
            // A single quote closes only where a word ends (apostrophes stay inside).
            Some('\'') if c == '\'' && !next.is_some_and(char::is_alphanumeric) => quote = None,
            Some(q) if q != '\'' && c == q => quote = None,
            Some(_) => {}
            None if c == '`'
                || c == '"'
                || (c == '\'' && !prev.is_some_and(char::is_alphanumeric)) =>
            {
                quote = Some(c);
                out.push('…');
            }
            None if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            None => out.push(c),
        }
    }
    out.chars().take(70).collect()
}

/// `file:line:col: warning: message` lines of quire's stderr, grouped by kind.
fn warnings_by_kind(stderr: &str) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for line in stderr.lines() {
        if let Some((_, msg)) = line.split_once(": warning: ") {
            *kinds.entry(warning_kind(msg)).or_insert(0) += 1;
        }
    }
    kinds
}

/// Text that shows markup instead of rendering it: tags, comments, escaped entities.
fn markup_in(text: &str) -> Vec<String> {
    let mut found = tag_fragments(text);
    for ent in ["&lt;", "&gt;", "&amp;", "&quot;", "&#"] {
        if text.contains(ent) {
            found.push(ent.to_string());
        }
    }
    found
}

/// pdftotext's text with what the PDF puts inside a code line taken out: a
/// long line's wrap mark (`↪`) and a page break (the footer's number, the
/// form feed), so that a wrapped `Result<i32, ParseIntError>` still reads as
/// the code it is, not as a tag printed raw.
fn joined_pages(text: &str) -> String {
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let mut out = String::with_capacity(text.len());
    for (i, page) in pages.iter().enumerate() {
        let page = if i + 1 < pages.len() {
            page.trim_end()
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .trim_end()
        } else {
            page
        };
        out.push_str(page);
        out.push('\n');
    }
    out.replace('↪', "")
}

fn pdf_pages(pdf: &Path) -> Option<u32> {
    let out = Command::new("pdfinfo").arg(pdf).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

fn pdf_image_count(pdf: &Path) -> usize {
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(pdf)
        .output()
        .expect("run pdfimages");
    // Two header lines, then one line per image.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Han, kana, CJK punctuation and full-width forms: what the Chinese and Japanese books
/// are written in and the font given covers (Droid Sans Fallback has no Hangul).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xFF00..=0xFFEF)
}

/// Markup-like fragments of every Text and Code event of the book's Markdown files.
fn literal_fragments(content: &Path) -> BTreeSet<String> {
    use pulldown_cmark::{Event, Parser};
    let mut out = BTreeSet::new();
    for md in markdown_files(content) {
        let text = std::fs::read_to_string(&md).unwrap_or_default();
        // Consecutive Text events (an escape splits them) are one run of text.
        let mut run = String::new();
        for ev in Parser::new_ext(&text, quire::parse::markdown::options()) {
            match ev {
                Event::Text(t) => run.push_str(&t),
                Event::Code(t) => out.extend(markup_in(&t)),
                _ => {
                    out.extend(markup_in(&run));
                    run.clear();
                }
            }
        }
        out.extend(markup_in(&run));
    }
    out
}

/// Figure structure elements of the (tagged) PDF, or None without qpdf.
fn pdf_figure_count(pdf: &Path) -> Option<usize> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let qdf = tmp.path().join("qdf.pdf");
    let st = Command::new("qpdf")
        .args(["--qdf", "--object-streams=disable"])
        .arg(pdf)
        .arg(&qdf)
        .status()
        .ok()?;
    // Exit 3: warnings only.
    if !matches!(st.code(), Some(0) | Some(3)) {
        return None;
    }
    let bytes = std::fs::read(&qdf).ok()?;
    Some(bytes.windows(10).filter(|w| w == b"/S /Figure").count())
}

/// Whether the EPUB holds `bytes` as an image: the same bytes, or (resized on the way
/// in) a decodable image of the same aspect ratio under a name ending like `name`.
fn epub_holds(epub: &[common::epub::Entry], name: &str, bytes: &[u8]) -> bool {
    if epub.iter().any(|e| e.bytes == bytes) {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let named: Vec<&common::epub::Entry> = epub
        .iter()
        .filter(|e| {
            let n = e.name.to_ascii_lowercase();
            n.ends_with(&format!("/{lower}")) || n.ends_with(&format!("-{lower}"))
        })
        .collect();
    if !named.is_empty() {
        return true;
    }
    let Ok(want) = image::load_from_memory(bytes) else {
        return false;
    };
    let ratio = want.width() as f64 / want.height().max(1) as f64;
    epub.iter()
        .filter(|e| e.name.starts_with("EPUB/images/") && e.name != "EPUB/images/cover.png")
        .filter_map(|e| image::load_from_memory(&e.bytes).ok())
        .any(|got| {
            let r = got.width() as f64 / got.height().max(1) as f64;
            (r - ratio).abs() / ratio < 0.01 && got.width() <= want.width()
        })
}

struct Checks {
    name: String,
    failures: Vec<String>,
}

impl Checks {
    fn fail(&mut self, what: impl Into<String>) {
        self.failures.push(what.into());
    }
}

/// Builds the corpus book `name` (EPUB and PDF) and checks it; `remote` serves `served/`.
fn real_book(name: &str, remote: bool) {
    let Some(corpus) = corpus() else {
        return;
    };
    let src = corpus.join(name);
    assert!(
        src.join("book").is_dir(),
        "{}: no book/ folder",
        src.display()
    );
    assert!(src.join("SOURCE.md").is_file(), "{name}: SOURCE.md missing");
    assert!(
        std::fs::read_dir(&src)
            .expect("ls")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("LICENSE")),
        "{name}: no LICENSE file"
    );
    let served = remote.then(|| src.join("served"));
    check_book(name, &src.join("book"), served.as_deref());
}

/// Copies the content folder `book` to a temporary folder, builds it and runs every check.
/// With `served_dir`, its files are served on 127.0.0.1 and the book's URLs for their hosts
/// are pointed there, and the build fetches them.
fn check_book(name: &str, book: &Path, served_dir: Option<&Path>) {
    let remote = served_dir.is_some();
    let tmp = tempfile::tempdir().expect("tempdir");
    let content = tmp.path().join("content");
    let out = tmp.path().join("out");
    common::copy_dir(book, &content);
    // A CJK font in fonts/ next to the content, as the glyph warning tells a publisher to do.
    let cjk = Path::new(CJK_FONT);
    let have_cjk = cjk.is_file();
    if have_cjk {
        std::fs::create_dir_all(tmp.path().join("fonts")).expect("mkdir fonts");
        std::fs::copy(cjk, tmp.path().join("fonts/DroidSansFallbackFull.ttf")).expect("copy font");
    } else {
        common::missing_tool("a CJK font (apt-get install fonts-droid-fallback)");
    }
    let source_images = image_files(&content);

    let served_dir = served_dir.map(Path::to_path_buf).unwrap_or_default();
    let served = if remote {
        image_files(&served_dir)
    } else {
        Vec::new()
    };
    let server = remote.then(|| Server::start(served_dir.clone()));
    let mut urls = Vec::new();
    if let Some(server) = &server {
        // The book's own URLs point at the image hosts; the copy points at 127.0.0.1.
        let hosts: BTreeSet<String> = served
            .iter()
            .filter_map(|p| p.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        for md in markdown_files(&content) {
            let mut text = std::fs::read_to_string(&md).expect("read");
            for host in &hosts {
                let local = format!("http://127.0.0.1:{}/{host}/", server.port);
                for scheme in ["http", "https"] {
                    text = text.replace(&format!("{scheme}://{host}/"), &local);
                }
            }
            std::fs::write(&md, text).expect("write");
        }
        for p in &served {
            urls.push(format!(
                "http://127.0.0.1:{}/{}",
                server.port,
                p.to_string_lossy().replace('\\', "/")
            ));
        }
    }

    let mut args = vec![
        "--content".to_string(),
        content.to_string_lossy().into_owned(),
        "--out".to_string(),
        out.to_string_lossy().into_owned(),
        "build".to_string(),
    ];
    if remote {
        args.push("--fetch-images".to_string());
    }
    let started = Instant::now();
    let o = common::quire(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let mut c = Checks {
        name: name.to_string(),
        failures: Vec::new(),
    };
    let kinds = warnings_by_kind(&stderr);
    let code = o.status.code();
    if code != Some(0) {
        let head: String = stderr.lines().take(40).collect::<Vec<_>>().join("\n");
        c.fail(format!("build exit {code:?} (want 0):\n{head}"));
        report(&c, &kinds, None, None, None, secs, server.as_ref());
        return;
    }

    // With the CJK font given, no Chinese or Japanese character prints as an empty
    // box. (Other scripts a book only quotes, such as a list of translations, or emoji, are
    // warned about with file:line:col; the summary lists those warnings.)
    if have_cjk {
        for l in stderr.lines().filter(|l| l.contains("have no glyph")) {
            let sample = l.split("(e.g. '").nth(1).unwrap_or("");
            let sample = sample.split("', U+").next().unwrap_or("");
            if sample.chars().any(is_cjk) {
                c.fail(format!("CJK glyphs missing with a CJK font given: {l}"));
            }
        }
    }

    // EPUB.
    let epub_path = std::fs::read_dir(&out)
        .expect("ls out")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".epub"))
        .min_by_key(|p| p.to_string_lossy().len());
    let Some(epub_path) = epub_path else {
        c.fail("no EPUB written");
        report(&c, &kinds, None, None, None, secs, server.as_ref());
        return;
    };
    let verdict = epubcheck(&epub_path).map(|r| {
        let line = r
            .lines()
            .find(|l| l.starts_with("Messages:"))
            .unwrap_or("no Messages line")
            .to_string();
        if !r.contains("Messages: 0 fatals / 0 errors / 0 warnings") {
            let msgs: Vec<&str> = r
                .lines()
                .filter(|l| {
                    l.starts_with("ERROR") || l.starts_with("WARNING") || l.starts_with("FATAL")
                })
                .take(15)
                .collect();
            c.fail(format!("epubcheck: {line}\n{}", msgs.join("\n")));
        }
        line
    });
    let zip = entries(&epub_path);
    let names: BTreeSet<&str> = zip.iter().map(|e| e.name.as_str()).collect();
    let opf = zip
        .iter()
        .find(|e| e.name.ends_with(".opf"))
        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        .unwrap_or_default();
    let modules = zip
        .iter()
        .filter(|e| e.name.starts_with("EPUB/text/m-"))
        .count();
    // Markup-like text the author wrote as text (code spans, `\<`, `&lt;`, a `<` that is
    // not a tag): pulldown-cmark gives it as Text or Code, never as Html. Only raw HTML
    // shown as text is a failure (a title `Using `Box<T>`` keeps its `<T>` in the contents).
    let literal = literal_fragments(&content);
    let mut code_text = String::new();
    let mut img_count = 0;
    let mut module_imgs = 0;
    for e in zip.iter().filter(|e| e.name.ends_with(".xhtml")) {
        let page = String::from_utf8_lossy(&e.bytes).into_owned();
        for t in prose_texts(&page) {
            for f in markup_in(&t).into_iter().filter(|f| !literal.contains(f)) {
                c.fail(format!(
                    "{}: markup shown as text: {f:?} in {:?}",
                    e.name,
                    clip(&t)
                ));
            }
        }
        for t in code_texts(&page) {
            code_text.push_str(&t);
            code_text.push('\n');
        }
        // Every image the page shows is in the zip and in the manifest; none is remote.
        let doc = roxmltree::Document::parse_with_options(
            &page,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .expect("XHTML parses");
        for n in doc.descendants().filter(|n| n.has_tag_name("img")) {
            img_count += 1;
            // A turned copy of a wide figure (for narrow screens) is the same figure.
            let turned = n
                .attribute("class")
                .is_some_and(|c| c.split_whitespace().any(|c| c == "figure-turned"));
            if e.name.starts_with("EPUB/text/m-") && !turned {
                module_imgs += 1;
            }
            let srcv = n.attribute("src").unwrap_or("");
            if srcv.contains("://") {
                c.fail(format!("{}: remote <img src={srcv:?}>", e.name));
                continue;
            }
            let target =
                common::epub::resolve(&e.name, srcv.split(['#', '?']).next().unwrap_or(""));
            if !names.contains(target.as_str()) {
                c.fail(format!("{}: <img src={srcv:?}> is not in the EPUB", e.name));
            }
            let rel = target.strip_prefix("EPUB/").unwrap_or(&target);
            if !opf.contains(&format!("href=\"{rel}\"")) {
                c.fail(format!("{}: {rel} is not in the OPF manifest", e.name));
            }
        }
    }
    for n in nested_anchors(&epub_path) {
        c.fail(format!("nested anchor: {n}"));
    }
    // Every image of the source and every served remote image made it into the EPUB.
    for rel in &source_images {
        let bytes = std::fs::read(content.join(rel)).expect("image");
        let file = rel.file_name().expect("name").to_string_lossy();
        if !epub_holds(&zip, &file, &bytes) {
            c.fail(format!("source image {} is not in the EPUB", rel.display()));
        }
    }
    for rel in &served {
        let bytes = std::fs::read(served_dir.join(rel)).expect("image");
        let file = rel.file_name().expect("name").to_string_lossy();
        if !epub_holds(&zip, &file, &bytes) {
            c.fail(format!("remote image {} is not in the EPUB", rel.display()));
        }
    }
    if remote {
        // Fetched once and locked next to book.toml (issue 12: url → sha256, size, type).
        match std::fs::read_to_string(content.join("quire.lock")) {
            Ok(lock) => {
                for u in &urls {
                    if !lock.contains(u.as_str()) {
                        c.fail(format!("quire.lock does not record {u}"));
                    }
                }
            }
            Err(_) => c.fail("no quire.lock next to book.toml after --fetch-images"),
        }
    }
    let has_images = !source_images.is_empty() || !served.is_empty();
    if has_images && img_count == 0 {
        c.fail("the book has images but no page shows one");
    }

    // PDF: the book PDF (the part PDFs are the same pages).
    let pdf = std::fs::read_dir(&out)
        .expect("ls out")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pdf"));
    let mut pages = None;
    match pdf {
        None => c.fail("no book PDF written"),
        Some(pdf) if has_tool("pdftotext") => {
            pages = pdf_pages(&pdf);
            let text = Command::new("pdftotext")
                .args(["-enc", "UTF-8"])
                .arg(&pdf)
                .arg("-")
                .output()
                .expect("pdftotext");
            let text = joined_pages(&String::from_utf8_lossy(&text.stdout));
            // Code may show tags; anything else that looks like markup was printed raw.
            let flat_code: String = code_text.split_whitespace().collect();
            for f in markup_in(&text) {
                let flat: String = f.split_whitespace().collect();
                if !flat_code.contains(&flat) && !literal.contains(&f) {
                    c.fail(format!("PDF text shows markup: {f:?}"));
                }
            }
            if has_images {
                // Raster images are listed by pdfimages; SVGs are drawn as vectors, so count
                // the tagged PDF's Figure elements too: one per image a module shows.
                let raster = pdf_image_count(&pdf);
                let figures = pdf_figure_count(&pdf);
                if raster == 0 && figures.unwrap_or(0) == 0 {
                    c.fail(
                        "the book has images but the PDF has none (pdfimages -list, /Figure tags)",
                    );
                }
                if let Some(f) = figures
                    && f < module_imgs
                {
                    c.fail(format!(
                        "the EPUB's modules show {module_imgs} images, the PDF tags {f} figures"
                    ));
                }
            }
        }
        Some(_) => common::missing_tool("pdftotext and pdfimages (apt-get install poppler-utils)"),
    }
    report(
        &c,
        &kinds,
        Some(modules),
        verdict,
        pages,
        secs,
        server.as_ref(),
    );
}

fn clip(t: &str) -> String {
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    t.chars().take(80).collect()
}

fn report(
    c: &Checks,
    kinds: &BTreeMap<String, usize>,
    modules: Option<usize>,
    epubcheck: Option<String>,
    pages: Option<u32>,
    secs: f64,
    server: Option<&Server>,
) {
    let total: usize = kinds.values().sum();
    let mut s = format!(
        "REAL BOOK {}: modules {}, build {secs:.1} s, warnings {total}, epubcheck {}, PDF pages {}",
        c.name,
        modules.map_or("?".into(), |m| m.to_string()),
        epubcheck.as_deref().unwrap_or("not run"),
        pages.map_or("?".into(), |p| p.to_string()),
    );
    if let Some(server) = server {
        s.push_str(&format!(
            ", image requests {}",
            server.requests.load(Ordering::Relaxed)
        ));
    }
    for (k, n) in kinds {
        s.push_str(&format!("\n  {n:>4} × {k}"));
    }
    eprintln!("{s}");
    if !c.failures.is_empty() {
        let mut list: Vec<&String> = c.failures.iter().collect();
        let more = list.len().saturating_sub(40);
        list.truncate(40);
        panic!(
            "{}: {} check(s) failed:\n- {}{}\n{s}",
            c.name,
            c.failures.len(),
            list.iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join("\n- "),
            if more > 0 {
                format!("\n… and {more} more")
            } else {
                String::new()
            }
        );
    }
}

/// The Rust Programming Language, mdBook layout: SUMMARY.md, `{{#include}}` listings,
/// `.html` links between chapters, `<img>` and `<span class="caption">`. The excerpt
/// vendored in `tests/books/rust-book` (Rust 1.63.0's, from Debian's source package; no
/// `<Listing>` yet), so this one runs without the corpus; `tests/mdbook_real.rs` builds it
/// with mdBook too.
#[test]
fn rust_book_mdbook() {
    check_book(
        "rust-book",
        &common::repo_root().join("tests/books/rust-book"),
        None,
    );
}

/// Its Simplified Chinese translation, mdBook layout: CJK text and heading ids, chapters
/// opening with `##`, a SUMMARY part header, `<sup>` and `<span class="filename">`.
#[test]
fn trpl_zh_cn_mdbook_chinese() {
    real_book("trpl-zh-cn", false);
}

/// The System Design Primer's 2020 README: `<p align="center"><img src="http://i.imgur.com/…">`
/// figures, fetched from the test's server on 127.0.0.1 with `--fetch-images`.
#[test]
fn system_design_primer_remote_images() {
    real_book("system-design-primer-remote", true);
}

/// The System Design Primer in Japanese: HTML figures with local images and linked captions,
/// links to a module's own title heading.
#[test]
fn system_design_primer_japanese_html_figures() {
    real_book("system-design-primer-ja", false);
}

/// Coding Interview University: `<details><summary>`, nested task lists, remote images
/// that are not served (offline build: captioned links).
#[test]
fn coding_interview_university_readme_course() {
    real_book("coding-interview-university", false);
}

/// Windows Terminal docs: `> [!NOTE]` alerts, GFM tables with `<br>` in cells, `<kbd>`,
/// a GIF, the docs site's own front matter.
#[test]
fn windows_terminal_docs_site() {
    real_book("windows-terminal-docs", false);
}

/// Any other books, for trying whole real repositories with the same checks:
/// `QUIRE_TRY_BOOKS=/path/to/content:/other/content cargo test --test real -- --ignored`.
/// Each is a content folder (native or mdBook); `NAME=DIR` names one.
#[test]
#[ignore = "set QUIRE_TRY_BOOKS to content folders to try"]
fn try_books_from_env() {
    let list = std::env::var("QUIRE_TRY_BOOKS").unwrap_or_default();
    let mut failed = Vec::new();
    for item in list.split(':').filter(|s| !s.is_empty()) {
        let (name, dir) = item.split_once('=').unwrap_or((
            Path::new(item)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(item),
            item,
        ));
        let name = name.to_string();
        let dir = PathBuf::from(dir);
        if std::panic::catch_unwind(|| check_book(&name, &dir, None)).is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed: {failed:?}");
}

#[test]
fn pdf_text_joins_wrapped_code_and_page_breaks() {
    let t = joined_pages("let r: Result<i32,\n↪ ParseIntError>\n\n188\n\n\u{c}\"C\" fn\n");
    assert_eq!(t, "let r: Result<i32,\n ParseIntError>\n\"C\" fn\n\n");
}

#[test]
fn warning_kinds_blank_quotes_and_numbers() {
    assert_eq!(
        warning_kind("raw HTML `<center>` dropped at 12 places"),
        "raw HTML … dropped at # places"
    );
    assert_eq!(
        warning_kind("image 'images/a1.png' has no alt text: describe it in alt=\"…\""),
        "image … has no alt text: describe it in alt=…"
    );
    assert_eq!(warning_kind("the module's title"), "the module's title");
    assert_eq!(
        tag_fragments("a <p align=\"c\"> b </a> c <!-- x --> 1 < 2 > 0 <3"),
        vec!["<p align=\"c\">", "</a>", "<!--"]
    );
}

/// The page check sees markup printed as text, and not markup shown as code.
#[test]
fn markup_printed_as_text_is_found_outside_code_only() {
    let page = r#"<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body>
<p>&lt;img src="x.png" width="200"&gt; and &amp;lt;br&amp;gt;</p>
<pre><code>&lt;details&gt;</code></pre><p><code>&lt;kbd&gt;</code></p>
</body></html>"#;
    let found: Vec<String> = prose_texts(page)
        .iter()
        .flat_map(|t| markup_in(t))
        .collect();
    assert_eq!(
        found,
        vec!["<img src=\"x.png\" width=\"200\">", "&lt;", "&gt;"]
    );
    assert_eq!(code_texts(page), vec!["<details>", "<details>", "<kbd>"]);
}
