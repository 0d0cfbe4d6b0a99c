//! What the places links go to are called: a label per module, section,
//! part and part section, and the destination a link to one gets (the label
//! in its own document, a cross-reference elsewhere); images' paths.

use super::literal::{label_part, lit};
use crate::model::{Book, ModuleRef};
use crate::render::pdf::doc::XRef;

pub(super) fn module_label(book: &Book, r: ModuleRef) -> String {
    format!("<m-{}>", label_part(&book.module(r).id))
}

pub(super) fn section_label(book: &Book, r: ModuleRef, id: &str) -> String {
    format!("<m-{}--{}>", label_part(&book.module(r).id), label_part(id))
}

pub(super) fn part_label(book: &Book, p: usize) -> String {
    format!("<{}>", label_part(&book.parts[p].id))
}

/// A heading or anchor of a part's overview (module labels start `m-`).
pub(super) fn part_section_label(book: &Book, p: usize, id: &str) -> String {
    format!("<{}--{}>", label_part(&book.parts[p].id), label_part(id))
}

/// `<name>` → `name`.
pub(super) fn bare(label: &str) -> &str {
    label.trim_start_matches('<').trim_end_matches('>')
}

/// A link destination for a label: the label itself in its own document,
/// a cross-reference ([`XRef`]) elsewhere.
pub(super) fn dest(label: &str, local: bool) -> String {
    if local {
        label.to_string()
    } else {
        lit(&XRef::Label(bare(label).to_string()).encode())
    }
}

/// The virtual path an image is served under.
pub(super) fn image_path(book: &Book, idx: usize) -> String {
    // Typst picks the decoder by this extension (PNG, JPEG, GIF, WebP, SVG).
    format!("/img/{idx}.{}", book.images[idx].format.ext())
}
