//! The Kindle file (`<book>.kindle.epub`), made for Send to Kindle and KDP:
//! every formula an image typeset by the same Typst as the PDFs, its TeX as
//! alt text (Kindle's converters drop or mangle MathML); the cover an RGB
//! JPEG of 1600 × 2560; SVG figures with live text rasterized (Kindle sets
//! SVG text in its own fonts, or not at all); nothing from the unsupported
//! list of Amazon's Kindle Publishing Guidelines (scripts, forms, frames,
//! negative margins and indents without padding, negative line heights);
//! no file over 300 KB. [`check`] reports any rule the finished file breaks.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use super::xhtml::escape;
use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::{Block, Book, Inline, Pos};

/// Kindle's limit for one XHTML file.
pub const MAX_FILE: usize = 300 * 1024;
/// The cover Kindle asks for (at least, with a 1.6 aspect ratio).
pub const COVER: (u32, u32) = (1600, 2560);

/// One formula as an image.
#[derive(Debug, Clone)]
pub struct MathImage {
    /// Inside `EPUB/` (`images/math/m-….png`).
    pub href: String,
    pub png: Vec<u8>,
    /// Size and depth below the baseline in em of the text around it.
    pub width_em: f64,
    pub height_em: f64,
    pub depth_em: f64,
}

/// What the Kindle file needs beyond the EPUB's own inputs.
#[derive(Debug, Default)]
pub struct Assets {
    /// By (TeX, display).
    pub math: HashMap<(String, bool), MathImage>,
    /// Formulas that could not be typeset (their TeX is shown).
    pub warnings: Vec<Diagnostic>,
}

/// Every formula of the book, (TeX, display) with where it first appears,
/// in book order.
pub fn formulas(book: &Book) -> Vec<((String, bool), PathBuf, Pos)> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    let mut visit = |tex: &str, display: bool, file: &PathBuf, pos: Pos| {
        let key = (tex.trim().to_string(), display);
        if seen.insert(key.clone(), ()).is_none() {
            out.push((key, file.clone(), pos));
        }
    };
    for part in &book.parts {
        walk_blocks(&part.overview, &mut |t, d, p| visit(t, d, &part.source, p));
        for module in &part.modules {
            walk_blocks(&module.blocks, &mut |t, d, p| {
                visit(t, d, &module.source, p)
            });
            for note in &module.footnotes {
                walk_blocks(&note.blocks, &mut |t, d, p| visit(t, d, &module.source, p));
            }
        }
    }
    out
}

/// Calls `f` with every formula in `blocks` (an explicit stack: depth comes
/// from the book).
fn walk_blocks(blocks: &[Block], f: &mut dyn FnMut(&str, bool, Pos)) {
    let mut stack: Vec<&Block> = blocks.iter().rev().collect();
    let mut inl: Vec<&Inline> = Vec::new();
    while let Some(b) = stack.pop() {
        match b {
            Block::Paragraph(c) | Block::Heading { content: c, .. } => inl.extend(c.iter().rev()),
            Block::Figure { caption, .. } => inl.extend(caption.iter().rev()),
            Block::Table { head, rows, .. } => {
                for cell in head.iter().chain(rows.iter().flatten()) {
                    inl.extend(cell.iter().rev());
                }
            }
            Block::Details { summary, blocks } => {
                inl.extend(summary.iter().rev());
                stack.extend(blocks.iter().rev());
            }
            Block::Quote(bs) | Block::Admonition { blocks: bs, .. } => {
                stack.extend(bs.iter().rev())
            }
            Block::List { items, .. } => {
                stack.extend(items.iter().rev().flat_map(|i| i.blocks.iter().rev()));
            }
            Block::Math { tex, pos } => f(tex, true, *pos),
            Block::CodeBlock { .. } | Block::Rule => {}
        }
        while let Some(i) = inl.pop() {
            match i {
                Inline::Math { tex, display, pos } => f(tex, *display, *pos),
                other => {
                    if let Some(c) = other.children() {
                        inl.extend(c.iter().rev());
                    }
                }
            }
        }
    }
}

/// The file name of a formula's image.
pub fn math_href(tex: &str, display: bool) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{display}\n{tex}").as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("images/math/m-{hex}.png")
}

/// The cover as an RGB JPEG (Kindle wants RGB, and JPEG for photos and covers).
pub fn cover_jpeg(png: &[u8]) -> Result<Vec<u8>> {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("cover: {e}")))?;
    let mut out = Cursor::new(Vec::new());
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    img.to_rgb8()
        .write_with_encoder(enc)
        .map_err(|e| Error::Internal(format!("cover: {e}")))?;
    Ok(out.into_inner())
}

/// Whether an SVG has live text (Kindle would set it in its own fonts).
pub fn has_live_text(svg: &[u8]) -> bool {
    let s = String::from_utf8_lossy(svg);
    s.contains("<text") || s.contains(":text")
}

fn font_db() -> Arc<resvg::usvg::fontdb::Database> {
    static DB: std::sync::OnceLock<Arc<resvg::usvg::fontdb::Database>> = std::sync::OnceLock::new();
    DB.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        for data in typst_assets::fonts() {
            db.load_font_data(data.to_vec());
        }
        // As the PDFs: Typst sets an SVG's text in the document's font when
        // it has none of the families named (generic families included).
        db.set_serif_family("Libertinus Serif");
        db.set_sans_serif_family("Libertinus Serif");
        db.set_cursive_family("Libertinus Serif");
        db.set_fantasy_family("Libertinus Serif");
        db.set_monospace_family("DejaVu Sans Mono");
        Arc::new(db)
    })
    .clone()
}

/// An SVG drawn as a PNG `width` pixels wide, on white (Kindle's dark
/// themes leave images as they are: dark lines on nothing would vanish).
pub fn rasterize_svg(svg: &[u8], width: u32) -> std::result::Result<Vec<u8>, String> {
    let options = resvg::usvg::Options {
        font_family: "Libertinus Serif".into(),
        fontdb: font_db(),
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_data(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size();
    let scale = width as f32 / size.width();
    let height = (size.height() * scale).ceil().max(1.0) as u32;
    png_of(width, height, |pixmap| {
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::from_scale(scale, scale),
            pixmap,
        )
    })
}

/// A `width` × `height` PNG on white, drawn by `draw`.
pub fn png_of(
    width: u32,
    height: u32,
    draw: impl FnOnce(&mut resvg::tiny_skia::PixmapMut<'_>),
) -> std::result::Result<Vec<u8>, String> {
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height).ok_or("image of no size")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    draw(&mut pixmap.as_mut());
    // Opaque, so premultiplied and straight RGBA are the same; RGB it is.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let img = image::RgbImage::from_raw(width, height, rgb).ok_or("image buffer")?;
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// The stylesheet without the negative margins Kindle's guidelines ask to
/// avoid (a hanging code label and task box sit in the flow instead).
pub fn stylesheet(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    for line in css.split_inclusive('\n') {
        out.push_str(&without_negative_margins(line));
    }
    out
}

/// `margin…: -x` declarations set to 0 (a negative `text-indent` is kept
/// only beside a `padding-left`, as the guidelines allow).
fn without_negative_margins(rule: &str) -> String {
    let mut out = String::new();
    let mut rest = rule;
    while let Some(i) = rest.find("margin") {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        let decl_end = after.find([';', '}']).unwrap_or(after.len());
        let decl = &after[..decl_end];
        match decl.split_once(':') {
            Some((name, value)) if value.trim_start().starts_with('-') && !name.contains('{') => {
                out.push_str(name);
                out.push_str(": 0");
            }
            _ => out.push_str(decl),
        }
        rest = &after[decl_end..];
    }
    out.push_str(rest);
    out
}

/// What the file breaks of Kindle's rules: each a warning, at the Markdown
/// file a page comes from (`sources`: zip path → file) or at the page.
pub fn check(
    files: &BTreeMap<String, Vec<u8>>,
    sources: &HashMap<String, PathBuf>,
    cover: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut warn = |name: &str, message: String| {
        out.push(Diagnostic {
            severity: Severity::Warning,
            file: sources
                .get(name)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(name)),
            pos: Pos { line: 1, col: 1 },
            message: format!("Kindle: {message} ({name})"),
        });
    };
    for (name, bytes) in files {
        let text = || String::from_utf8_lossy(bytes);
        if name.ends_with(".xhtml") {
            if bytes.len() > MAX_FILE {
                warn(
                    name,
                    format!(
                        "a page of {} KB, over Kindle's 300 KB for one file",
                        bytes.len() / 1024
                    ),
                );
            }
            let t = text();
            for (what, needle) in [
                ("MathML", "<math"),
                ("a script", "<script"),
                ("a form", "<form"),
                ("a form control", "<input"),
                ("a frame", "<iframe"),
                ("an embedded object", "<object"),
                ("an embedded object", "<embed"),
            ] {
                if t.contains(needle) {
                    warn(
                        name,
                        format!("{what} ({needle}>), which Kindle does not support"),
                    );
                }
            }
            if svg_blocks(&t).any(|svg| has_live_text(svg.as_bytes())) {
                warn(name, "an SVG with live text".into());
            }
            if nested_paragraph(&t) {
                warn(name, "a paragraph inside a paragraph".into());
            }
        } else if name.ends_with(".svg") && has_live_text(bytes) {
            warn(name, "an SVG image with live text".into());
        } else if name.ends_with(".css") {
            for problem in css_problems(&text()) {
                warn(name, problem);
            }
        }
    }
    match files.get(cover).map(|b| cover_facts(b)) {
        Some(Ok((w, h, rgb_jpeg))) => {
            if !rgb_jpeg {
                warn(cover, "the cover is not an RGB JPEG".into());
            }
            if w < COVER.0 || h < COVER.1 {
                warn(
                    cover,
                    format!("a cover of {w} × {h}, smaller than Kindle's 1600 × 2560"),
                );
            }
        }
        Some(Err(e)) => warn(cover, format!("the cover cannot be read: {e}")),
        None => warn(cover, "no cover image".into()),
    }
    out
}

/// Width, height, and whether it is an RGB JPEG.
fn cover_facts(bytes: &[u8]) -> std::result::Result<(u32, u32, bool), String> {
    let format = image::guess_format(bytes).map_err(|e| e.to_string())?;
    let img = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let rgb = matches!(img.color(), image::ColorType::Rgb8);
    Ok((
        img.width(),
        img.height(),
        rgb && format == image::ImageFormat::Jpeg,
    ))
}

/// The inline `<svg>…</svg>` elements of a page.
fn svg_blocks(page: &str) -> impl Iterator<Item = &str> {
    page.match_indices("<svg").filter_map(move |(i, _)| {
        let end = page[i..].find("</svg>")?;
        Some(&page[i..i + end])
    })
}

/// A `<p>` opened before the last one closed.
fn nested_paragraph(page: &str) -> bool {
    let mut open = 0i32;
    let mut rest = page;
    while let Some(i) = rest.find("<p") {
        let before = &rest[..i];
        open -= before.matches("</p>").count() as i32;
        open = open.max(0);
        let next = rest[i + 2..].chars().next();
        if matches!(next, Some('>' | ' ' | '/')) {
            if open > 0 {
                return true;
            }
            if !rest[i..]
                .split('>')
                .next()
                .is_some_and(|t| t.ends_with('/'))
            {
                open += 1;
            }
        }
        rest = &rest[i + 2..];
    }
    false
}

/// Negative margins, negative line heights and negative indents without a
/// padding to make up for them, rule by rule.
fn css_problems(css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for rule in css.split('}') {
        let Some((selector, body)) = rule.rsplit_once('{') else {
            continue;
        };
        let selector = selector.trim().rsplit('\n').next().unwrap_or("").trim();
        let decls: Vec<(String, String)> = body
            .split(';')
            .filter_map(|d| d.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let padded = decls.iter().any(|(n, _)| n.starts_with("padding"));
        for (name, value) in &decls {
            if !value.split_whitespace().any(|v| v.starts_with('-')) {
                continue;
            }
            let bad = name.starts_with("margin")
                || name == "line-height"
                || (name == "text-indent" && !padded);
            if bad {
                out.push(format!("`{name}: {value}` in `{selector}`: Kindle's guidelines ask for no negative {name}"));
            }
        }
    }
    out
}

/// The `<img>` of a formula: sized in em so it grows with the reader's
/// text; an inline one sits on the baseline.
pub fn math_img(img: &MathImage, tex: &str, display: bool) -> String {
    let alt = escape(tex.trim());
    if display {
        format!(
            "<img class=\"math-img\" src=\"../{}\" alt=\"{alt}\" style=\"width: {:.2}em; max-width: 100%\"/>",
            img.href, img.width_em
        )
    } else {
        format!(
            "<img class=\"math-img\" src=\"../{}\" alt=\"{alt}\" style=\"width: {:.2}em; height: {:.2}em; vertical-align: -{:.2}em\"/>",
            img.href, img.width_em, img.height_em, img.depth_em
        )
    }
}

/// A cut page: its files `(name, page)` and where moved ids are now.
pub type Split = (Vec<(String, String)>, HashMap<String, String>);

/// A module page too long for Kindle, cut between top-level blocks of its
/// body into files of at most `budget` bytes: `(file, page)` in order, the
/// first keeping the page's name (`m-x.xhtml`, `m-x-2.xhtml`…), and for
/// every id that moved, the file it is in now. `None` when the page is not
/// the shipped module template's (the check then reports its size).
pub fn split_page(
    page: &str,
    body: &str,
    ends: &[usize],
    file: &str,
    title: &str,
    budget: usize,
) -> Option<Split> {
    const OPEN: &str = "<div class=\"module-body\">\n";
    let start = page.find(OPEN)? + OPEN.len();
    if !page[start..].starts_with(body) {
        return None;
    }
    let head = &page[..page.find("<body")?];
    let body_tag = &page[head.len()..head.len() + page[head.len()..].find('>')? + 1];
    let before = &page[..start];
    let after = &page[start + body.len()..];
    // Cut points: block ends, each chunk as big as the budget allows.
    let room = budget.saturating_sub(before.len().max(after.len()) + 400);
    let mut cuts = vec![0];
    let mut last = 0;
    for (k, &end) in ends.iter().enumerate() {
        let next = ends.get(k + 1).copied().unwrap_or(body.len());
        if next - last > room && end > last {
            cuts.push(end);
            last = end;
        }
    }
    cuts.push(body.len());
    cuts.dedup();
    if cuts.len() <= 2 {
        return None;
    }
    let stem = file.trim_end_matches(".xhtml");
    let n = cuts.len() - 1;
    let mut pages = Vec::new();
    let mut moved = HashMap::new();
    for k in 0..n {
        let chunk = &body[cuts[k]..cuts[k + 1]];
        let name = if k == 0 {
            file.to_string()
        } else {
            format!("{stem}-{}.xhtml", k + 1)
        };
        let opening = if k == 0 {
            before.to_string()
        } else {
            format!(
                "{head}{body_tag}\n<section class=\"module\" epub:type=\"chapter\" role=\"doc-chapter\" aria-label=\"{} (continued)\">\n{OPEN}",
                escape(title)
            )
        };
        let closing = if k + 1 == n {
            after.to_string()
        } else {
            "\n</div>\n</section>\n</body>\n</html>\n".to_string()
        };
        if k > 0 {
            for id in ids(chunk).chain(if k + 1 == n {
                ids(after).collect()
            } else {
                Vec::new()
            }) {
                moved.insert(id.to_string(), name.clone());
            }
        }
        pages.push((name, format!("{opening}{chunk}{closing}")));
    }
    Some((pages, moved))
}

/// The `id` attribute values in markup.
fn ids(s: &str) -> impl Iterator<Item = &str> {
    s.match_indices(" id=\"").filter_map(move |(i, m)| {
        let rest = &s[i + m.len()..];
        rest.find('"').map(|e| &rest[..e])
    })
}

/// Points links at ids that moved to another file of a split page:
/// `file#id` anywhere (`href` or `src`), and a bare `#id` inside the split
/// page's own files (`own`: this text is one of them, named so).
pub fn retarget(
    text: &str,
    file: &str,
    moved: &HashMap<String, String>,
    own: Option<&str>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        let (before, after) = rest.split_at(i);
        let id_end = after[1..].find('"').map(|e| e + 1);
        let prefix_file =
            before.ends_with(file) && before[..before.len() - file.len()].ends_with(['"', '/']);
        let bare = before.ends_with("href=\"");
        match id_end {
            Some(e) if prefix_file || (bare && own.is_some()) => {
                let id = &after[1..e];
                match moved.get(id) {
                    Some(target) if prefix_file => {
                        out.push_str(&before[..before.len() - file.len()]);
                        out.push_str(target);
                    }
                    Some(target) if own != Some(target.as_str()) => {
                        out.push_str(before);
                        out.push_str(target);
                    }
                    None if bare && own.is_some_and(|o| o != file) => {
                        // A bare link from a continuation to the first file.
                        out.push_str(before);
                        out.push_str(file);
                    }
                    _ => out.push_str(before),
                }
                out.push_str(&after[..e]);
                rest = &after[e..];
            }
            _ => {
                out.push_str(before);
                out.push('#');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_margins_go_and_are_caught() {
        let css = ".a { margin-left: -1.3em; width: 1em; }\n.b { margin-bottom: -0.8em; }\n.c { text-indent: -2em; padding-left: 2em; }\n.d { text-indent: -1em; }\n";
        let kindle = stylesheet(css);
        assert!(kindle.contains(".a { margin-left: 0; width: 1em; }"));
        assert!(kindle.contains(".b { margin-bottom: 0; }"));
        let problems = css_problems(&kindle);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(".d"));
        assert_eq!(css_problems(css).len(), 3);
    }

    #[test]
    fn nested_paragraphs_are_found() {
        assert!(!nested_paragraph("<p>a</p><p>b</p><pre>x</pre>"));
        assert!(nested_paragraph("<p>a<p>b</p></p>"));
        assert!(!nested_paragraph("<p/><p>b</p>"));
    }

    #[test]
    fn svg_text_is_rasterized_on_white() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15" font-family="Arial" font-size="12">Hi</text></svg>"#;
        assert!(has_live_text(svg));
        let png = rasterize_svg(svg, 80).expect("rasterized");
        let img = image::load_from_memory(&png).expect("png").to_rgb8();
        assert_eq!((img.width(), img.height()), (80, 40));
        // The text is drawn (some dark pixels), the rest is white.
        assert!(img.pixels().any(|p| p.0[0] < 100));
        assert_eq!(img.get_pixel(79, 0).0, [255, 255, 255]);
    }
}
