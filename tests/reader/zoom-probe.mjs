import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const [epub, href, sel, nth, out, w, h] = process.argv.slice(2);
const here = new URL('.', import.meta.url).pathname;
const files = {
  '/': Buffer.from('<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;overflow:hidden}</style><script src="/jszip.js"></script><script src="/epub.js"></script><script src="/harness.js"></script></head><body><div id="viewer"></div></body></html>'),
  '/jszip.js': readFileSync(here + 'node_modules/jszip/dist/jszip.min.js'),
  '/epub.js': readFileSync(here + 'node_modules/epubjs/dist/epub.min.js'),
  '/harness.js': readFileSync(here + 'harness.js'),
  '/book.epub': readFileSync(epub),
};
const server = createServer((q, r) => { const f = files[q.url]; if (!f) { r.writeHead(404).end(); return; } r.writeHead(200, {'content-type': q.url.endsWith('.js') ? 'text/javascript' : q.url === '/' ? 'text/html' : 'application/epub+zip'}); r.end(f); });
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const ctx = await browser.newContext({ viewport: { width: +w, height: +h }, deviceScaleFactor: 3 });
const page = await ctx.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const info = await page.evaluate(async ([w, h, href, sel, nth]) => {
  const o = await window.quireOpen('/book.epub', w, h, false);
  const idx = o.spine.find((s) => s.href === href).index;
  await window.quireShow(idx, null, null);
  const c = window.rendition ? null : null;
  return idx;
}, [+w, +h, href, sel, +nth]);
const frame = page.frames().find((f) => f !== page.mainFrame());
const el = (await frame.$$(sel))[+nth];
if (process.env.VIS) { await el.evaluate((e, v) => { e.style.cssText = v; }, process.env.VIS); await page.waitForTimeout(300); }
await el.scrollIntoViewIfNeeded().catch(() => {});
const html = await el.evaluate((e) => e.outerHTML.slice(0, 700) + ' || ' + [...e.querySelectorAll('mn')].map(m => JSON.stringify(m.textContent) + m.childNodes.length + getComputedStyle(m).color + getComputedStyle(m).visibility).join(' '));
const fonts = await el.evaluate((e) => [...e.querySelectorAll('*')].map((x) => x.localName + ':' + getComputedStyle(x).fontFamily + ':' + Math.round(x.getBoundingClientRect().width)).slice(0, 12));
console.log(info, html, fonts);
await el.screenshot({ path: out });
await browser.close(); server.close();
