// Read a PDF with MuPDF (`mutool run mupdf_dump.js FILE`) and print what a reader sees, as JSON:
//   {pages, outline: [[depth, title, page|null]], links: [[page, target|null]], uris: [[page, uri]]}
// Pages are 0-based. Written for the mutool of Debian 12 (MuPDF 1.21) and later.
var doc = new Document(scriptArgs[0]);

function pageNumber(where) {
  if (where === undefined || where === null) return null;
  if (typeof where === "object") where = where.page;
  return typeof where === "number" && where >= 0 ? where : null;
}

function resolve(uri) {
  try {
    return pageNumber(doc.resolveLink(uri));
  } catch (e) {
    return null;
  }
}

function walk(items, depth, out) {
  for (var i = 0; items && i < items.length; i++) {
    var item = items[i];
    var page = pageNumber(item.page);
    if (page === null && item.uri) page = resolve(item.uri);
    out.push([depth, item.title, page]);
    walk(item.down, depth + 1, out);
  }
  return out;
}

var links = [];
var uris = [];
var n = doc.countPages();
for (var i = 0; i < n; i++) {
  var found = doc.loadPage(i).getLinks();
  for (var j = 0; j < found.length; j++) {
    var link = found[j];
    var uri = link.getURI ? link.getURI() : link.uri;
    var external = link.isExternal ? link.isExternal() : /^[a-z][a-z0-9+.-]*:/i.test(uri);
    if (external) uris.push([i, uri]);
    else links.push([i, resolve(uri)]);
  }
}
print(JSON.stringify({ pages: n, outline: walk(doc.loadOutline(), 0, []), links: links, uris: uris }));
