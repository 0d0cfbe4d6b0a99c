#!/usr/bin/env node
// Opens an EPUB in a real reading engine (epub.js, paginated, one column) in
// headless Chromium at e-reader sizes and checks every spine item as a reader
// would see it: nothing wider or taller than the page (nothing cut off), no
// escaped markup in the text, every image loaded, every internal link
// resolving inside the engine.
//
//   node tests/reader/check.mjs BOOK.epub [--sizes 360x640,600x800]
//        [--screenshots DIR] [--chromium PATH] [--items 0-9,12] [--allow-scroll]
//        [--engine epubjs|foliate]
//
// A scroll region (overflow: auto) hiding part of its content fails: in a
// paginated reader a sideways swipe turns the page. --allow-scroll reports
// such regions without failing (for engines where a reader can scroll them).
//
// QUIRE_PROGRESS=1 prints a line per spine item (time to check it and to tap a link).
//
// Prints one JSON object on stdout (the Rust test parses it) and a summary on
// stderr. Exit 0 when nothing failed, 1 when something did, 2 on usage or
// engine errors.
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  process.stderr.write(`check.mjs: ${msg}\nusage: node check.mjs BOOK.epub [--sizes WxH,...] [--screenshots DIR] [--chromium PATH] [--items LIST] [--allow-scroll] [--engine epubjs|foliate]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { sizes: [[360, 640], [600, 800]], screenshots: null, chromium: '/usr/bin/chromium', items: null, allowScroll: false, engine: 'epubjs' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--sizes') {
      opts.sizes = value().split(',').map((s) => {
        const m = /^(\d+)x(\d+)$/.exec(s.trim());
        if (!m) usage(`bad size "${s}" (want WIDTHxHEIGHT)`);
        return [Number(m[1]), Number(m[2])];
      });
    } else if (a === '--screenshots') opts.screenshots = value();
    else if (a === '--chromium') opts.chromium = value();
    else if (a === '--allow-scroll') opts.allowScroll = true;
    else if (a === '--engine') {
      opts.engine = value();
      if (!ENGINES[opts.engine]) usage(`unknown engine ${opts.engine} (${Object.keys(ENGINES).join(', ')})`);
    }
    else if (a === '--items') {
      opts.items = new Set();
      for (const part of value().split(',')) {
        const [lo, hi] = part.split('-').map(Number);
        for (let k = lo; k <= (hi ?? lo); k++) opts.items.add(k);
      }
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1) usage('one EPUB file expected');
  opts.epub = resolve(rest[0]);
  if (!existsSync(opts.epub)) usage(`no such file: ${opts.epub}`);
  return opts;
}

// The engines, as the scripts of the reader page.
const ENGINES = {
  epubjs: {
    name: 'epub.js 0.3.93 (paginated, spread none)',
    scripts: '<script src="/jszip.js"></script><script src="/epub.js"></script><script src="/harness.js"></script>',
  },
  foliate: {
    name: 'foliate-js 1.0.1 (paginated, one column)',
    scripts: '<script src="/harness.js"></script><script type="module" src="/harness-foliate.js"></script>',
  },
};

// The reader page, the engine and the book from one loopback server.
function serve(epub, engine) {
  const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;overflow:hidden}#viewer{overflow:hidden}</style>${ENGINES[engine].scripts}</head><body><div id="viewer"></div></body></html>`;
  const files = {
    '/': ['text/html', Buffer.from(page)],
    '/jszip.js': ['text/javascript', readFileSync(join(here, 'node_modules/jszip/dist/jszip.min.js'))],
    '/epub.js': ['text/javascript', readFileSync(join(here, 'node_modules/epubjs/dist/epub.min.js'))],
    '/harness.js': ['text/javascript', readFileSync(join(here, 'harness.js'))],
    '/harness-foliate.js': ['text/javascript', readFileSync(join(here, 'harness-foliate.js'))],
    '/book.epub': ['application/epub+zip', readFileSync(epub)],
  };
  // foliate-js is native ES modules: its folder as it is
  const foliate = join(here, 'node_modules/foliate-js');
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    let f = files[path];
    if (!f && path.startsWith('/foliate/') && !path.includes('..')) {
      const file = join(foliate, path.slice('/foliate/'.length));
      if (existsSync(file)) f = ['text/javascript', readFileSync(file)];
    }
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], 'content-length': f[1].length });
    res.end(f[1]);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

// Which spine item and which element each review screenshot shows.
function screenshotPlan(items) {
  const by = (re) => items.find((it) => re.test(it.href));
  const most = (key) => {
    const withIt = items.filter((it) => it.features[key] > 0);
    return withIt.sort((a, b) => b.features[key] - a.features[key])[0];
  };
  const widest = (sel) => {
    // the item whose widest scroll region or overflow is largest, else the first with one
    const scored = items
      .filter((it) => it.sel && it.sel[sel])
      .sort((a, b) => b.sel[sel] - a.sel[sel]);
    return scored[0];
  };
  return [
    ['cover', by(/cover/i) || items[0], null],
    ['contents', by(/contents/i), null],
    ['part-opener', by(/(^|\/)part[-_]|p-\d|part/i), null],
    ['module-opening', by(/(^|\/)m-/), null],
    ['code', most('pre'), 'pre', 'first'],
    ['table', widest('table') || most('tableColumns'), 'table', 'columns'],
    ['math', widest('math') || most('mathLength'), '.math-display', widest('math') ? 'widest' : 'longest'],
    ['index', by(/tag-index/i) || by(/index/i), null],
    ['figure', most('images'), 'figure', 'first'],
    ['plate', by(/(^|\/)plate-/), null],
    ['plate-detail', items.find((it) => /(^|\/)plate-/.test(it.href) && it.pages > 1), '.plate-detail', 'first'],
  ];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(opts.chromium)) usage(`no Chromium at ${opts.chromium}`);
  const server = await serve(opts.epub, opts.engine);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const started = Date.now();
  const result = { epub: opts.epub, engine: ENGINES[opts.engine].name, sizes: [] };
  try {
    // The sizes run side by side: one page each, two cores.
    result.sizes = await Promise.all(opts.sizes.map(([w, h]) => checkSize(browser, base, w, h, opts)));
  } finally {
    await browser.close();
    server.close();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.failed = result.sizes.reduce((n, s) => n + s.failedItems.length + s.brokenLinks.length, 0);
  process.stdout.write(JSON.stringify(result, null, 1) + '\n');
  for (const s of result.sizes) {
    process.stderr.write(`${s.size}: ${s.items} spine items, ${s.pagesTotal} pages, ${s.failedItems.length} items failing, ` +
      `${s.linksChecked} links checked (${s.linksTapped} tapped), ${s.brokenLinks.length} broken, ${s.scrollRegions} scroll regions, ${s.seconds} s\n`);
    const flow = s.figures.filter((f) => !f.plate);
    if (flow.length) {
      // each figure in the flow against the largest its text gets on its plate
      const best = flow.map((f) => Math.max(f.label, ...s.figures.filter((p) => p.plate && p.name.startsWith(f.name)).map((p) => p.label)));
      process.stderr.write(`  figures with text: ${flow.length} in the flow, smallest text ${Math.min(...flow.map((f) => f.label)).toFixed(1)} px; ` +
        `with their plates at least ${Math.min(...best).toFixed(1)} px\n`);
    }
    const longest = Object.entries(s.pagesByItem).sort((a, b) => b[1] - a[1]).slice(0, 3);
    process.stderr.write(`  longest: ${longest.map(([h, n]) => `${h} (${n} pages)`).join(', ')}\n`);
    for (const f of s.failedItems) {
      process.stderr.write(`  ${f.href}: ${Object.entries(f.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
    }
  }
  process.exitCode = result.failed ? 1 : 0;
}

async function checkSize(browser, base, w, h, opts) {
  const started = Date.now();
  const context = await browser.newContext({ viewport: { width: w, height: h }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  const opened = await page.evaluate(([u, w, h, s]) => window.quireOpen(u, w, h, s), [base + 'book.epub', w, h, opts.allowScroll]);
  const items = [];
  // Each item is checked, then one of its links tapped in the engine.
  let followed = 0;
  const tapped = [];
  const targets = [];
  for (const it of opened.spine) {
    if (opts.items && !opts.items.has(it.index)) continue;
    const t0 = Date.now();
    const r = await page.evaluate((i) => window.quireCheck(i), it.index);
    items.push(r);
    const t1 = Date.now();
    const f = await page.evaluate(([i, t]) => window.quireFollow(i, t), [it.index, targets]);
    if (process.env.QUIRE_PROGRESS) process.stderr.write(`${w}x${h} ${it.href}: check ${t1 - t0} ms, tap ${Date.now() - t1} ms${f && !f.ok ? ' ' + f.reason : ''}\n`);
    if (!f) continue;
    followed += 1;
    if (f.ok) targets.push(f.target);
    else tapped.push(f);
  }
  const resolved = await page.evaluate(
    ([links, nav]) => window.quireResolveLinks(links, nav),
    [items.map((r) => [r.href, r.links]), !opts.items],
  );
  const size = `${w}x${h}`;
  if (opts.screenshots) {
    for (const r of items) {
      r.sel = {
        table: Math.max(0, ...r.scrollRegions.filter((s) => /table/.test(s.element)).map((s) => s.px), ...r.failures.overflow.filter((f) => /table|t[dh]/.test(f.element)).map((f) => f.px)),
        math: Math.max(0, ...r.failures.overflow.filter((f) => /math|m[a-z]+/.test(f.element)).map((f) => f.px), ...r.scrollRegions.filter((s) => /math/.test(s.element)).map((s) => s.px)),
      };
    }
    mkdirSync(opts.screenshots, { recursive: true });
    for (const [name, item, selector, pick] of screenshotPlan(items)) {
      if (!item) continue;
      const shown = await page.evaluate(([i, s, p]) => window.quireShow(i, s, p), [item.index, selector, pick]);
      const path = join(opts.screenshots, `${opts.engine === "epubjs" ? "" : opts.engine + "-"}${size}-${name}.png`);
      await page.screenshot({ path });
      process.stderr.write(`screenshot ${path}: ${shown}\n`);
    }
  }
  await context.close();
  const failedItems = items
    .filter((r) => Object.values(r.counts).some((n) => n > 0))
    .map(({ index, href, pages, column, counts, failures }) => ({ index, href, pages, column, counts, failures }));
  return {
    size,
    items: items.length,
    pagesTotal: items.reduce((n, r) => n + r.pages, 0),
    pagesByItem: Object.fromEntries(items.map((r) => [r.href, r.pages])),
    seconds: (Date.now() - started) / 1000,
    failedItems,
    linksChecked: resolved.checked,
    externalLinks: items.reduce((n, r) => n + r.external, 0),
    // one entry per link: a tap on a link already found broken adds nothing
    brokenLinks: resolved.broken.concat(tapped.filter((t) => !resolved.broken.some((b) => b.from === t.from && b.href === t.href))),
    linksTapped: followed,
    scrollRegions: items.reduce((n, r) => n + r.scrollRegions.length, 0),
    scrollRegionList: items.flatMap((r) => r.scrollRegions.map((s) => ({ href: r.href, ...s }))),
    images: items.reduce((n, r) => n + r.features.images, 0),
    // SVG figures with text: the size their smallest text is drawn at, in the flow and on plates
    figures: items.flatMap((r) => r.figures.map((f) => ({ href: r.href, ...f }))),
    pageErrors: errors,
  };
}

main().catch((e) => {
  process.stderr.write(`check.mjs: ${e.stack || e}\n`);
  process.exit(2);
});
