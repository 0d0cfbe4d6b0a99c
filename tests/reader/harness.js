// Runs inside the reader page (headless Chromium), beside epub.js: opens the
// EPUB the way a reading app does (the zip itself, paginated, one column) and
// measures what the engine laid out. check.mjs drives it through Playwright.
'use strict';

let book = null;
let rendition = null;
// spine index -> ids in that document, for fragment checks at the end
const idsBySpine = new Map();

// Sub-pixel slack: rects are fractional, and a glyph touching the column edge is fine.
const TOLERANCE = 1;
const MAX_REPORTED = 12;
// Replaced elements have boxes of their own even when inline; other inline
// boxes are judged by their text, word by word (a space hanging past the
// edge at a soft wrap in pre-wrap text is not content).
const REPLACED = new Set(['img', 'svg', 'video', 'canvas', 'iframe', 'object', 'embed', 'input', 'image']);

// Escaped markup as a reader would see it: a tag (`<p>`, `</a>`, `<span class=`)
// or a character reference (`&lt;`, `&#60;`) left in the text. Only element
// names an EPUB page is made of count: a title may well say "<tag>" or "<lt>".
const ELEMENTS = 'a|abbr|article|aside|b|blockquote|body|br|caption|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|em|figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|img|ins|kbd|li|link|main|mark|math|meta|mfrac|mi|mn|mo|mrow|msqrt|msub|msubsup|msup|mtable|mtd|mtext|mtr|nav|ol|p|picture|pre|q|s|samp|script|section|semantics|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|tfoot|th|thead|time|title|tr|u|ul|var|wbr';
const TAG_TEXT = new RegExp(`<\\/?(${ELEMENTS})(\\s+[A-Za-z:-]+(=|\\s|\\/?>)|\\s*\\/?>)`, 'i');
const ENTITY_TEXT = /&(lt|gt|amp|quot|apos|nbsp|#[0-9]+|#x[0-9a-fA-F]+);/;
// Code legitimately shows tags (an HTML example); only a double-escaped
// entity is wrong there.
const CODE_SELECTOR = 'pre, code, kbd, samp';

// In a paginated reader a horizontal swipe turns the page (foliate-js's
// paginator cancels touchmove; e-ink readers don't scroll at all), so what a
// scroll region hides is content the reader doesn't see: it fails unless the
// caller allows scrolling (`allowScroll`, for engines that let one scroll).
let allowScroll = false;

window.quireOpen = async function quireOpen(url, width, height, allowScrollRegions) {
  allowScroll = !!allowScrollRegions;
  book = ePub(url, { openAs: 'epub' });
  await book.ready;
  const viewer = document.getElementById('viewer');
  viewer.style.width = width + 'px';
  viewer.style.height = height + 'px';
  rendition = book.renderTo(viewer, {
    width,
    height,
    flow: 'paginated',
    spread: 'none',
    manager: 'default',
  });
  const spine = [];
  book.spine.each((s) => spine.push({ index: s.index, href: s.href, linear: s.linear }));
  return { spine, nav: navLinks() };
};

// The contents (nav) as the engine parsed it: every entry must resolve too.
function navLinks() {
  const out = [];
  const walk = (items) => {
    for (const it of items || []) {
      out.push(it.href);
      walk(it.subitems);
    }
  };
  walk(book.navigation && book.navigation.toc);
  return out;
}

function manifestHrefs() {
  return new Set(Object.values(book.packaging.manifest).map((m) => m.href));
}

// Resolves an href relative to `base` (a path inside the OPF folder), as the
// engine's link handler does; returns {path, fragment} or null for external links.
function resolveHref(href, base) {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href)) return null;
  const u = new URL(href, 'http://book.invalid/' + base);
  return {
    path: decodeURIComponent(u.pathname.slice(1)),
    fragment: u.hash ? decodeURIComponent(u.hash.slice(1)) : '',
  };
}

function nextFrames(win, n) {
  return new Promise((resolve) => {
    const step = (left) => (left === 0 ? resolve() : win.requestAnimationFrame(() => step(left - 1)));
    step(n);
  });
}

async function settle(doc, win) {
  const pending = [...doc.images].filter((img) => !img.complete);
  await Promise.all(
    pending.map(
      (img) =>
        new Promise((resolve) => {
          img.addEventListener('load', resolve, { once: true });
          img.addEventListener('error', resolve, { once: true });
          setTimeout(resolve, 5000);
        }),
    ),
  );
  await doc.fonts.ready;
  await nextFrames(win, 2);
}

function columns(table) {
  return Math.max(0, ...[...table.rows].map((r) => r.cells.length));
}

function describe(el) {
  let s = el.localName;
  if (el.id) s += '#' + el.id;
  if (el.classList && el.classList.length) s += '.' + [...el.classList].join('.');
  // the nearest id above, so a reader of the report can find the place
  let up = el.parentElement;
  while (up && !up.id) up = up.parentElement;
  if (up && up !== el) s = (up.localName + '#' + up.id) + ' > … ' + s;
  return s;
}

function snippet(text) {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? t.slice(0, 77) + '…' : t;
}

// Nearest ancestor (below body) whose overflow is not visible: content inside it
// is positioned by it, so it is judged through it, not against the column.
function overflowBox(el, win, cache) {
  const chain = [];
  let cur = el.parentElement;
  let found = null;
  while (cur && cur.localName !== 'body' && cur.localName !== 'html') {
    if (cache.has(cur)) {
      found = cache.get(cur);
      break;
    }
    chain.push(cur);
    const cs = win.getComputedStyle(cur);
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') {
      found = cur;
      break;
    }
    cur = cur.parentElement;
  }
  for (const c of chain) cache.set(c, found);
  return found;
}

// What a clipping or scrolling box hides: the descendant box or word reaching
// furthest out of its padding box on `axis`, and by how much (a report says
// what is hidden: "msub", "td", a word). Layout overflow that holds no
// content (a line's strut below a formula) hides nothing.
function furthest(box, axis) {
  const b = box.getBoundingClientRect();
  const left = b.left + box.clientLeft;
  const top = b.top + box.clientTop;
  const right = left + box.clientWidth;
  const bottom = top + box.clientHeight;
  let best = null;
  const consider = (r, what, text) => {
    if (r.width <= 0 && r.height <= 0) return;
    const out = axis === 'x' ? Math.max(r.right - right, left - r.left) : Math.max(r.bottom - bottom, top - r.top);
    if (out > TOLERANCE && (!best || out > best.px)) best = { element: what, px: Math.round(out), text: snippet(text) };
  };
  for (const el of box.querySelectorAll('*')) {
    for (const r of el.getClientRects()) consider(r, el.localName, el.textContent);
  }
  const doc = box.ownerDocument;
  const range = doc.createRange();
  const walker = doc.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    for (const word of t.nodeValue.matchAll(/\S+/g)) {
      range.setStart(t, word.index);
      range.setEnd(t, word.index + word[0].length);
      for (const r of range.getClientRects()) consider(ink(r, word[0], t.parentElement), t.parentElement.localName, word[0]);
    }
  }
  return best;
}

// A word's ink inside its text box: the box spans the font's whole ascent and
// descent, the glyphs less ("12" has nothing below the baseline), so a clip
// through the empty part of the box hides nothing.
const measurers = new WeakMap();
function ink(r, word, el) {
  const doc = el.ownerDocument;
  let ctx = measurers.get(doc);
  if (!ctx) {
    ctx = doc.createElement('canvas').getContext('2d');
    measurers.set(doc, ctx);
  }
  ctx.font = doc.defaultView.getComputedStyle(el).font;
  const m = ctx.measureText(word);
  const top = r.top + Math.max(0, m.fontBoundingBoxAscent - m.actualBoundingBoxAscent);
  const bottom = r.bottom - Math.max(0, m.fontBoundingBoxDescent - m.actualBoundingBoxDescent);
  // Sideways the box stands: a word broken over two lines is measured whole.
  return { left: r.left, right: r.right, top, bottom: Math.max(top, bottom), width: r.width, height: Math.max(0, bottom - top) };
}

window.quireCheck = async function quireCheck(index) {
  const section = book.spine.get(index);
  await rendition.display(section.href);
  const contents = rendition.getContents().find((c) => c.sectionIndex === index);
  if (!contents) throw new Error('engine shows no contents for spine item ' + index);
  const doc = contents.document;
  const win = contents.window;
  await settle(doc, win);

  const body = doc.body;
  const bs = win.getComputedStyle(body);
  const br = body.getBoundingClientRect();
  const padL = parseFloat(bs.paddingLeft);
  const padR = parseFloat(bs.paddingRight);
  const padT = parseFloat(bs.paddingTop);
  const padB = parseFloat(bs.paddingBottom);
  const gap = parseFloat(bs.columnGap) || 0;
  // One column per page (spread: none): the text area of page k.
  const colW = br.width - padL - padR;
  const pitch = colW + gap;
  const colTop = br.top + padT;
  const colBottom = br.top + body.clientHeight - padB;
  const pages = Math.max(1, Math.round((doc.documentElement.scrollWidth - br.left) / pitch));

  const failures = { overflow: [], cut: [], scroll: [], markup: [], images: [] };
  const counts = { overflow: 0, cut: 0, scroll: 0, markup: 0, images: 0 };
  const note = (kind, item) => {
    counts[kind] += 1;
    if (failures[kind].length < MAX_REPORTED) failures[kind].push(item);
  };

  // A box is measured against the column of the page it starts on.
  const checkRect = (r, what, text) => {
    if (r.width <= 0 && r.height <= 0) return;
    const page = Math.min(pages - 1, Math.max(0, Math.floor((r.left - br.left) / pitch)));
    const left = br.left + padL + page * pitch;
    const right = left + colW;
    const past = {
      right: r.right - right,
      left: left - r.left,
      bottom: r.bottom - colBottom,
      top: colTop - r.top,
    };
    const worst = Object.entries(past).sort((a, b) => b[1] - a[1])[0];
    if (worst[1] > TOLERANCE) {
      note('overflow', {
        element: what,
        text: text ? snippet(text) : undefined,
        page: page + 1,
        edge: worst[0],
        px: Math.round(worst[1]),
        width: Math.round(r.width),
        column: Math.round(colW),
      });
    }
  };

  const boxCache = new Map();
  const scrollRegions = [];
  const judged = new Set();
  // Elements: every box fragment (one per line or column) against its column;
  // descendants of a clipping or scrolling box are judged through that box.
  for (const el of body.querySelectorAll('*')) {
    const box = overflowBox(el, win, boxCache);
    if (box) {
      if (!judged.has(box)) {
        judged.add(box);
        const cs = win.getComputedStyle(box);
        const scrolls = (v) => v === 'auto' || v === 'scroll';
        for (const [axis, mode] of [
          ['x', cs.overflowX],
          ['y', cs.overflowY],
        ]) {
          const beyond = furthest(box, axis);
          if (!beyond) continue;
          const item = { element: describe(box), axis, overflow: mode, px: beyond.px, hidden: beyond };
          if (scrolls(mode)) {
            scrollRegions.push(item);
            if (!allowScroll) note('scroll', item);
          } else {
            note('cut', item);
          }
        }
      }
      continue;
    }
    if (!REPLACED.has(el.localName) && win.getComputedStyle(el).display === 'inline') continue;
    for (const r of el.getClientRects()) checkRect(r, describe(el), null);
  }
  // Text: every word of every text node, each line fragment on its own (a
  // glyph run can outgrow its element; the spaces between words are not content).
  const range = doc.createRange();
  const walker = doc.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const text = t.nodeValue;
    if (!/\S/.test(text)) continue;
    const parent = t.parentElement;
    const inCode = parent.closest(CODE_SELECTOR) !== null;
    const found = (inCode ? [ENTITY_TEXT] : [TAG_TEXT, ENTITY_TEXT])
      .map((re) => text.match(re))
      .filter((m) => m)
      .sort((a, b) => a.index - b.index)[0];
    if (found) {
      const at = Math.max(0, found.index - 20);
      note('markup', { element: describe(parent), text: snippet(text.slice(at, at + 90)) });
    }
    if (overflowBox(t, win, boxCache)) continue;
    for (const word of text.matchAll(/\S+/g)) {
      range.setStart(t, word.index);
      range.setEnd(t, word.index + word[0].length);
      for (const r of range.getClientRects()) checkRect(r, describe(parent), word[0]);
    }
  }

  // Images: loaded and decoded, in the engine (which serves them from the zip).
  for (const img of doc.images) {
    if (!img.complete || img.naturalWidth === 0) {
      note('images', { element: describe(img), src: img.getAttribute('src') });
    }
  }
  for (const im of doc.getElementsByTagNameNS('http://www.w3.org/2000/svg', 'image')) {
    const href = im.getAttribute('href') || im.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    const ok = await new Promise((resolve) => {
      const probe = new Image();
      probe.onload = () => resolve(probe.naturalWidth > 0);
      probe.onerror = () => resolve(false);
      probe.src = new URL(href, im.baseURI).href;
      setTimeout(() => resolve(false), 5000);
    });
    if (!ok) note('images', { element: describe(im), src: href });
  }

  // Links: resolved now against the section, checked once every id is known.
  const links = [];
  let external = 0;
  for (const a of doc.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    const target = resolveHref(href, section.href);
    if (target === null) {
      external += 1;
      continue;
    }
    links.push({ href, element: describe(a), text: snippet(a.textContent), ...target });
  }
  idsBySpine.set(index, new Set([...doc.querySelectorAll('[id]')].map((e) => e.id)));

  const features = {
    pre: doc.querySelectorAll('pre').length,
    tables: doc.querySelectorAll('table').length,
    tableColumns: Math.max(0, ...[...doc.querySelectorAll('table')].map(columns)),
    math: doc.querySelectorAll('math').length,
    displayMath: doc.querySelectorAll('.math-display').length,
    images: doc.images.length,
  };
  return {
    index,
    href: section.href,
    pages,
    column: Math.round(colW),
    counts,
    failures,
    scrollRegions,
    links,
    external,
    features,
  };
};

// Every collected link against the engine's spine (what a tap would open) and
// the ids of the document it opens.
window.quireResolveLinks = function quireResolveLinks(linksBySpine, nav) {
  const manifest = manifestHrefs();
  const broken = [];
  let checked = 0;
  const judge = (from, l) => {
    checked += 1;
    const item = book.spine.get(l.path);
    if (!item) {
      if (manifest.has(l.path) && !l.fragment) return;
      broken.push({ from, href: l.href, element: l.element, text: l.text, reason: 'not in the spine' });
      return;
    }
    if (!l.fragment) return;
    const ids = idsBySpine.get(item.index);
    if (!ids) {
      broken.push({ from, href: l.href, element: l.element, reason: 'target document was not rendered' });
    } else if (!ids.has(l.fragment)) {
      broken.push({ from, href: l.href, element: l.element, text: l.text, reason: 'no id "' + l.fragment + '" in ' + item.href });
    }
  };
  for (const [from, links] of linksBySpine) for (const l of links) judge(from, l);
  const navBase = book.packaging.navPath || '';
  for (const href of nav) {
    const t = resolveHref(href, navBase);
    if (t) judge('nav', { href, element: 'nav', text: '', ...t });
  }
  return { checked, broken };
};

// Taps a link the way a reader does (the engine's own click handler) and
// checks where the engine went: the target document, with the target element
// on the page shown. One link per spine item (to another document no tap
// opened yet, with a fragment if there is one) keeps this quick; quireResolveLinks
// judges every link.
window.quireFollow = async function quireFollow(index, tappedBefore) {
  const section = book.spine.get(index);
  const here = rendition.currentLocation();
  if (!here || !here.start || here.start.href !== section.href) await rendition.display(section.href);
  const contents = rendition.getContents().find((c) => c.sectionIndex === index);
  // A document not opened by a tap yet, so that the taps cover many targets.
  const seen = new Set(tappedBefore);
  const internal = [...contents.document.querySelectorAll('a[href]')]
    .map((a) => ({ a, target: resolveHref(a.getAttribute('href'), section.href) }))
    .filter((l) => l.target && l.target.path !== section.href && book.spine.get(l.target.path) && !seen.has(l.target.path));
  const pick = internal.find((l) => l.target.fragment) || internal[0];
  if (!pick) return null;
  const href = pick.a.getAttribute('href');
  const problem = (reason) => ({ from: section.href, href, element: describe(pick.a), text: snippet(pick.a.textContent), reason });
  // Where the engine shows now: the document, and whether the target is on the page shown.
  const judge = () => {
    const where = rendition.currentLocation();
    const landed = where && where.start ? where.start.href : null;
    if (landed !== pick.target.path) return 'a tap opened ' + landed + ', not ' + pick.target.path;
    if (!pick.target.fragment) return null;
    const shownContents = rendition.getContents().find((c) => c.sectionIndex === book.spine.get(landed).index);
    const el = shownContents && shownContents.document.getElementById(pick.target.fragment);
    if (!el) return 'no element #' + pick.target.fragment + ' where the tap landed';
    const r = el.getBoundingClientRect();
    const body = shownContents.document.body.getBoundingClientRect();
    const page = Math.floor((r.left - body.left) / rendition._layout.delta) + 1;
    const shown = where.start.displayed.page;
    return page === shown ? null : 'the tap shows page ' + shown + ' of ' + landed + ', the target is on page ' + page;
  };
  // The engine navigates asynchronously: judged once it reports the target
  // document (or after 5 s).
  const arrived = new Promise((resolve) => {
    const done = () => {
      rendition.off('relocated', onRelocated);
      resolve();
    };
    const onRelocated = (loc) => {
      if (loc && loc.start && loc.start.href === pick.target.path) done();
    };
    rendition.on('relocated', onRelocated);
    setTimeout(done, 5000);
  });
  pick.a.click();
  await arrived;
  const verdict = judge();
  return verdict ? problem(verdict) : { ok: href, target: pick.target.path };
};

// Shows the page holding `selector`'s element chosen by `pick` (or the item's
// first page) for a screenshot.
window.quireShow = async function quireShow(index, selector, pick) {
  const section = book.spine.get(index);
  await rendition.display(section.href);
  const contents = rendition.getContents().find((c) => c.sectionIndex === index);
  await settle(contents.document, contents.window);
  if (!selector) return section.href;
  const els = [...contents.document.querySelectorAll(selector)];
  if (els.length === 0) return section.href;
  // The element most likely to show a defect: the widest, or the table with most columns.
  const score = { widest: (e) => e.scrollWidth, columns }[pick];
  const el = score ? els.reduce((a, b) => (score(b) > score(a) ? b : a)) : els[0];
  await rendition.display(section.cfiFromElement(el));
  await settle(contents.document, contents.window);
  return section.href + ' ' + describe(el);
};
