// Read a PDF with pdf.js (Firefox's reader) and print what a reader sees, as JSON:
//   {pages, labels, outline: [[depth, title, page|null]], links: [[page, target|null]], uris: [[page, uri]]}
// Pages are 0-based. Used by tests/readers.py; nothing here is paperbundle's code.
import { readFileSync } from "node:fs";

// pdf.js writes its warnings with console.log: keep them off stdout, which carries the JSON.
console.log = console.error;
const { getDocument } = await import("pdfjs-dist/legacy/build/pdf.mjs");

const data = new Uint8Array(readFileSync(process.argv[2]));
const doc = await getDocument({ data, verbosity: 0, isEvalSupported: false }).promise;

async function pageOf(dest) {
  try {
    const explicit = typeof dest === "string" ? await doc.getDestination(dest) : dest;
    if (!Array.isArray(explicit) || explicit.length === 0) return null;
    const ref = explicit[0];
    if (Number.isInteger(ref)) return ref;
    return await doc.getPageIndex(ref);
  } catch {
    return null;
  }
}

async function walk(items, depth, out) {
  for (const item of items ?? []) {
    out.push([depth, item.title, item.dest ? await pageOf(item.dest) : null]);
    await walk(item.items, depth + 1, out);
  }
  return out;
}

const links = [];
const uris = [];
for (let i = 0; i < doc.numPages; i++) {
  const page = await doc.getPage(i + 1);
  for (const a of await page.getAnnotations({ intent: "display" })) {
    if (a.subtype !== "Link") continue;
    if (a.url || a.unsafeUrl) uris.push([i, a.url ?? a.unsafeUrl]);
    else if (a.dest !== undefined && a.dest !== null) links.push([i, await pageOf(a.dest)]);
  }
  page.cleanup();
}
const out = {
  pages: doc.numPages,
  labels: await doc.getPageLabels(),
  outline: await walk(await doc.getOutline(), 0, []),
  links,
  uris,
};
process.stdout.write(JSON.stringify(out));
await doc.destroy();
