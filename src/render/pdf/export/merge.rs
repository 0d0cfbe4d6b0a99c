//! One PDF merged from chunks (see `laid::Chunk`: documents typst-pdf
//! exported apart), written as it goes, one chunk in memory at a time: the
//! pages in one page tree, the tag trees under one document element with
//! their parent trees renumbered, the page labels and named destinations
//! joined, the bookmarks built as typst-pdf builds them (from the chunks'
//! headings), and the links between chunks (Quire's cross-references, left
//! as URIs by the export) pointed at their page or dropped. Objects are
//! packed into object streams with a cross-reference stream, as `pack`
//! does for a PDF typst-pdf writes whole.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId, ObjectStream, Stream, StringFormat, Writer};
use typst::model::OutlineNode;

use super::super::laid::{Bookmark, Chunk};
use crate::error::{Error, Result};

/// Objects per object stream, as `pack`.
const PER_STREAM: usize = 100;
/// Entries per leaf of a number or name tree the merge writes.
const PER_LEAF: usize = 256;

/// What a link annotation whose URI is a cross-reference becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::render::pdf) enum Link {
    /// Not a cross-reference: left as it is.
    Keep,
    /// Its place is not in this PDF: no link (its text says where to look).
    Drop,
    /// A place in this PDF: page index (from 0) and point from the page's
    /// top left, pt.
    To { page: usize, x: f64, y: f64 },
}

/// A string's replacement, if any.
pub(in crate::render::pdf) type Rewrite<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// A merged PDF's input: its chunks in page order, the one whose catalog,
/// metadata and document information it takes, and what its
/// cross-references become.
pub(in crate::render::pdf) struct Pieces<'a> {
    pub(in crate::render::pdf) pieces: Vec<&'a Chunk>,
    pub(in crate::render::pdf) meta: usize,
    /// A link annotation's URI.
    pub(in crate::render::pdf) link: Box<dyn Fn(&str) -> Link + 'a>,
    /// Any other string (a link's alternate text): its replacement, if any.
    pub(in crate::render::pdf) text: Rewrite<'a>,
}

fn broken(what: impl std::fmt::Display) -> Error {
    Error::Internal(format!("merging the PDF: {what}"))
}

/// The merged PDF.
pub(in crate::render::pdf) fn merge(input: &Pieces) -> Result<Vec<u8>> {
    let heights: Vec<f64> = input
        .pieces
        .iter()
        .flat_map(|c| c.heights.iter().copied())
        .collect();
    let total = u32::try_from(heights.len()).map_err(broken)?;
    // Pages take the first ids, so a link into a later chunk knows its page.
    let page_id = |i: usize| i as u32 + 1;
    let pages_root = total + 1;
    let struct_root = total + 2;
    let document = total + 3;
    let catalog = total + 4;
    let version = input
        .pieces
        .first()
        .and_then(|c| c.pdf.get(5..8))
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("1.7")
        .to_string();
    let mut out = Out::new(&version, total + 5);
    let mut tree = Trees::default();
    let mut meta = None;
    let mut offset = 0usize;
    for (c, chunk) in input.pieces.iter().enumerate() {
        let doc = Document::load_mem(&chunk.pdf).map_err(broken)?;
        let base = out.reserve(doc.max_id + 1);
        let ctx = Ctx {
            input,
            heights: &heights,
            chunk: c,
            offset,
            base,
            document,
            struct_root,
            pages_root,
            page_id: &page_id,
        };
        let m = ctx.chunk(&doc, chunk, c == input.meta, &mut tree, &mut out)?;
        if let Some(m) = m {
            meta = Some(m);
        }
        offset += chunk.heights.len();
    }
    let meta = meta.ok_or_else(|| broken("no catalog"))?;

    let kids: Vec<Object> = (0..total as usize)
        .map(|i| Object::Reference((page_id(i), 0)))
        .collect();
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(kids));
    pages.set("Count", Object::Integer(i64::from(total)));
    out.put(pages_root, Object::Dictionary(pages))?;

    let mut cat = meta.catalog;
    cat.set("Pages", Object::Reference((pages_root, 0)));
    for key in ["StructTreeRoot", "Outlines", "Names", "Dests", "PageLabels"] {
        cat.remove(key.as_bytes());
    }
    if let Some(mut root) = meta.struct_root {
        let mut doc_elem = meta.document.unwrap_or_default();
        doc_elem.set("K", Object::Array(std::mem::take(&mut tree.kids)));
        doc_elem.set("P", Object::Reference((struct_root, 0)));
        out.put(document, Object::Dictionary(doc_elem))?;
        root.set("K", Object::Array(vec![Object::Reference((document, 0))]));
        let nums = std::mem::take(&mut tree.parent_tree);
        if !nums.is_empty() {
            let key = write_tree(&mut out, "Nums", nums)?;
            root.set("ParentTree", key);
            root.set("ParentTreeNextKey", Object::Integer(tree.next_key));
        }
        if !tree.role_map.is_empty() {
            root.set(
                "RoleMap",
                Object::Dictionary(std::mem::take(&mut tree.role_map)),
            );
        }
        if !tree.ids.is_empty() {
            let ids = std::mem::take(&mut tree.ids).into_iter();
            let ids = ids.map(|(k, v)| (Object::String(k, StringFormat::Literal), v));
            root.set("IDTree", write_tree(&mut out, "Names", ids.collect())?);
        }
        out.put(struct_root, Object::Dictionary(root))?;
        cat.set("StructTreeRoot", Object::Reference((struct_root, 0)));
    }
    if let Some(outlines) = write_outline(&mut out, &tree.bookmarks, &heights, &page_id)? {
        cat.set("Outlines", outlines);
    }
    if !tree.dests.is_empty() {
        let dests = std::mem::take(&mut tree.dests).into_iter();
        let dests = dests.map(|(k, v)| (Object::String(k, StringFormat::Literal), v));
        let mut names = Dictionary::new();
        names.set("Dests", write_tree(&mut out, "Names", dests.collect())?);
        cat.set("Names", Object::Dictionary(names));
    }
    if !tree.labels.is_empty() {
        let mut labels = Dictionary::new();
        let nums = page_labels(std::mem::take(&mut tree.labels));
        labels.set(
            "Nums",
            Object::Array(nums.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        );
        cat.set("PageLabels", Object::Dictionary(labels));
    }
    out.put(catalog, Object::Dictionary(cat))?;
    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference((catalog, 0)));
    if let Some(info) = meta.info {
        trailer.set("Info", info);
    }
    if let Some(id) = meta.id {
        trailer.set("ID", id);
    }
    out.finish(trailer)
}

/// What the merged PDF takes from its `meta` chunk (renumbered).
struct Meta {
    catalog: Dictionary,
    struct_root: Option<Dictionary>,
    document: Option<Dictionary>,
    info: Option<Object>,
    id: Option<Object>,
}

/// What the chunks add up to: the document element's children, the
/// parent tree, bookmarks, named destinations, page labels, roles, ids.
#[derive(Default)]
struct Trees {
    kids: Vec<Object>,
    parent_tree: Vec<(Object, Object)>,
    next_key: i64,
    bookmarks: Vec<(Bookmark, usize)>,
    dests: BTreeMap<Vec<u8>, Object>,
    labels: Vec<(i64, Object)>,
    role_map: Dictionary,
    ids: BTreeMap<Vec<u8>, Object>,
}

/// One chunk's place in the merge.
struct Ctx<'a> {
    input: &'a Pieces<'a>,
    heights: &'a [f64],
    /// Its place among the chunks.
    chunk: usize,
    /// Pages before it.
    offset: usize,
    /// Its object `n` becomes `base + n` (its pages and document element aside).
    base: u32,
    document: u32,
    struct_root: u32,
    pages_root: u32,
    page_id: &'a dyn Fn(usize) -> u32,
}

impl Ctx<'_> {
    /// Writes one chunk's objects and adds its trees to `tree`; the
    /// catalog and metadata when it is the `meta` one.
    fn chunk(
        &self,
        doc: &Document,
        chunk: &Chunk,
        is_meta: bool,
        tree: &mut Trees,
        out: &mut Out,
    ) -> Result<Option<Meta>> {
        let root_id = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(broken)?;
        let catalog = doc.get_dictionary(root_id).map_err(broken)?;
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.len() != chunk.heights.len() {
            return Err(broken(format!(
                "a chunk has {} pages, {} laid out",
                pages.len(),
                chunk.heights.len()
            )));
        }
        let mut map: BTreeMap<u32, u32> = pages
            .iter()
            .enumerate()
            .map(|(i, id)| (id.0, (self.page_id)(self.offset + i)))
            .collect();
        let mut skip: BTreeSet<u32> = BTreeSet::from([root_id.0]);
        let mut inherited = Dictionary::new();
        if let Ok(node) = catalog.get(b"Pages").and_then(Object::as_reference) {
            page_nodes(doc, node, &mut skip, &mut inherited);
        }

        // The tag tree: its document element's children join the merged one's.
        let mut doc_elem = None;
        let mut struct_root = None;
        let mut renamed: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut parent_tree = Vec::new();
        let mut next_key = 0;
        if let Ok(sr) = catalog
            .get(b"StructTreeRoot")
            .and_then(Object::as_reference)
        {
            skip.insert(sr.0);
            // What pointed at the chunk's root points at the merged one.
            map.insert(sr.0, self.struct_root);
            let root = doc.get_dictionary(sr).map_err(broken)?;
            let mut kids = Vec::new();
            for k in refs(root.get(b"K").ok()) {
                let elem = doc.get_dictionary(k).map_err(broken)?;
                if elem.get(b"S").and_then(Object::as_name).ok() == Some(b"Document")
                    && doc_elem.is_none()
                {
                    doc_elem = Some((k, elem.clone()));
                    skip.insert(k.0);
                    map.insert(k.0, self.document);
                } else {
                    kids.push(Object::Reference(k));
                }
            }
            if let Some((_, elem)) = &doc_elem {
                match elem.get(b"K") {
                    Ok(Object::Array(a)) => kids.extend(a.iter().cloned()),
                    Ok(k) => kids.push(k.clone()),
                    Err(_) => {}
                }
            }
            // The empty headings before a chunk's own (see `Chunk::lead`).
            for lead in kids.drain(..chunk.lead.min(kids.len())) {
                let is_heading = |r: ObjectId| {
                    let elem = doc.get_dictionary(r).ok()?;
                    let role = elem.get(b"S").and_then(Object::as_name).ok()?;
                    let empty = match elem.get(b"K") {
                        Err(_) => true,
                        Ok(Object::Array(a)) => a.is_empty(),
                        Ok(_) => false,
                    };
                    (role.first() == Some(&b'H') && empty).then_some(r)
                };
                match lead.as_reference().ok().and_then(is_heading) {
                    Some(r) => {
                        skip.insert(r.0);
                    }
                    None => return Err(broken("a chunk's lead heading is not where it was put")),
                }
            }
            tree.kids
                .extend(kids.into_iter().map(|k| self.renumbered(k, &map)));
            if let Ok(pt) = root.get(b"ParentTree") {
                number_tree(doc, pt, b"Nums", &mut skip, &mut parent_tree);
            }
            next_key = match root.get(b"ParentTreeNextKey").and_then(Object::as_i64) {
                Ok(k) => k,
                Err(_) => parent_tree
                    .iter()
                    .filter_map(|(k, _)| k.as_i64().ok())
                    .max()
                    .map_or(0, |k| k + 1),
            };
            if let Ok(rm) = root.get(b"RoleMap") {
                if let Ok(r) = rm.as_reference() {
                    skip.insert(r.0);
                }
                if let Ok((_, Object::Dictionary(d))) = doc.dereference(rm) {
                    for (k, v) in d.iter() {
                        if !tree.role_map.has(k) {
                            tree.role_map.set(k.clone(), v.clone());
                        }
                    }
                }
            }
            if let Ok(ids) = root.get(b"IDTree") {
                let mut found = Vec::new();
                number_tree(doc, ids, b"Names", &mut skip, &mut found);
                for (k, v) in found {
                    let Object::String(k, _) = k else { continue };
                    // Each chunk numbers its ids (notes, table cells) from 1:
                    // one another chunk has is made unique.
                    let mut unique = k.clone();
                    if tree.ids.contains_key(&k) {
                        unique.extend_from_slice(format!("-{}", self.chunk).as_bytes());
                        renamed.insert(k, unique.clone());
                    }
                    tree.ids.insert(unique, self.renumbered(v, &map));
                }
            }
            struct_root = Some(root.clone());
        }

        // Bookmarks (rebuilt from the headings), named destinations, labels.
        if let Ok(o) = catalog.get(b"Outlines").and_then(Object::as_reference) {
            outline_items(doc, o, &mut skip);
        }
        tree.bookmarks
            .extend(chunk.bookmarks.iter().map(|b| (b.clone(), self.offset)));
        let mut dests = Vec::new();
        if let Ok(names) = catalog.get(b"Names") {
            if let Ok(r) = names.as_reference() {
                skip.insert(r.0);
            }
            if let Ok((_, Object::Dictionary(names))) = doc.dereference(names)
                && let Ok(d) = names.get(b"Dests")
            {
                number_tree(doc, d, b"Names", &mut skip, &mut dests);
            }
        }
        if let Ok(d) = catalog.get(b"Dests") {
            if let Ok(r) = d.as_reference() {
                skip.insert(r.0);
            }
            if let Ok((_, Object::Dictionary(d))) = doc.dereference(d) {
                for (k, v) in d.iter() {
                    dests.push((Object::String(k.clone(), StringFormat::Literal), v.clone()));
                }
            }
        }
        for (k, v) in dests {
            if let Object::String(k, _) = k {
                // The first of a name, as typst-pdf keeps in one document.
                tree.dests
                    .entry(k)
                    .or_insert_with(|| self.renumbered(v, &map));
            }
        }
        let mut labels = Vec::new();
        if let Ok(l) = catalog.get(b"PageLabels") {
            number_tree(doc, l, b"Nums", &mut skip, &mut labels);
            if let Ok(r) = l.as_reference() {
                skip.insert(r.0);
            }
        }
        for (k, v) in labels {
            if let Ok(k) = k.as_i64() {
                let v = self.renumbered(v, &map);
                tree.labels.push((k + self.offset as i64, v));
            }
        }
        let info = doc.trailer.get(b"Info").ok().cloned();
        let metadata = catalog.get(b"Metadata").and_then(Object::as_reference).ok();
        if !is_meta {
            skip.extend(
                info.as_ref()
                    .and_then(|i| i.as_reference().ok())
                    .map(|r| r.0),
            );
            skip.extend(metadata.map(|r| r.0));
        }

        // Links between chunks: pointed at their page, or dropped.
        let mut dropped: BTreeSet<u32> = BTreeSet::new();
        let mut dropped_keys: BTreeSet<i64> = BTreeSet::new();
        let mut retarget: BTreeMap<u32, Object> = BTreeMap::new();
        for (&id, object) in &doc.objects {
            let Ok(dict) = object.as_dict() else { continue };
            if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Link") {
                continue;
            }
            let Ok((_, Object::Dictionary(action))) =
                dict.get(b"A").and_then(|a| doc.dereference(a))
            else {
                continue;
            };
            let Ok(uri) = action.get(b"URI").and_then(Object::as_str) else {
                continue;
            };
            let uri = String::from_utf8_lossy(uri);
            match (self.input.link)(&uri) {
                Link::Keep => {}
                Link::Drop => {
                    dropped.insert(id.0);
                    if let Ok(k) = dict.get(b"StructParent").and_then(Object::as_i64) {
                        dropped_keys.insert(k);
                    }
                }
                Link::To { page, x, y } => {
                    retarget.insert(id.0, self.xyz(page, x, y));
                }
            }
        }

        for (k, v) in parent_tree {
            let Ok(k) = k.as_i64() else { continue };
            if dropped_keys.contains(&k) {
                continue;
            }
            let v = self.renumbered(v, &map);
            tree.parent_tree
                .push((Object::Integer(k + tree.next_key), v));
        }

        let page_ids: BTreeSet<u32> = pages.iter().map(|p| p.0).collect();
        let inherited = self.renumbered_dict(inherited, &map);
        for (&id, object) in &doc.objects {
            if skip.contains(&id.0) || dropped.contains(&id.0) {
                continue;
            }
            let mut object = object.clone();
            self.rewrite_text(&mut object, false);
            if !renamed.is_empty() {
                rename_ids(&mut object, &renamed);
            }
            drop_refs(&mut object, &dropped);
            // What is renumbered is the chunk's; what is set after, the merge's.
            let mut object = self.renumbered(object, &map);
            if let Some(dict) = dict_of(&mut object) {
                if page_ids.contains(&id.0) {
                    dict.set("Parent", Object::Reference((self.pages_root, 0)));
                    for (k, v) in inherited.iter() {
                        if !dict.has(k) {
                            dict.set(k.clone(), v.clone());
                        }
                    }
                    shift_key(dict, b"StructParents", tree.next_key);
                }
                if dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Link") {
                    shift_key(dict, b"StructParent", tree.next_key);
                    if let Some(dest) = retarget.get(&id.0) {
                        dict.remove(b"A");
                        dict.set("Dest", dest.clone());
                    }
                }
            }
            out.put(self.new_id(id.0, &map), object)?;
        }
        tree.next_key += next_key;

        if !is_meta {
            return Ok(None);
        }
        let mut cat = catalog.clone();
        cat.remove(b"Pages");
        Ok(Some(Meta {
            catalog: self.renumbered_dict(cat, &map),
            struct_root: struct_root.map(|mut r| {
                for key in ["K", "ParentTree", "ParentTreeNextKey", "RoleMap", "IDTree"] {
                    r.remove(key.as_bytes());
                }
                self.renumbered_dict(r, &map)
            }),
            document: doc_elem.map(|(_, mut e)| {
                e.remove(b"K");
                e.remove(b"P");
                self.renumbered_dict(e, &map)
            }),
            info: info.map(|i| self.renumbered(i, &map)),
            id: doc.trailer.get(b"ID").ok().cloned(),
        }))
    }

    fn new_id(&self, old: u32, map: &BTreeMap<u32, u32>) -> u32 {
        map.get(&old).copied().unwrap_or(self.base + old)
    }

    fn renumbered(&self, mut object: Object, map: &BTreeMap<u32, u32>) -> Object {
        renumber(&mut object, &|id| self.new_id(id, map));
        object
    }

    fn renumbered_dict(&self, dict: Dictionary, map: &BTreeMap<u32, u32>) -> Dictionary {
        match self.renumbered(Object::Dictionary(dict), map) {
            Object::Dictionary(d) => d,
            _ => Dictionary::new(),
        }
    }

    /// An explicit destination on merged page `page`, as typst-pdf writes
    /// one (10 pt above the point, see its `pos_to_xyz`).
    fn xyz(&self, page: usize, x: f64, y: f64) -> Object {
        let height = self.heights.get(page).copied().unwrap_or(0.0);
        xyz_dest((self.page_id)(page), height, x, y)
    }

    /// Replaces the strings `Pieces::text` replaces (not URIs).
    fn rewrite_text(&self, object: &mut Object, in_uri: bool) {
        match object {
            Object::String(bytes, format) if !in_uri => {
                if let Some(text) = decode(bytes)
                    && let Some(new) = (self.input.text)(&text)
                {
                    let (b, f) = encode(&new);
                    *bytes = b;
                    *format = f;
                }
            }
            Object::Array(items) => items.iter_mut().for_each(|i| self.rewrite_text(i, false)),
            Object::Dictionary(d) => {
                for (k, v) in d.iter_mut() {
                    self.rewrite_text(v, k == b"URI");
                }
            }
            Object::Stream(s) => {
                for (k, v) in s.dict.iter_mut() {
                    self.rewrite_text(v, k == b"URI");
                }
            }
            _ => {}
        }
    }
}

/// Struct element ids (`/ID`) and the table header cells they name
/// (`/Headers`), renamed.
fn rename_ids(object: &mut Object, renamed: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let rename = |o: &mut Object| {
        if let Object::String(s, _) = o
            && let Some(new) = renamed.get(s)
        {
            s.clone_from(new);
        }
    };
    match object {
        Object::Array(items) => items.iter_mut().for_each(|i| rename_ids(i, renamed)),
        Object::Dictionary(d) => {
            for (k, v) in d.iter_mut() {
                match (k.as_slice(), v) {
                    (b"ID", v) => rename(v),
                    (b"Headers", Object::Array(items)) => items.iter_mut().for_each(rename),
                    (_, v) => rename_ids(v, renamed),
                }
            }
        }
        _ => {}
    }
}

/// `[page /XYZ x top null]` for a point `y` pt from the top of a page
/// `height` pt high.
fn xyz_dest(page: u32, height: f64, x: f64, y: f64) -> Object {
    let top = height - (y - 10.0).max(0.0);
    Object::Array(vec![
        Object::Reference((page, 0)),
        Object::Name(b"XYZ".to_vec()),
        Object::Real(x as f32),
        Object::Real(top as f32),
        Object::Null,
    ])
}

fn dict_of(object: &mut Object) -> Option<&mut Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&mut s.dict),
        _ => None,
    }
}

fn shift_key(dict: &mut Dictionary, key: &[u8], by: i64) {
    if let Ok(k) = dict.get(key).and_then(Object::as_i64) {
        dict.set(key.to_vec(), Object::Integer(k + by));
    }
}

/// The references an entry holds: one, or an array of them.
fn refs(object: Option<&Object>) -> Vec<ObjectId> {
    match object {
        Some(Object::Reference(r)) => vec![*r],
        Some(Object::Array(a)) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
        _ => Vec::new(),
    }
}

/// The page tree's inner nodes (skipped: the merge writes one), and what
/// their pages inherit from them.
fn page_nodes(
    doc: &Document,
    node: ObjectId,
    skip: &mut BTreeSet<u32>,
    inherited: &mut Dictionary,
) {
    let Ok(dict) = doc.get_dictionary(node) else {
        return;
    };
    if dict.get(b"Type").and_then(Object::as_name).ok() != Some(b"Pages") || !skip.insert(node.0) {
        return;
    }
    for key in ["Resources", "MediaBox", "CropBox", "Rotate"] {
        if let Ok(v) = dict.get(key.as_bytes())
            && !inherited.has(key.as_bytes())
        {
            inherited.set(key, v.clone());
        }
    }
    for kid in refs(dict.get(b"Kids").ok()) {
        page_nodes(doc, kid, skip, inherited);
    }
}

/// The items of an outline (skipped: the merge builds its own).
fn outline_items(doc: &Document, node: ObjectId, skip: &mut BTreeSet<u32>) {
    let mut next = Some(node);
    while let Some(id) = next {
        if !skip.insert(id.0) {
            return;
        }
        let Ok(dict) = doc.get_dictionary(id) else {
            return;
        };
        if let Ok(first) = dict.get(b"First").and_then(Object::as_reference) {
            outline_items(doc, first, skip);
        }
        next = dict.get(b"Next").and_then(Object::as_reference).ok();
    }
}

/// The entries of a number tree (`leaf` = "Nums") or name tree ("Names"),
/// in order; its indirect nodes are skipped.
fn number_tree(
    doc: &Document,
    node: &Object,
    leaf: &[u8],
    skip: &mut BTreeSet<u32>,
    found: &mut Vec<(Object, Object)>,
) {
    if let Ok(r) = node.as_reference()
        && !skip.insert(r.0)
    {
        return;
    }
    let Ok((_, Object::Dictionary(dict))) = doc.dereference(node) else {
        return;
    };
    if let Ok(Object::Array(items)) = dict.get(leaf) {
        for pair in items.chunks(2) {
            if let [k, v] = pair {
                found.push((k.clone(), v.clone()));
            }
        }
    }
    if let Ok(Object::Array(kids)) = dict.get(b"Kids") {
        for kid in kids {
            number_tree(doc, kid, leaf, skip, found);
        }
    }
}

fn renumber(object: &mut Object, f: &dyn Fn(u32) -> u32) {
    match object {
        Object::Reference(r) => *r = (f(r.0), 0),
        Object::Array(items) => items.iter_mut().for_each(|i| renumber(i, f)),
        Object::Dictionary(d) => d.iter_mut().for_each(|(_, v)| renumber(v, f)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, v)| renumber(v, f)),
        _ => {}
    }
}

/// Whether an object is, or (an object reference dictionary) stands for,
/// a dropped object.
fn is_dropped(object: &Object, dropped: &BTreeSet<u32>) -> bool {
    match object {
        Object::Reference(r) => dropped.contains(&r.0),
        Object::Dictionary(d) => d
            .get(b"Obj")
            .and_then(Object::as_reference)
            .is_ok_and(|r| dropped.contains(&r.0)),
        _ => false,
    }
}

/// Removes what refers to a dropped object: array items, dictionary entries.
fn drop_refs(object: &mut Object, dropped: &BTreeSet<u32>) {
    if dropped.is_empty() {
        return;
    }
    match object {
        Object::Array(items) => {
            items.retain(|i| !is_dropped(i, dropped));
            items.iter_mut().for_each(|i| drop_refs(i, dropped));
        }
        Object::Dictionary(d) => drop_entries(d, dropped),
        Object::Stream(s) => drop_entries(&mut s.dict, dropped),
        _ => {}
    }
}

fn drop_entries(d: &mut Dictionary, dropped: &BTreeSet<u32>) {
    let gone: Vec<Vec<u8>> = d
        .iter()
        .filter(|(_, v)| is_dropped(v, dropped))
        .map(|(k, _)| k.clone())
        .collect();
    for k in gone {
        d.remove(&k);
    }
    d.iter_mut().for_each(|(_, v)| drop_refs(v, dropped));
}

/// A PDF text string's text, if it reads as one.
fn decode(bytes: &[u8]) -> Option<String> {
    match bytes {
        [0xFE, 0xFF, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => std::str::from_utf8(bytes).ok().map(str::to_string),
    }
}

/// A text string: ASCII as it is, anything else UTF-16BE.
fn encode(text: &str) -> (Vec<u8>, StringFormat) {
    if text.is_ascii() {
        return (text.as_bytes().to_vec(), StringFormat::Literal);
    }
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    (bytes, StringFormat::Hexadecimal)
}

/// A number tree ("Nums") or name tree ("Names") of these entries, in
/// leaves of [`PER_LEAF`]: its root.
fn write_tree(out: &mut Out, leaf: &str, entries: Vec<(Object, Object)>) -> Result<Object> {
    let flat = |entries: &[(Object, Object)]| {
        Object::Array(
            entries
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect(),
        )
    };
    let mut root = Dictionary::new();
    if entries.len() <= PER_LEAF {
        root.set(leaf, flat(&entries));
    } else {
        let mut kids = Vec::new();
        for part in entries.chunks(PER_LEAF) {
            let (Some(first), Some(last)) = (part.first(), part.last()) else {
                continue;
            };
            let mut node = Dictionary::new();
            node.set(
                "Limits",
                Object::Array(vec![first.0.clone(), last.0.clone()]),
            );
            node.set(leaf, flat(part));
            let id = out.alloc();
            out.put(id, Object::Dictionary(node))?;
            kids.push(Object::Reference((id, 0)));
        }
        root.set("Kids", Object::Array(kids));
    }
    let id = out.alloc();
    out.put(id, Object::Dictionary(root))?;
    Ok(Object::Reference((id, 0)))
}

/// Page label ranges in page order, one where a chunk's only continues
/// the one before (same style and prefix, numbered on).
fn page_labels(mut labels: Vec<(i64, Object)>) -> Vec<(Object, Object)> {
    labels.sort_by_key(|(k, _)| *k);
    let part = |d: &Object, key: &[u8]| d.as_dict().ok().and_then(|d| d.get(key).ok().cloned());
    let start = |d: &Object| part(d, b"St").and_then(|s| s.as_i64().ok()).unwrap_or(1);
    let mut kept: Vec<(i64, Object)> = Vec::new();
    for (k, v) in labels {
        if let Some((pk, pv)) = kept.last() {
            let same = part(pv, b"S") == part(&v, b"S") && part(pv, b"P") == part(&v, b"P");
            if same && part(&v, b"S").is_some() && start(pv) + (k - pk) == start(&v) {
                continue;
            }
        }
        kept.push((k, v));
    }
    kept.into_iter()
        .map(|(k, v)| (Object::Integer(k), v))
        .collect()
}

/// The bookmarks, nested as typst-pdf nests a document's headings, each
/// closed: the outline dictionary, if there is any bookmark.
fn write_outline(
    out: &mut Out,
    bookmarks: &[(Bookmark, usize)],
    heights: &[f64],
    page_id: &dyn Fn(usize) -> u32,
) -> Result<Option<Object>> {
    let flat = bookmarks
        .iter()
        .enumerate()
        .map(|(i, (b, _))| (i, b.level, b.include));
    let tree = OutlineNode::build_tree(flat);
    if tree.is_empty() {
        return Ok(None);
    }
    let root = out.alloc();
    let (first, last) = write_items(out, &tree, root, bookmarks, heights, page_id)?;
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"Outlines".to_vec()));
    dict.set("First", Object::Reference((first, 0)));
    dict.set("Last", Object::Reference((last, 0)));
    dict.set("Count", Object::Integer(tree.len() as i64));
    out.put(root, Object::Dictionary(dict))?;
    Ok(Some(Object::Reference((root, 0))))
}

/// Writes sibling outline items under `parent`: the first's and last's ids.
fn write_items(
    out: &mut Out,
    nodes: &[OutlineNode<usize>],
    parent: u32,
    all: &[(Bookmark, usize)],
    heights: &[f64],
    page_id: &dyn Fn(usize) -> u32,
) -> Result<(u32, u32)> {
    let ids: Vec<u32> = nodes.iter().map(|_| out.alloc()).collect();
    for (i, node) in nodes.iter().enumerate() {
        let (b, offset) = &all[node.entry];
        let page = offset + b.at.page.get() - 1;
        let height = heights.get(page).copied().unwrap_or(0.0);
        let mut dict = Dictionary::new();
        let (title, format) = encode(&b.title);
        dict.set("Title", Object::String(title, format));
        dict.set("Parent", Object::Reference((parent, 0)));
        if i > 0 {
            dict.set("Prev", Object::Reference((ids[i - 1], 0)));
        }
        if let Some(next) = ids.get(i + 1) {
            dict.set("Next", Object::Reference((*next, 0)));
        }
        if !node.children.is_empty() {
            let (first, last) = write_items(out, &node.children, ids[i], all, heights, page_id)?;
            dict.set("First", Object::Reference((first, 0)));
            dict.set("Last", Object::Reference((last, 0)));
            dict.set("Count", Object::Integer(-(node.children.len() as i64)));
        }
        let (x, y) = (b.at.point.x.to_pt(), b.at.point.y.to_pt());
        dict.set("Dest", xyz_dest(page_id(page), height, x, y));
        out.put(ids[i], Object::Dictionary(dict))?;
    }
    Ok((ids[0], ids[ids.len() - 1]))
}

/// Where an object is in the file.
#[derive(Clone, Copy)]
enum Entry {
    At(u64),
    In { stream: u32, index: u32 },
}

/// The merged PDF as it is written: objects go into object streams (or,
/// streams themselves, straight out), a cross-reference stream at the end.
struct Out {
    bytes: Vec<u8>,
    entries: BTreeMap<u32, Entry>,
    next: u32,
    pending: Vec<(u32, Object)>,
}

impl Out {
    /// `first`: the first id not reserved.
    fn new(version: &str, first: u32) -> Self {
        let mut bytes = Vec::new();
        // The binary comment tells transfer programs the file is binary.
        bytes.extend_from_slice(format!("%PDF-{version}\n%\u{e2}\u{e3}\n").as_bytes());
        Self {
            bytes,
            entries: BTreeMap::new(),
            next: first,
            pending: Vec::new(),
        }
    }

    fn alloc(&mut self) -> u32 {
        self.reserve(1)
    }

    /// `n` ids, the first returned.
    fn reserve(&mut self, n: u32) -> u32 {
        let first = self.next;
        self.next += n;
        first
    }

    fn put(&mut self, id: u32, object: Object) -> Result<()> {
        match object {
            Object::Stream(mut s) => {
                s.dict
                    .set("Length", Object::Integer(s.content.len() as i64));
                self.direct(id, &Object::Stream(s))
            }
            o => {
                self.pending.push((id, o));
                if self.pending.len() >= PER_STREAM {
                    self.flush()?;
                }
                Ok(())
            }
        }
    }

    fn direct(&mut self, id: u32, object: &Object) -> Result<()> {
        self.entries.insert(id, Entry::At(self.bytes.len() as u64));
        let _ = writeln!(self.bytes, "{id} 0 obj");
        Writer::write_object(&mut self.bytes, object).map_err(broken)?;
        self.bytes.extend_from_slice(b"\nendobj\n");
        Ok(())
    }

    /// The objects waiting as one object stream.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        // An object stream lists its objects by id.
        pending.sort_by_key(|(id, _)| *id);
        let mut stream = ObjectStream::builder()
            .max_objects(PER_STREAM)
            .compression_level(6)
            .build();
        let container = self.alloc();
        for (index, (id, object)) in pending.into_iter().enumerate() {
            self.entries.insert(
                id,
                Entry::In {
                    stream: container,
                    index: index as u32,
                },
            );
            stream.add_object((id, 0), object).map_err(broken)?;
        }
        let stream = stream.to_stream_object().map_err(broken)?;
        self.put(container, Object::Stream(stream))
    }

    /// The cross-reference stream after the objects: the file.
    fn finish(mut self, mut trailer: Dictionary) -> Result<Vec<u8>> {
        self.flush()?;
        let xref = self.alloc();
        let at = self.bytes.len() as u64;
        self.entries.insert(xref, Entry::At(at));
        let size = self.next;
        // Offsets as wide as the file needs.
        let width = (1..=8).find(|w| at < 1u64 << (8 * w)).unwrap_or(8);
        let mut rows = Vec::with_capacity(size as usize * (width + 3));
        for id in 0..size {
            let (kind, field, extra): (u8, u64, u16) = match self.entries.get(&id) {
                None if id == 0 => (0, 0, 65535),
                None => (0, 0, 0),
                Some(Entry::At(offset)) => (1, *offset, 0),
                Some(Entry::In { stream, index }) => (2, u64::from(*stream), *index as u16),
            };
            rows.push(kind);
            rows.extend_from_slice(&field.to_be_bytes()[8 - width..]);
            rows.extend_from_slice(&extra.to_be_bytes());
        }
        trailer.set("Type", Object::Name(b"XRef".to_vec()));
        trailer.set("Size", Object::Integer(i64::from(size)));
        trailer.set(
            "W",
            Object::Array(vec![
                Object::Integer(1),
                Object::Integer(width as i64),
                Object::Integer(2),
            ]),
        );
        let mut stream = Stream::new(trailer, rows);
        stream.compress().map_err(broken)?;
        stream
            .dict
            .set("Length", Object::Integer(stream.content.len() as i64));
        let _ = writeln!(self.bytes, "{xref} 0 obj");
        Writer::write_object(&mut self.bytes, &Object::Stream(stream)).map_err(broken)?;
        let _ = write!(self.bytes, "\nendobj\nstartxref\n{at}\n%%EOF\n");
        Ok(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(source: &str) -> Chunk {
        let pdf = crate::render::pdf::typeset_markup(source)
            .expect("typesets")
            .0;
        let doc = Document::load_mem(&pdf).expect("reads");
        let heights = doc
            .get_pages()
            .values()
            .map(|&id| {
                let page = doc.get_dictionary(id).expect("page");
                let media = page
                    .get(b"MediaBox")
                    .and_then(Object::as_array)
                    .expect("media box");
                f64::from(media[3].as_float().expect("height"))
            })
            .collect();
        Chunk {
            pdf,
            heights,
            ua: false,
            bookmarks: Vec::new(),
            lead: 0,
        }
    }

    fn annotations(doc: &Document) -> Vec<&Dictionary> {
        doc.objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| d.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Link"))
            .collect()
    }

    #[test]
    fn chunks_merge_into_one_pdf_with_their_links_between_them() {
        let one = chunk(
            "= One\n\n#link(\"quire:two\")[to two] and #link(\"https://example.org/\")[the web]\n#pagebreak()\nMore.",
        );
        let two = chunk("= Two\n\nBack #link(\"quire:gone\")[elsewhere].");
        let pieces = Pieces {
            pieces: vec![&one, &two],
            meta: 0,
            link: Box::new(|uri| match uri {
                "quire:two" => Link::To {
                    page: 2,
                    x: 10.0,
                    y: 110.0,
                },
                "quire:gone" => Link::Drop,
                _ => Link::Keep,
            }),
            text: Box::new(|_| None),
        };
        let merged = merge(&pieces).expect("merges");
        assert_eq!(merged, merge(&pieces).expect("merges again"), "same bytes");
        let doc = Document::load_mem(&merged).expect("the merged PDF reads");
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        assert_eq!(pages.len(), 3);
        let links = annotations(&doc);
        let uri = |d: &&Dictionary| {
            d.get(b"A")
                .and_then(Object::as_dict)
                .and_then(|a| a.get(b"URI"))
                .and_then(Object::as_str)
                .map(|u| String::from_utf8_lossy(u).into_owned())
                .ok()
        };
        let uris: Vec<String> = links.iter().filter_map(uri).collect();
        assert_eq!(
            uris,
            ["https://example.org/"],
            "the web link stays, the dropped one goes"
        );
        let dests: Vec<&Vec<Object>> = links
            .iter()
            .filter_map(|d| d.get(b"Dest").and_then(Object::as_array).ok())
            .collect();
        assert_eq!(dests.len(), 1, "the link to the second chunk");
        assert_eq!(dests[0][0].as_reference().expect("page"), pages[2]);
        let top = f64::from(dests[0][3].as_float().expect("top"));
        assert!((top - (one.heights[0] - 100.0)).abs() < 0.01, "{top}");
        // Every page hangs from the one page tree; every annotation is on a page.
        let root = doc
            .catalog()
            .expect("catalog")
            .get(b"Pages")
            .and_then(Object::as_reference)
            .expect("pages");
        for &page in &pages {
            let dict = doc.get_dictionary(page).expect("page");
            assert_eq!(
                dict.get(b"Parent").and_then(Object::as_reference).ok(),
                Some(root)
            );
        }
    }

    #[test]
    fn page_label_ranges_that_only_number_on_are_joined() {
        let label = |style: &[u8], start: i64| {
            let mut d = Dictionary::new();
            d.set("S", Object::Name(style.to_vec()));
            d.set("St", Object::Integer(start));
            Object::Dictionary(d)
        };
        // Two chunks numbered 1-4 and 5-: one range; then roman from 1 again.
        let joined = page_labels(vec![
            (0, label(b"D", 1)),
            (4, label(b"D", 5)),
            (9, label(b"r", 1)),
        ]);
        let keys: Vec<i64> = joined
            .iter()
            .map(|(k, _)| k.as_i64().expect("key"))
            .collect();
        assert_eq!(keys, [0, 9]);
    }
}
