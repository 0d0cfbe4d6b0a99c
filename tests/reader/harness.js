// Runs inside the reader page (headless Chromium), beside a reading engine:
// opens the EPUB the way a reading app does (the zip itself, paginated, one
// column) and measures what the engine laid out. check.mjs drives it through
// Playwright. The measuring is engine-neutral; the epub.js adapter is below,
// the foliate-js one in harness-foliate.js (it replaces the window.quire* calls).
'use strict';

let book = null;
let rendition = null;
// What the checks need from the engine, set by its adapter: lookup(path) ->
// {index, href} of the spine document a link opens (or null), manifest() ->
// Set of every resource path, nav() -> [{href, base}] of the contents,
// shown() -> {doc, index} of the document on screen.
let engine = null;
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
  engine = {
    lookup: (path) => {
      const s = book.spine.get(path);
      return s ? { index: s.index, href: s.href } : null;
    },
    manifest: () => new Set(Object.values(book.packaging.manifest).map((m) => m.href)),
    nav: () => flattenToc(book.navigation && book.navigation.toc, (it) => it.subitems)
      .map((href) => ({ href, base: book.packaging.navPath || '' })),
    shown: () => {
      const c = rendition.getContents()[0];
      return c ? { doc: c.document, index: c.sectionIndex } : null;
    },
  };
  const spine = [];
  book.spine.each((s) => spine.push({ index: s.index, href: s.href, linear: s.linear }));
  return { spine };
};

// The contents (nav) as the engine parsed it: every entry must resolve too.
function flattenToc(items, children) {
  const out = [];
  const walk = (list) => {
    for (const it of list || []) {
      out.push(it.href);
      walk(children(it));
    }
  };
  walk(items);
  return out;
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
  // the top window's frames: a frame swapped out by the engine never gets one
  await nextFrames(window, 2);
}

function formulaLength(el) {
  const math = el.querySelector('math');
  return ((math && math.getAttribute('alttext')) || el.textContent).length;
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
  return measure(contents.document, index, section.href, (href) => resolveHref(href, section.href));
};

// Smallest text of an SVG image at its intrinsic width, found by the browser
// itself: a copy of the file laid out off-screen in the top document, its
// text elements' computed font sizes times their screen transforms (the
// cascade, em, style sheets and viewBox all as the engine applies them).
const svgTextCache = new Map();
async function svgText(url) {
  if (svgTextCache.has(url)) return svgTextCache.get(url);
  let found = null;
  try {
    const text = await (await fetch(url)).text();
    const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
    if (svg && svg.localName === 'svg') {
      const host = document.createElement('div');
      host.style.cssText = 'position:absolute;left:-20000px;top:0;visibility:hidden';
      const copy = document.importNode(svg, true);
      host.appendChild(copy);
      document.body.appendChild(host);
      const width = copy.getBoundingClientRect().width;
      let min = Infinity;
      for (const t of copy.querySelectorAll('text, tspan, textPath')) {
        if (![...t.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const m = t.getScreenCTM();
        const scale = m ? Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)) : 1;
        min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * scale);
      }
      host.remove();
      if (min < Infinity && width > 0) found = { px: min, width };
    }
  } catch (e) {
    found = null;
  }
  svgTextCache.set(url, found);
  return found;
}

// Every SVG image with text on the page, with the size its smallest text is
// drawn at: `<img>` in the flow and a plate's `<svg><image>` (turned or not).
async function figureLabels(doc) {
  const out = [];
  const shown = (r) => r.width > 0 && r.height > 0;
  for (const img of doc.images) {
    const r = img.getBoundingClientRect();
    if (!shown(r) || !img.currentSrc) continue;
    const t = await svgText(img.currentSrc);
    if (t) out.push({ name: img.alt, plate: false, label: +(t.px * r.width / t.width).toFixed(2) });
  }
  for (const image of doc.querySelectorAll('svg image')) {
    const r = image.getBoundingClientRect();
    const href = image.href && image.href.baseVal;
    if (!shown(r) || !href) continue;
    const t = await svgText(new URL(href, doc.baseURI).href);
    const w = image.width.baseVal.value;
    const h = image.height.baseVal.value;
    if (!t || !w || !h) continue;
    // Turned or upright, the drawn box's long side is the image's long side.
    const scale = Math.max(r.width, r.height) / Math.max(w, h);
    const svg = image.ownerSVGElement;
    const name = (svg && svg.getAttribute('aria-label')) || '';
    out.push({ name, plate: true, label: +(t.px * scale * w / t.width).toFixed(2) });
  }
  return out;
}

// The element the engine lays out in columns (epub.js: body; foliate-js: html).
function multicolRoot(doc) {
  const win = doc.defaultView;
  for (const el of [doc.body, doc.documentElement]) {
    const cs = win.getComputedStyle(el);
    if (cs.columnWidth !== 'auto' || cs.columnCount !== 'auto') return el;
  }
  return doc.body;
}

// Measures one laid-out document: `href` names it (a path inside the OPF
// folder), `resolve(attr)` resolves a link's href as the engine does.
async function measure(doc, index, href, resolve) {
  const win = doc.defaultView;
  await settle(doc, win);

  const body = doc.body;
  const root = multicolRoot(doc);
  const bs = win.getComputedStyle(root);
  const br = root.getBoundingClientRect();
  const px = (v) => parseFloat(v) || 0;
  const padL = px(bs.paddingLeft) + px(bs.borderLeftWidth);
  const padR = px(bs.paddingRight) + px(bs.borderRightWidth);
  const padT = px(bs.paddingTop) + px(bs.borderTopWidth);
  const padB = px(bs.paddingBottom) + px(bs.borderBottomWidth);
  const gap = px(bs.columnGap);
  // One column per page (spread: none), one page wide: the text area of page k.
  const colW = br.width - padL - padR;
  const pitch = colW + gap;
  const colTop = br.top + padT;
  const colBottom = br.bottom - padB;
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
      // An SVG's viewport is its picture's frame: what its viewBox leaves out
      // is not part of the picture (a plate's detail shows a part of an image).
      // The svg element's own box is judged against the column like any image.
      if (box.localName === 'svg' || box.closest('svg')) continue;
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
    const attr = a.getAttribute('href');
    const target = resolve(attr);
    if (target === null) {
      external += 1;
      continue;
    }
    links.push({ href: attr, element: describe(a), text: snippet(a.textContent), ...target });
  }
  idsBySpine.set(index, new Set([...doc.querySelectorAll('[id]')].map((e) => e.id)));

  const features = {
    pre: doc.querySelectorAll('pre').length,
    tables: doc.querySelectorAll('table').length,
    tableColumns: Math.max(0, ...[...doc.querySelectorAll('table')].map(columns)),
    math: doc.querySelectorAll('math').length,
    displayMath: doc.querySelectorAll('.math-display').length,
    // the longest display formula (a screenshot shows the hardest one to fit)
    mathLength: Math.max(0, ...[...doc.querySelectorAll('.math-display')].map(formulaLength)),
    images: doc.images.length,
  };
  const figures = await figureLabels(doc);
  return {
    figures,
    index,
    href,
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
window.quireResolveLinks = function quireResolveLinks(linksBySpine, withNav) {
  const manifest = engine.manifest();
  const broken = [];
  let checked = 0;
  const judge = (from, l) => {
    checked += 1;
    const item = engine.lookup(l.path);
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
  for (const { href, base } of withNav ? engine.nav() : []) {
    const t = resolveHref(href, base);
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
  const here = engine.shown();
  if (!here || here.index !== index) await rendition.display(section.href);
  return follow(engine.shown().doc, section.href, (attr) => resolveHref(attr, section.href), tappedBefore);
};

// Whether an element's top left corner is on the screen (the page shown).
function onScreen(el) {
  const frame = el.ownerDocument.defaultView.frameElement;
  const f = frame ? frame.getBoundingClientRect() : { left: 0, top: 0 };
  const r = el.getBoundingClientRect();
  const x = f.left + r.left;
  const y = f.top + r.top;
  return x >= -TOLERANCE && x < window.innerWidth - TOLERANCE && y >= -TOLERANCE && y < window.innerHeight;
}

// `tap(a)` clicks the link; an adapter may return the engine's navigation
// promise when it can reach it.
async function follow(doc, href, resolve, tappedBefore, tap = (a) => a.click()) {
  // A document not opened by a tap yet, so that the taps cover many targets.
  const seen = new Set(tappedBefore);
  const candidates = [...doc.querySelectorAll('a[href]')]
    .map((a) => ({ a, target: resolve(a.getAttribute('href')) }))
    .filter((l) => l.target && l.target.path !== href && !seen.has(l.target.path))
    .map((l) => ({ ...l, item: engine.lookup(l.target.path) }))
    .filter((l) => l.item);
  const pick = candidates.find((l) => l.target.fragment) || candidates[0];
  if (!pick) return null;
  const attr = pick.a.getAttribute('href');
  const judge = () => {
    const shown = engine.shown();
    if (!shown || shown.index !== pick.item.index) {
      return 'a tap shows spine item ' + (shown ? shown.index : 'none') + ', not ' + pick.item.href;
    }
    if (!pick.target.fragment) return null;
    const el = shown.doc.getElementById(pick.target.fragment);
    if (!el) return 'no element #' + pick.target.fragment + ' where the tap landed';
    return onScreen(el) ? null : 'the tap opened ' + pick.item.href + ' but #' + pick.target.fragment + ' is not on the page shown';
  };
  await tap(pick.a);
  // The engine navigates asynchronously; it has 5 s to show the target.
  const until = Date.now() + 5000;
  let verdict = judge();
  while (verdict && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    verdict = judge();
  }
  if (verdict) return { from: href, href: attr, element: describe(pick.a), text: snippet(pick.a.textContent), reason: verdict };
  return { ok: attr, target: pick.target.path };
}

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
  const score = { widest: (e) => e.scrollWidth, longest: formulaLength, columns }[pick];
  const el = score ? els.reduce((a, b) => (score(b) > score(a) ? b : a)) : els[0];
  await rendition.display(section.cfiFromElement(el));
  await settle(contents.document, contents.window);
  return section.href + ' ' + describe(el);
};
