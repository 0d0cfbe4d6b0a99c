//! Binary resources: images (copied once, large rasters downscaled), the
//! generated cover, and the embedded monospace font.

use std::collections::BTreeSet;
use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{DynamicImage, GrayImage, ImageFormat as Fmt, Luma};

use crate::error::{Error, Result};
use crate::model::{Book, Image, ImageFormat};

/// Longest side, in pixels, of raster images in the EPUB.
pub const MAX_IMAGE_PX: u32 = 1600;
pub const COVER_W: u32 = 1600;
pub const COVER_H: u32 = 2560;

/// typst-assets ships the fonts Quire bundles; indexes into `typst_assets::fonts()`.
const SERIF_REGULAR: usize = 0;
const SERIF_BOLD: usize = 1;
const MONO: usize = 16;

pub fn bundled_font(index: usize) -> Option<&'static [u8]> {
    typst_assets::fonts().nth(index)
}

pub fn mono_font() -> Option<&'static [u8]> {
    bundled_font(MONO)
}

/// Characters the embedded monospace font always keeps, whatever the book's
/// code uses: printable ASCII, so that text a reader's own stylesheet puts in
/// the font still looks right.
const MONO_ALWAYS: std::ops::RangeInclusive<char> = ' '..='~';

/// The monospace font cut down to `chars` (plus printable ASCII) as a standalone
/// OpenType font for the EPUB, and the characters it covers.
pub fn mono_font_subset(chars: &BTreeSet<char>) -> Result<Vec<u8>> {
    let data =
        mono_font().ok_or_else(|| Error::Internal("bundled monospace font missing".into()))?;
    let mut wanted = chars.clone();
    wanted.extend(MONO_ALWAYS);
    subset_font(data, &wanted)
}

/// `data` reduced to the glyphs of `chars` (and the glyphs those are built of).
///
/// subsetter (Typst's own) keeps outlines, metrics, hinting and names but, being
/// made for PDF, drops `cmap` and `OS/2`, which browsers' font sanitiser (OTS)
/// requires of a web font: the `cmap` is rebuilt for the kept characters with
/// write-fonts and `OS/2` is the original's. Characters the font lacks are left
/// out (the reader's monospace font draws them). Deterministic: glyphs are
/// renumbered in their original order.
pub fn subset_font(data: &[u8], chars: &BTreeSet<char>) -> Result<Vec<u8>> {
    use write_fonts::read::{FontRef as ReadFont, TableProvider};
    use write_fonts::tables::cmap::Cmap;
    use write_fonts::types::{GlyphId, Tag};

    let bad = |what: &str, e: &dyn std::fmt::Display| {
        Error::Internal(format!("monospace font {what}: {e}"))
    };
    let font = ReadFont::new(data).map_err(|e| bad("unreadable", &e))?;
    let cmap = font.cmap().map_err(|e| bad("has no cmap", &e))?;
    let mapped: Vec<(char, u16)> = chars
        .iter()
        .filter_map(|&c| {
            let gid = cmap.map_codepoint(c)?.to_u32();
            (gid != 0)
                .then(|| u16::try_from(gid).ok())
                .flatten()
                .map(|g| (c, g))
        })
        .collect();
    let glyphs: BTreeSet<u16> = mapped.iter().map(|&(_, g)| g).collect();
    let mut remapper = subsetter::GlyphRemapper::new();
    for &g in &glyphs {
        remapper.remap(g);
    }
    let subset = subsetter::subset(data, 0, &remapper).map_err(|e| bad("cannot be subset", &e))?;
    let new_cmap = Cmap::from_mappings(
        mapped
            .iter()
            .filter_map(|&(c, g)| Some((c, GlyphId::new(u32::from(remapper.get(g)?))))),
    )
    .map_err(|e| bad("cmap", &e))?;
    let mut os2 = font
        .data_for_tag(Tag::new(b"OS/2"))
        .ok_or_else(|| Error::Internal("monospace font has no OS/2 table".into()))?
        .as_bytes()
        .to_vec();
    // usFirstCharIndex and usLastCharIndex describe the new cmap.
    if let (Some(&(first, _)), Some(&(last, _)), true) =
        (mapped.first(), mapped.last(), os2.len() >= 68)
    {
        let bmp = |c: char| u16::try_from(u32::from(c)).unwrap_or(u16::MAX);
        os2[64..66].copy_from_slice(&bmp(first).to_be_bytes());
        os2[66..68].copy_from_slice(&bmp(last).to_be_bytes());
    }
    let subset_font = ReadFont::new(&subset).map_err(|e| bad("subset unreadable", &e))?;
    let mut builder = write_fonts::FontBuilder::new();
    builder
        .add_table(&new_cmap)
        .map_err(|e| bad("cmap", &e))?
        .add_raw(Tag::new(b"OS/2"), os2)
        .copy_missing_tables(subset_font);
    Ok(builder.build())
}

/// Every character of the text inside `<code>`, `<pre>`, `<kbd>` and `<samp>`
/// elements of an XHTML page (where the stylesheet uses the monospace font),
/// added to `out`. Entities are decoded; markup and attributes are skipped.
pub fn collect_monospace_chars(xhtml: &str, out: &mut BTreeSet<char>) {
    const MONO: [&str; 4] = ["code", "pre", "kbd", "samp"];
    let mut depth = 0usize;
    let mut rest = xhtml;
    while !rest.is_empty() {
        let (text, after) = match rest.find('<') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if depth > 0 {
            decode_into(text, out);
        }
        if after.is_empty() {
            break;
        }
        let end = match after.find('>') {
            Some(e) => e,
            None => break,
        };
        let tag = &after[1..end];
        rest = &after[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !MONO.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
        }
    }
}

/// Text with XML character references and the five predefined entities decoded.
fn decode_into(text: &str, out: &mut BTreeSet<char>) {
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '&' {
            if !c.is_control() {
                out.insert(c);
            }
            continue;
        }
        let Some(len) = text[i..].find(';') else {
            out.insert(c);
            continue;
        };
        let entity = &text[i + 1..i + len];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(d) => {
                if !d.is_control() {
                    out.insert(d);
                }
                for _ in 0..len {
                    chars.next();
                }
            }
            None => {
                out.insert(c);
            }
        }
    }
}

/// An SVG without its `<!DOCTYPE …>` (Graphviz and Illustrator write one):
/// EPUB 3 forbids external identifiers in it (epubcheck OPF-073, HTM-003),
/// and the parse stage has refused any DTD that declares entities.
fn without_doctype(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return bytes;
    };
    let Some(start) = text.find("<!DOCTYPE") else {
        return bytes;
    };
    let rest = &text[start..];
    // An internal subset `[ … ]` ends with `]>`, a plain declaration with `>`.
    let end = match (rest.find('['), rest.find('>')) {
        (Some(b), Some(g)) if b < g => rest.find("]>").map(|e| e + 2),
        (_, Some(g)) => Some(g + 1),
        _ => None,
    };
    match end {
        Some(e) => {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start]);
            out.push_str(rest[e..].strip_prefix('\n').unwrap_or(&rest[e..]));
            out.into_bytes()
        }
        None => bytes,
    }
}

/// An SVG as an EPUB wants it, from what the parse stage accepted:
/// - without the HTML copies of its diagram labels, a `<foreignObject>` in a
///   `<switch>` with SVG after it (draw.io writes each label so, then its
///   `<text>`): the `<switch>` shows the text, and epubcheck, which holds
///   that HTML to XHTML (draw.io's `<font>`, `align`), has nothing to refuse;
/// - each link (`<a>`) with a `<title>` of its text, which epubcheck asks
///   for (ACC-011; draw.io's "Viewer does not support full SVG 1.1" link).
fn without_label_html(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return bytes;
    };
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return bytes;
    };
    // (range replaced, replacement), in document order and disjoint: a
    // label is cut whole, and a title goes in front of a link's first child.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        if edits.last().is_some_and(|(r, _)| n.range().start < r.end) {
            continue;
        }
        let name = n.tag_name().name();
        if name == "foreignObject"
            && n.parent_element()
                .is_some_and(|p| p.tag_name().name() == "switch")
            && n.next_sibling_element().is_some()
        {
            edits.push((n.range(), String::new()));
        } else if name == "a"
            && !n.children().any(|c| c.tag_name().name() == "title")
            && let Some(first) = n.first_child()
        {
            let words: String = n
                .descendants()
                .filter_map(|t| t.is_text().then(|| t.text()).flatten())
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !words.is_empty() {
                let at = first.range().start;
                let title = words
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                edits.push((at..at, format!("<title>{title}</title>")));
            }
        }
    }
    if edits.is_empty() {
        return bytes;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (r, with) in edits {
        out.push_str(&text[at..r.start]);
        out.push_str(&with);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// The bytes to store for an image, and their format: as is, or re-encoded
/// when a raster is too large (downscaled) or is WebP (as PNG: WebP is not an
/// EPUB 3.2 core media type). Re-encoding is deterministic.
pub fn image_bytes(img: &Image) -> Result<(Vec<u8>, ImageFormat)> {
    let bytes = std::fs::read(&img.path).map_err(|e| Error::io("read image", &img.path, e))?;
    let small = img.width.max(img.height) <= MAX_IMAGE_PX;
    if img.format == ImageFormat::Svg {
        return Ok((without_label_html(without_doctype(bytes)), img.format));
    }
    if small && img.format != ImageFormat::Webp {
        return Ok((bytes, img.format));
    }
    let decoded = image::load_from_memory_with_format(
        &bytes,
        crate::parse::images::decoder_format(img.format),
    )
    .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?;
    let decoded = if small {
        decoded
    } else {
        decoded.resize(
            MAX_IMAGE_PX,
            MAX_IMAGE_PX,
            image::imageops::FilterType::Lanczos3,
        )
    };
    let mut out = Cursor::new(Vec::new());
    let format = match img.format {
        ImageFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            decoded
                .to_rgb8()
                .write_with_encoder(enc)
                .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?;
            ImageFormat::Jpeg
        }
        // PNG, and GIF/WebP, whose first frame becomes a PNG.
        _ => {
            decoded
                .write_to(&mut out, Fmt::Png)
                .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?;
            ImageFormat::Png
        }
    };
    Ok((out.into_inner(), format))
}

/// A typographic cover (greyscale PNG, 1600×2560) drawn from the book's metadata.
pub fn cover_png(book: &Book) -> Result<Vec<u8>> {
    let regular = bundled_font(SERIF_REGULAR)
        .and_then(|b| FontRef::try_from_slice(b).ok())
        .ok_or_else(|| Error::Internal("bundled serif font missing".into()))?;
    let bold = bundled_font(SERIF_BOLD)
        .and_then(|b| FontRef::try_from_slice(b).ok())
        .ok_or_else(|| Error::Internal("bundled serif font missing".into()))?;
    let mut img = GrayImage::from_pixel(COVER_W, COVER_H, Luma([255]));
    // A double frame and two rules: structure that reads on any screen.
    frame(&mut img, 80, 8);
    frame(&mut img, 110, 2);
    let margin = 200.0;
    let width = COVER_W as f32 - 2.0 * margin;
    let mut y = 620.0;
    rule(&mut img, y as u32 - 120, 6);
    for line in wrap(&bold, 150.0, &book.meta.title, width) {
        y += 170.0;
        draw_line(&mut img, &bold, 150.0, &line, y);
    }
    if let Some(sub) = &book.meta.subtitle {
        y += 60.0;
        for line in wrap(&regular, 80.0, sub, width) {
            y += 100.0;
            draw_line(&mut img, &regular, 80.0, &line, y);
        }
    }
    rule(&mut img, y as u32 + 110, 6);
    let mut by = COVER_H as f32 - 520.0;
    for line in wrap(&regular, 72.0, &book.meta.authors.join(", "), width) {
        draw_line(&mut img, &regular, 72.0, &line, by);
        by += 90.0;
    }
    let version = format!("Version {}", book.meta.version);
    draw_line(&mut img, &regular, 56.0, &version, COVER_H as f32 - 260.0);
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageLuma8(img)
        .write_to(&mut out, Fmt::Png)
        .map_err(|e| Error::Internal(format!("cover: {e}")))?;
    Ok(out.into_inner())
}

fn frame(img: &mut GrayImage, inset: u32, thick: u32) {
    let (w, h) = img.dimensions();
    for t in 0..thick {
        let (x0, y0, x1, y1) = (inset + t, inset + t, w - inset - t - 1, h - inset - t - 1);
        for x in x0..=x1 {
            img.put_pixel(x, y0, Luma([0]));
            img.put_pixel(x, y1, Luma([0]));
        }
        for y in y0..=y1 {
            img.put_pixel(x0, y, Luma([0]));
            img.put_pixel(x1, y, Luma([0]));
        }
    }
}

fn rule(img: &mut GrayImage, y: u32, thick: u32) {
    let w = img.width();
    for yy in y..(y + thick).min(img.height()) {
        for x in 300..w - 300 {
            img.put_pixel(x, yy, Luma([0]));
        }
    }
}

fn text_width(font: &FontRef<'_>, size: f32, text: &str) -> f32 {
    let f = font.as_scaled(PxScale::from(size));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern(p, id);
        }
        w += f.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Greedy word wrap to `width` pixels.
fn wrap(font: &FontRef<'_>, size: f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(font, size, &candidate) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws one centred line with its baseline at `baseline`.
fn draw_line(img: &mut GrayImage, font: &FontRef<'_>, size: f32, text: &str, baseline: f32) {
    let scale = PxScale::from(size);
    let f = font.as_scaled(scale);
    let mut x = (img.width() as f32 - text_width(font, size, text)) / 2.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(x, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let px = b.min.x as i64 + i64::from(gx);
                let py = b.min.y as i64 + i64::from(gy);
                if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                    let p = img.get_pixel_mut(px as u32, py as u32);
                    let v = (f32::from(p.0[0]) * (1.0 - cov.clamp(0.0, 1.0))) as u8;
                    p.0[0] = v;
                }
            });
        }
        x += f.h_advance(id);
        prev = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_doctype_is_dropped() {
        let svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\"\n \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg/>";
        assert_eq!(
            without_doctype(svg.as_bytes().to_vec()),
            b"<?xml version=\"1.0\"?>\n<svg/>"
        );
        let subset = "<!DOCTYPE svg [ <!ATTLIST svg x CDATA #IMPLIED> ]>\n<svg/>";
        assert_eq!(without_doctype(subset.as_bytes().to_vec()), b"<svg/>");
        assert_eq!(without_doctype(b"<svg/>".to_vec()), b"<svg/>");
    }

    #[test]
    fn svg_label_html_is_dropped_for_its_text() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg"><switch><foreignObject width="9" height="9"><div xmlns="http://www.w3.org/1999/xhtml"><font>Stage 0</font></div></foreignObject><text>Stage 0</text></switch><foreignObject/></svg>"#;
        assert_eq!(
            without_label_html(svg.as_bytes().to_vec()),
            br#"<svg xmlns="http://www.w3.org/2000/svg"><switch><text>Stage 0</text></switch><foreignObject/></svg>"#
        );
        assert_eq!(without_label_html(b"<svg/>".to_vec()), b"<svg/>");
        let link = r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="https://x.org"><text>Viewer &amp; co</text></a><a href="y"/></svg>"#;
        assert_eq!(
            without_label_html(link.as_bytes().to_vec()),
            br#"<svg xmlns="http://www.w3.org/2000/svg"><a href="https://x.org"><title>Viewer &amp; co</title><text>Viewer &amp; co</text></a><a href="y"/></svg>"#
        );
    }

    /// The font indexes above must keep pointing at the fonts we mean.
    #[test]
    fn bundled_fonts_are_the_expected_ones() {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_be_bytes).collect() };
        let has = |font: &[u8], name: &str| {
            let n = utf16(name);
            font.windows(n.len()).any(|w| w == n.as_slice())
        };
        assert!(has(
            bundled_font(SERIF_REGULAR).unwrap(),
            "Libertinus Serif"
        ));
        assert!(has(bundled_font(SERIF_BOLD).unwrap(), "Bold"));
        assert!(has(mono_font().unwrap(), "DejaVu Sans Mono"));
    }

    #[test]
    fn monospace_characters_are_those_inside_code() {
        let mut chars = BTreeSet::new();
        collect_monospace_chars(
            "<p>prose ü</p><pre class=\"code\"><code class=\"language-rust\"><span class=\"hl-x\">a&lt;b</span> &#x2192;&#955;&amp;</code></pre>\
             <p>more é <code>λx</code><br/><kbd>Ctrl</kbd></p>",
            &mut chars,
        );
        let got: String = chars.into_iter().collect();
        assert_eq!(got, " &<Cablrtxλ→");
    }

    /// The subset is a font a browser accepts (the tables OTS requires), keeps
    /// exactly the glyphs asked for, maps them in its cmap to the same
    /// outlines, and is the same bytes every time.
    #[test]
    fn subset_font_is_small_complete_and_deterministic() {
        use write_fonts::read::{FontRef as ReadFont, TableProvider};
        use write_fonts::types::Tag;
        let chars: BTreeSet<char> = "fn main() { x → λ }".chars().collect();
        let full = mono_font().unwrap();
        let sub = mono_font_subset(&chars).unwrap();
        assert_eq!(sub, mono_font_subset(&chars).unwrap(), "deterministic");
        assert!(
            sub.len() * 5 < full.len(),
            "{} of {} bytes",
            sub.len(),
            full.len()
        );
        let font = ReadFont::new(&sub).unwrap();
        for tag in [
            b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"name", b"OS/2", b"post", b"glyf",
            b"loca",
        ] {
            assert!(
                font.data_for_tag(Tag::new(tag)).is_some(),
                "{}",
                String::from_utf8_lossy(tag)
            );
        }
        let (cmap, glyf_len) = (font.cmap().unwrap(), font.maxp().unwrap().num_glyphs());
        let orig = ReadFont::new(full).unwrap();
        let (orig_cmap, orig_hmtx, hmtx) = (
            orig.cmap().unwrap(),
            orig.hmtx().unwrap(),
            font.hmtx().unwrap(),
        );
        for c in chars.iter().copied().chain(MONO_ALWAYS) {
            let g = cmap
                .map_codepoint(c)
                .unwrap_or_else(|| panic!("{c:?} not mapped"));
            assert_ne!(g.to_u32(), 0, "{c:?}");
            let o = orig_cmap.map_codepoint(c).unwrap();
            assert_eq!(
                hmtx.advance(g),
                orig_hmtx.advance(o),
                "{c:?}: same glyph metrics"
            );
        }
        assert!(cmap.map_codepoint('Ж').is_none(), "only what was asked for");
        // ASCII, → and λ, .notdef, and nothing much else (composite parts).
        assert!(usize::from(glyf_len) < 120, "{glyf_len} glyphs");
    }
}
