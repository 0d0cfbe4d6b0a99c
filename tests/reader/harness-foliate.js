// The foliate-js adapter (the engine of the Foliate reader): replaces the
// window.quire* calls of harness.js, whose measuring it shares. Loaded as a
// module after harness.js; foliate-js is served from /foliate/.
import '/foliate/view.js';

let view = null;
// The OPF folder ("EPUB/"): foliate names sections by their path in the zip,
// reports use paths inside the OPF folder, as epub.js does.
let opfDir = '';
const inOpf = (zipPath) => (zipPath.startsWith(opfDir) ? zipPath.slice(opfDir.length) : zipPath);

// A link as foliate resolves it (section.resolveHref), as a path in the OPF folder.
function resolveIn(section, attr) {
  const full = section.resolveHref ? section.resolveHref(attr) : attr;
  if (!full || view.book.isExternal?.(full) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(full)) return null;
  const at = full.indexOf('#');
  const path = at < 0 ? full : full.slice(0, at);
  return { path: inOpf(decodeURI(path)), fragment: at < 0 ? '' : decodeURIComponent(full.slice(at + 1)) };
}

const current = () => {
  const c = view.renderer.getContents()[0];
  return c ? { doc: c.doc, index: c.index } : null;
};

// Shows spine item `index`; a navigation still under way (a tap) can swap the
// document out right after, so it is asked again until the document stays.
async function show(index) {
  for (let attempt = 0; attempt < 20; attempt++) {
    await view.renderer.goTo({ index });
    await new Promise((r) => setTimeout(r, attempt * 50));
    const c = view.renderer.getContents().find((x) => x.index === index);
    if (c && c.doc.defaultView) return c.doc;
  }
  throw new Error('foliate shows no contents for spine item ' + index);
}

window.quireOpen = async function quireOpen(url, width, height, allowScrollRegions) {
  allowScroll = !!allowScrollRegions;
  const blob = await (await fetch(url)).blob();
  const viewer = document.getElementById('viewer');
  viewer.style.width = width + 'px';
  viewer.style.height = height + 'px';
  view = document.createElement('foliate-view');
  view.style.width = width + 'px';
  view.style.height = height + 'px';
  view.style.display = 'block';
  viewer.append(view);
  await view.open(new File([blob], 'book.epub', { type: 'application/epub+zip' }));
  view.renderer.setAttribute('flow', 'paginated');
  view.renderer.setAttribute('max-column-count', '1');
  const ids = view.book.sections.map((s) => s.id);
  // foliate keeps the OPF's path to itself: the longest folder every manifest
  // item shares stands for it
  const hrefs = (view.book.resources?.manifest || []).map((m) => m.href).concat(ids);
  opfDir = hrefs.reduce((dir, h) => {
    while (dir && !h.startsWith(dir)) dir = dir.slice(0, dir.slice(0, -1).lastIndexOf('/') + 1);
    return dir;
  }, hrefs[0].slice(0, hrefs[0].lastIndexOf('/') + 1));
  const byPath = new Map(ids.map((id, index) => [inOpf(id), index]));
  engine = {
    lookup: (path) => {
      // the engine's own resolution of a path to a section
      const r = view.book.resolveHref(opfDir + path);
      const index = r && typeof r.index === 'number' ? r.index : byPath.get(path);
      return typeof index === 'number' && index >= 0 ? { index, href: inOpf(ids[index]) } : null;
    },
    manifest: () => new Set((view.book.resources?.manifest || []).map((m) => inOpf(m.href))),
    nav: () => flattenToc(view.book.toc, (it) => it.subitems).map((href) => ({ href: inOpf(href), base: '' })),
    shown: current,
  };
  return { spine: ids.map((id, index) => ({ index, href: inOpf(id), linear: view.book.sections[index].linear })) };
};

window.quireCheck = async function quireCheck(index) {
  const doc = await show(index);
  const section = view.book.sections[index];
  return measure(doc, index, inOpf(section.id), (attr) => resolveIn(section, attr));
};

// A tap through foliate's own link handler, which resolves the href and emits
// a cancelable 'link' event before it navigates; the test takes that event and
// makes the very call the handler would (view.goTo), so it can wait for it.
async function tap(a) {
  let href = null;
  const onLink = (e) => {
    e.preventDefault();
    href = e.detail.href;
  };
  view.addEventListener('link', onLink, { once: true });
  a.click();
  await new Promise((r) => setTimeout(r, 0));
  view.removeEventListener('link', onLink);
  if (href !== null) await view.goTo(href);
}

window.quireFollow = async function quireFollow(index, tappedBefore) {
  const doc = await show(index);
  const section = view.book.sections[index];
  return follow(doc, inOpf(section.id), (attr) => resolveIn(section, attr), tappedBefore, tap);
};

window.quireShow = async function quireShow(index, selector, pick) {
  const doc = await show(index);
  await settle(doc, doc.defaultView);
  const href = inOpf(view.book.sections[index].id);
  if (!selector) return href;
  const els = [...doc.querySelectorAll(selector)];
  if (els.length === 0) return href;
  const score = { widest: (e) => e.scrollWidth, longest: formulaLength, columns }[pick];
  const el = score ? els.reduce((a, b) => (score(b) > score(a) ? b : a)) : els[0];
  await view.renderer.goTo({ index, anchor: () => el });
  await settle(doc, doc.defaultView);
  return href + ' ' + describe(el);
};
