//! Remote images end to end, against a small HTTP server on 127.0.0.1 that
//! this test runs itself: fetched once into `.quire/images/`, locked in
//! `quire.lock`, rebuilt offline byte for byte; slow, missing, huge, wrong
//! type and redirect-looping URLs are warnings and stay links; bytes that
//! change on the server are an error until `--update-images`.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long the fetcher may take per image in these tests (the slow URL
/// answers after `SLOW`).
const TIMEOUT_MS: &str = "3000";
const SLOW: Duration = Duration::from_secs(8);
/// How long a `Delayed` reply waits: well inside the timeout.
const DELAY: Duration = Duration::from_millis(500);
/// The server stops by itself after this long whatever happens.
const SERVER_LIFETIME: Duration = Duration::from_secs(180);

#[derive(Clone)]
enum Reply {
    Ok(&'static str, Vec<u8>),
    /// `Ok` after `DELAY`: downloads that overlap if they run side by side.
    Delayed(&'static str, Vec<u8>),
    /// A body of this many bytes with no Content-Length (read until close).
    Endless(usize),
    Status(u16),
    Redirect(&'static str),
    Slow,
}

#[derive(Default)]
struct State {
    routes: BTreeMap<String, Reply>,
    hits: BTreeMap<String, usize>,
    /// `Delayed` replies being served now, and the most at once.
    delayed_now: usize,
    delayed_max: usize,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    fn start(routes: Vec<(&str, Reply)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let state = Arc::new(Mutex::new(State {
            routes: routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            let started = Instant::now();
            while !sp.load(Ordering::SeqCst) && started.elapsed() < SERVER_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let st = st.clone();
                        std::thread::spawn(move || serve(stream, &st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: the port refuses connections.
        });
        Server {
            port,
            state,
            stop,
            accept: Some(accept),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn set(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .expect("state")
            .routes
            .insert(path.to_string(), reply);
    }

    fn hits(&self) -> usize {
        self.state.lock().expect("state").hits.values().sum()
    }

    fn hits_of(&self, path: &str) -> usize {
        self.state
            .lock()
            .expect("state")
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            h.join().expect("server thread");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = {
        let mut s = state.lock().expect("state");
        *s.hits.entry(path.clone()).or_default() += 1;
        s.routes.get(&path).cloned()
    };
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\n{extra}Connection: close\r\n\r\n").into_bytes()
    };
    let _ = match reply {
        None | Some(Reply::Status(404)) => {
            stream.write_all(&head("404 Not Found", "Content-Length: 0\r\n"))
        }
        Some(Reply::Status(code)) => {
            stream.write_all(&head(&format!("{code} Error"), "Content-Length: 0\r\n"))
        }
        Some(Reply::Delayed(ty, body)) => {
            {
                let mut s = state.lock().expect("state");
                s.delayed_now += 1;
                s.delayed_max = s.delayed_max.max(s.delayed_now);
            }
            std::thread::sleep(DELAY);
            let mut r = head(
                "200 OK",
                &format!("Content-Type: {ty}\r\nContent-Length: {}\r\n", body.len()),
            );
            r.extend_from_slice(&body);
            let sent = stream.write_all(&r);
            state.lock().expect("state").delayed_now -= 1;
            sent
        }
        Some(Reply::Ok(ty, body)) => {
            let mut r = head(
                "200 OK",
                &format!("Content-Type: {ty}\r\nContent-Length: {}\r\n", body.len()),
            );
            r.extend_from_slice(&body);
            stream.write_all(&r)
        }
        Some(Reply::Redirect(to)) => stream.write_all(&head(
            "302 Found",
            &format!("Location: {to}\r\nContent-Length: 0\r\n"),
        )),
        Some(Reply::Slow) => {
            std::thread::sleep(SLOW);
            let body = png(4, 4, [0, 0, 0]);
            let mut r = head(
                "200 OK",
                &format!(
                    "Content-Type: image/png\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            r.extend_from_slice(&body);
            stream.write_all(&r)
        }
        Some(Reply::Endless(n)) => (|| {
            stream.write_all(&head("200 OK", "Content-Type: image/png\r\n"))?;
            // A PNG signature, then far more than the limit.
            stream.write_all(b"\x89PNG\r\n\x1a\n")?;
            let chunk = vec![0u8; 64 * 1024];
            let mut sent = 0;
            while sent < n {
                stream.write_all(&chunk)?;
                sent += chunk.len();
            }
            Ok(())
        })(),
    };
}

fn encode(img: image::DynamicImage, fmt: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).expect("encode");
    out.into_inner()
}

fn picture(w: u32, h: u32, rgb: [u8; 3]) -> image::DynamicImage {
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([
            rgb[0].wrapping_add(x as u8),
            rgb[1].wrapping_add(y as u8),
            rgb[2],
            255,
        ])
    }))
}

fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    encode(picture(w, h, rgb), image::ImageFormat::Png)
}

/// The remote image of tests/fixtures/mini, served here as `/logo.png`.
const FIXTURE_URL: &str = "https://example.com/logo.png";

const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60"><rect x="5" y="5" width="110" height="50" fill="none" stroke="black"/></svg>"#;

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs quire with a short fetch timeout.
fn quire(content: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(content)
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("QUIRE_FETCH_TIMEOUT_MS", TIMEOUT_MS)
        // Requests go straight to the test's server on 127.0.0.1.
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .expect("run quire")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    let e = stderr(o);
    assert!(o.status.success(), "quire failed:\n{e}");
    e
}

/// A copy of the mini fixture with a module whose images are `images`
/// (one figure per line); returns the temp dir, the content folder and the
/// module's path with each image's line. The fixture's own remote image is
/// moved to `server` (tests never leave 127.0.0.1).
fn book(
    server: &Server,
    images: &[(&str, String)],
) -> (tempfile::TempDir, PathBuf, PathBuf, Vec<u32>) {
    let dir = common::fixture_copy("mini");
    let content = dir.path().join("content");
    let caching = content.join("01-basics/01-caching.md");
    let text = std::fs::read_to_string(&caching).expect("fixture module");
    assert!(
        text.contains(FIXTURE_URL),
        "the fixture's remote image moved"
    );
    std::fs::write(
        &caching,
        text.replace(FIXTURE_URL, &server.url("/logo.png")),
    )
    .expect("write");
    let mut text = String::from(
        "---\ntitle: \"Remote\"\nsummary: \"Remote images.\"\ndifficulty: beginner\nminutes: 5\ntags: [Redis]\n---\n\nRemote images.\n",
    );
    let mut lines = Vec::new();
    for (alt, url) in images {
        text.push('\n');
        lines.push(text.lines().count() as u32 + 1);
        if alt.is_empty() {
            // Raw HTML, as written.
            text.push_str(&format!("{url}\n"));
        } else {
            text.push_str(&format!("![{alt}]({url})\n"));
        }
    }
    let module = content.join("01-basics/03-remote.md");
    std::fs::write(&module, text).expect("write module");
    (dir, content, module, lines)
}

fn epub_sha(out: &Path) -> String {
    sha(&std::fs::read(out.join("mini-book.epub")).expect("epub written"))
}

fn assert_epubcheck_clean(epub: &Path) {
    if let Some(report) = common::epub::epubcheck(epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

#[test]
fn fetched_once_locked_and_rebuilt_offline() {
    let good = png(40, 30, [10, 20, 30]);
    let gif = encode(picture(24, 12, [200, 0, 0]), image::ImageFormat::Gif);
    let webp = encode(picture(16, 16, [0, 200, 0]), image::ImageFormat::WebP);
    let mut server = Server::start(vec![
        ("/good.png", Reply::Delayed("image/png", good.clone())),
        ("/logo.png", Reply::Ok("image/png", good.clone())),
        ("/anim.gif", Reply::Delayed("image/gif", gif.clone())),
        // A wrong Content-Type: the bytes decide.
        (
            "/photo.webp",
            Reply::Ok("application/octet-stream", webp.clone()),
        ),
        (
            "/diagram.svg",
            Reply::Ok("image/svg+xml", SVG.as_bytes().to_vec()),
        ),
        ("/moved.png", Reply::Redirect("/good.png")),
        ("/slow.png", Reply::Slow),
        ("/missing.png", Reply::Status(404)),
        ("/huge.png", Reply::Endless(26 * 1024 * 1024)),
        (
            "/page.png",
            Reply::Ok(
                "image/png",
                b"<!DOCTYPE html><html><body>Not here</body></html>".to_vec(),
            ),
        ),
        ("/loop-a", Reply::Redirect("/loop-b")),
        ("/loop-b", Reply::Redirect("/loop-a")),
    ]);
    let urls = [
        ("Good", "/good.png"),
        ("Animated", "/anim.gif"),
        ("Photo", "/photo.webp"),
        ("Diagram", "/diagram.svg"),
        ("Moved", "/moved.png"),
        ("Slow", "/slow.png"),
        ("Missing", "/missing.png"),
        ("Huge", "/huge.png"),
        ("Page", "/page.png"),
        ("Loop", "/loop-a"),
    ];
    let images: Vec<(&str, String)> = urls.iter().map(|(a, p)| (*a, server.url(p))).collect();
    let (dir, content, module, lines) = book(&server, &images);
    let line_of = |path: &str| lines[urls.iter().position(|(_, p)| *p == path).expect("url")];

    // Offline by default: nothing is fetched, nothing is written.
    let out0 = dir.path().join("out0");
    ok(&quire(&content, &out0, &["build", "--epub"]));
    assert_eq!(
        server.hits(),
        0,
        "a build without fetching touched the network"
    );
    assert!(!content.join("quire.lock").exists());
    assert!(!content.join(".quire").exists());

    let out1 = dir.path().join("out1");
    let first = quire(&content, &out1, &["build", "--epub", "--fetch-images"]);
    let err = ok(&first);
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        said.contains(
            "remote images: 6 fetched, 0 from the cache, 5 shown as links; quire.lock updated"
        ),
        "{said}"
    );
    // Downloads run side by side (the delayed ones overlapped on the server).
    let overlapped = server.state.lock().expect("state").delayed_max;
    assert!(overlapped >= 2, "downloads ran one after another");
    let file = module.display().to_string();
    for (path, why) in [
        ("/slow.png", "no answer within 3.0 s"),
        ("/missing.png", "HTTP 404"),
        ("/huge.png", "larger than the 25 MB limit"),
        ("/page.png", "HTML page, not an image"),
        ("/loop-a", "more than 5 redirects"),
    ] {
        let expected = format!(
            "{file}:{}:1: warning: image '{}' not fetched (",
            line_of(path),
            server.url(path)
        );
        let line = err
            .lines()
            .find(|l| l.starts_with(&expected))
            .unwrap_or_else(|| panic!("no warning '{expected}…' in:\n{err}"));
        assert!(line.contains(why), "{line}");
        assert!(line.ends_with("shown as a link"), "{line}");
    }
    assert_eq!(err.matches(": warning: image '").count(), 5, "{err}");

    // The lock: one entry per fetched URL, sorted, with sha256, size and type.
    let lock = std::fs::read_to_string(content.join("quire.lock")).expect("quire.lock written");
    let parsed: toml::Value = toml::from_str(&lock).expect("lock is TOML");
    let entries = parsed["image"].as_array().expect("[[image]]");
    let got: Vec<(String, String, i64, String)> = entries
        .iter()
        .map(|e| {
            (
                e["url"].as_str().expect("url").to_string(),
                e["sha256"].as_str().expect("sha").to_string(),
                e["size"].as_integer().expect("size"),
                e["type"].as_str().expect("type").to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (
            server.url("/anim.gif"),
            sha(&gif),
            gif.len() as i64,
            "image/gif".to_string(),
        ),
        (
            server.url("/diagram.svg"),
            sha(SVG.as_bytes()),
            SVG.len() as i64,
            "image/svg+xml".into(),
        ),
        (
            server.url("/good.png"),
            sha(&good),
            good.len() as i64,
            "image/png".into(),
        ),
        (
            server.url("/logo.png"),
            sha(&good),
            good.len() as i64,
            "image/png".into(),
        ),
        (
            server.url("/moved.png"),
            sha(&good),
            good.len() as i64,
            "image/png".into(),
        ),
        (
            server.url("/photo.webp"),
            sha(&webp),
            webp.len() as i64,
            "image/webp".into(),
        ),
    ];
    want.sort();
    assert_eq!(got, want, "{lock}");
    // Content-addressed cache: the redirected URL shares the PNG's file.
    let mut cached: Vec<String> = std::fs::read_dir(content.join(".quire/images"))
        .expect("cache folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    cached.sort();
    let mut want_files = vec![
        format!("{}.png", sha(&good)),
        format!("{}.gif", sha(&gif)),
        format!("{}.webp", sha(&webp)),
        format!("{}.svg", sha(SVG.as_bytes())),
    ];
    want_files.sort();
    assert_eq!(cached, want_files);

    // The EPUB embeds them (WebP as PNG) and passes epubcheck.
    let epub = out1.join("mini-book.epub");
    let entries = common::epub::entries(&epub);
    let has = |bytes: &[u8]| entries.iter().any(|e| e.bytes == bytes);
    assert!(
        has(&good) && has(&gif) && has(SVG.as_bytes()),
        "images missing"
    );
    assert!(!entries.iter().any(|e| e.name.ends_with(".webp")));
    let opf = entries
        .iter()
        .find(|e| e.name.ends_with(".opf"))
        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        .expect("opf");
    assert!(
        opf.contains("image/gif") && opf.contains("image/svg+xml"),
        "{opf}"
    );
    let page = common::epub::xhtml_pages(&epub)
        .into_iter()
        .find(|(_, x)| x.contains("Remote images."))
        .map(|(_, x)| x)
        .expect("module page");
    assert_eq!(page.matches("<img ").count(), 5, "{page}");
    for p in [
        "/slow.png",
        "/missing.png",
        "/huge.png",
        "/page.png",
        "/loop-a",
    ] {
        assert!(page.contains(&server.url(p)), "{p} is not a link");
    }
    assert_epubcheck_clean(&epub);
    let fetched_epub = epub_sha(&out1);
    let hits = server.hits();

    // Server gone: later builds are offline and byte-identical, with or
    // without --fetch-images.
    server.stop();
    let out2 = dir.path().join("out2");
    let second_run = quire(&content, &out2, &["build", "--epub"]);
    let second = ok(&second_run);
    assert!(!second.contains("warning: image"), "{second}");
    let said = String::from_utf8_lossy(&second_run.stdout).into_owned();
    assert!(
        said.contains("remote images: 0 fetched, 6 from the cache, 5 shown as links\n"),
        "{said}"
    );
    assert_eq!(epub_sha(&out2), fetched_epub);
    let out3 = dir.path().join("out3");
    let third = ok(&quire(
        &content,
        &out3,
        &["build", "--epub", "--fetch-images"],
    ));
    assert_eq!(epub_sha(&out3), fetched_epub);
    assert_eq!(third.matches(": warning: image '").count(), 5, "{third}");
    assert_eq!(
        std::fs::read_to_string(content.join("quire.lock")).expect("lock"),
        lock
    );
    assert_eq!(server.hits(), hits);

    // `check` reads the lock and cache too.
    let check = quire(&content, &out2, &["check"]);
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        summary.contains("(4 fetched, from quire.lock)"),
        "{summary}"
    );

    // A damaged cache file is not used: offline it is a link with a warning.
    let png_file = content
        .join(".quire/images")
        .join(format!("{}.png", sha(&good)));
    std::fs::write(&png_file, b"not the bytes").expect("damage");
    let out4 = dir.path().join("out4");
    let fourth = ok(&quire(&content, &out4, &["build", "--epub"]));
    let expected = format!(
        "{file}:{}:1: warning: image '{}' is in quire.lock but not in the cache",
        line_of("/good.png"),
        server.url("/good.png")
    );
    assert!(fourth.contains(&expected), "{fourth}");
}

#[test]
fn changed_bytes_are_an_error_until_updated() {
    let v1 = png(20, 20, [1, 2, 3]);
    let v2 = png(20, 20, [90, 80, 70]);
    let server = Server::start(vec![
        ("/changing.png", Reply::Ok("image/png", v1.clone())),
        ("/logo.png", Reply::Ok("image/png", png(8, 8, [0, 0, 0]))),
    ]);
    let url = server.url("/changing.png");
    let (dir, content, module, lines) = book(
        &server,
        &[("Changing", url.clone()), ("Again", url.clone())],
    );
    let out = dir.path().join("out");
    ok(&quire(
        &content,
        &out,
        &["build", "--epub", "--fetch-images"],
    ));
    assert_eq!(
        server.hits_of("/changing.png"),
        1,
        "fetched once although used twice"
    );
    let lock = std::fs::read_to_string(content.join("quire.lock")).expect("lock");
    assert!(lock.contains(&sha(&v1)), "{lock}");

    // The server changes its bytes: the cache still answers, no request.
    server.set("/changing.png", Reply::Ok("image/png", v2.clone()));
    ok(&quire(
        &content,
        &out,
        &["build", "--epub", "--fetch-images", "--force"],
    ));
    assert_eq!(server.hits_of("/changing.png"), 1);

    // Without the cache (a fresh clone), fetching again finds the change.
    std::fs::remove_dir_all(content.join(".quire")).expect("rm cache");
    // (--force: the outputs are still intact, so the build would be "up to date".)
    let failed = quire(
        &content,
        &out,
        &["build", "--epub", "--fetch-images", "--force"],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let err = stderr(&failed);
    let expected = format!(
        "{}:{}:1: error: image '{url}' changed on the server since it was locked (quire.lock has sha256 {}, the server now sends {})",
        module.display(),
        lines[0],
        sha(&v1),
        sha(&v2)
    );
    assert!(err.contains(&expected), "{err}");
    assert_eq!(err.matches("changed on the server").count(), 1, "{err}");
    assert_eq!(
        std::fs::read_to_string(content.join("quire.lock")).expect("lock"),
        lock
    );

    // --update-images accepts the new bytes and rewrites the entry; cached
    // images no entry names are removed (only files named like ours).
    let cache = content.join(".quire/images");
    let stale = cache.join(format!("{}.png", "a".repeat(64)));
    common::write(&cache, &format!("{}.png", "a".repeat(64)), b"old");
    common::write(&cache, "notes.txt", b"mine");
    ok(&quire(
        &content,
        &out,
        &["build", "--epub", "--update-images"],
    ));
    let updated = std::fs::read_to_string(content.join("quire.lock")).expect("lock");
    assert!(
        updated.contains(&sha(&v2)) && !updated.contains(&sha(&v1)),
        "{updated}"
    );
    assert!(!stale.exists(), "an unlocked cache file was kept");
    assert!(cache.join("notes.txt").exists());
    assert!(cache.join(format!("{}.png", sha(&v2))).exists());
    let entries = common::epub::entries(&out.join("mini-book.epub"));
    assert!(
        entries.iter().any(|e| e.bytes == v2),
        "new bytes not in the EPUB"
    );

    // --update-images with the server gone keeps the locked copy, with a warning.
    let mut server = server;
    server.stop();
    let kept = ok(&quire(
        &content,
        &out,
        &["build", "--epub", "--update-images"],
    ));
    assert!(
        kept.contains(&format!(
            "{}:{}:1: warning: image '{url}' could not be updated (",
            module.display(),
            lines[0]
        )),
        "{kept}"
    );
    assert_eq!(
        std::fs::read_to_string(content.join("quire.lock")).expect("lock"),
        updated
    );
    let entries = common::epub::entries(&out.join("mini-book.epub"));
    assert!(
        entries.iter().any(|e| e.bytes == v2),
        "locked copy not in the EPUB"
    );
}

#[test]
fn book_toml_turns_fetching_on_and_pdf_shows_the_images() {
    let server = Server::start(vec![
        (
            "/figure.png",
            Reply::Ok("image/png", png(64, 48, [5, 100, 200])),
        ),
        (
            "/anim.gif",
            Reply::Ok(
                "image/gif",
                encode(picture(30, 20, [9, 9, 9]), image::ImageFormat::Gif),
            ),
        ),
        (
            "/photo.webp",
            Reply::Ok(
                "image/webp",
                encode(picture(24, 18, [50, 0, 90]), image::ImageFormat::WebP),
            ),
        ),
        ("/logo.png", Reply::Ok("image/png", png(8, 8, [0, 0, 0]))),
    ]);
    let html = format!(
        "<p align=\"center\"><img src=\"{}\" alt=\"A GIF\" width=\"120\"></p>",
        server.url("/anim.gif")
    );
    let (dir, content, _, _) = book(
        &server,
        &[
            ("A figure", server.url("/figure.png")),
            ("", html),
            ("A photo", server.url("/photo.webp")),
        ],
    );
    let toml = std::fs::read_to_string(content.join("book.toml")).expect("book.toml");
    std::fs::write(
        content.join("book.toml"),
        format!("{toml}\n[images]\nremote = \"fetch\"\n"),
    )
    .expect("write");
    let out = dir.path().join("out");
    ok(&quire(&content, &out, &["build", "--pdf"]));
    for p in ["/figure.png", "/anim.gif", "/photo.webp", "/logo.png"] {
        assert_eq!(server.hits_of(p), 1, "{p}");
    }
    let lock = std::fs::read_to_string(content.join("quire.lock")).expect("lock");
    assert_eq!(lock.matches("[[image]]").count(), 4, "{lock}");
    let pdf = out.join("mini-book.pdf");
    match Command::new("pdfimages").arg("-list").arg(&pdf).output() {
        Err(_) => common::missing_tool("pdfimages (apt-get install poppler-utils)"),
        Ok(o) => {
            let list = String::from_utf8_lossy(&o.stdout);
            for (w, h) in [("64", "48"), ("30", "20"), ("24", "18")] {
                assert!(
                    list.lines().any(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        f.len() > 4 && f[3] == w && f[4] == h
                    }),
                    "the {w}×{h} fetched image is not in the PDF:\n{list}"
                );
            }
        }
    }
}

#[test]
fn unknown_remote_setting_is_refused() {
    let server = Server::start(vec![]);
    let (dir, content, _, _) = book(&server, &[]);
    let toml = std::fs::read_to_string(content.join("book.toml")).expect("book.toml");
    std::fs::write(
        content.join("book.toml"),
        format!("{toml}\n[images]\nremote = \"download\"\n"),
    )
    .expect("write");
    let o = quire(&content, &dir.path().join("out"), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("book.toml:") && err.contains("download"),
        "{err}"
    );
}
