"""`/api/v1/docs`: a browsable page over the caller's OpenAPI document (no external assets).

The page fetches /api/v1/openapi.json with the session cookie and renders operations and
schemas with textContent only, so labels from definitions can never inject markup.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .context import public

bp = Blueprint("docs", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MetaCRM API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#222}
h1{margin:.2rem 0} h2{border-bottom:1px solid #ddd;margin-top:2rem}
details{border:1px solid #e3e3e3;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer} code,pre{background:#f6f6f6;border-radius:4px;padding:.1rem .3rem}
pre{padding:.6rem;overflow:auto;max-height:30rem} .m{display:inline-block;width:4.5rem;font-weight:600}
.get{color:#0a7}.post{color:#07c}.patch{color:#a60}.put{color:#a60}.delete{color:#c33}
</style></head><body>
<h1>MetaCRM API</h1>
<p>Base URL <code>/api/v1</code>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>
(<code>metacrm token create</code>) or log in (session cookie; writes send <code>X-CSRF-Token</code>).
The machine-readable document is <a href="openapi.json">openapi.json</a>; it shows what your
account may see.</p>
<div id="out">Loading…</div>
<script>
const out = document.getElementById("out");
function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text;
  if (cls) e.className = cls; return e; }
fetch("openapi.json", {credentials: "same-origin"}).then(async (r) => {
  out.textContent = "";
  if (!r.ok) { out.append(el("p", r.status === 401 ? "Log in (or send a token) to see the API document."
                                                     : "Could not load the document: " + r.status)); return; }
  const doc = await r.json();
  out.append(el("p", doc.info.description || ""));
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters") continue;
      const tag = (op.tags || ["other"])[0];
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  for (const [tag, ops] of Object.entries(byTag)) {
    out.append(el("h2", tag));
    for (const [method, path, op] of ops) {
      const d = el("details"); const s = el("summary");
      s.append(el("span", method.toUpperCase(), "m " + method), el("code", path), el("span", "  " + (op.summary || "")));
      d.append(s, el("pre", JSON.stringify(op, null, 2)));
      out.append(d);
    }
  }
  out.append(el("h2", "Schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    const d = el("details"); d.append(el("summary", name), el("pre", JSON.stringify(schema, null, 2)));
    out.append(d);
  }
}).catch((e) => { out.textContent = "Could not load the document: " + e; });
</script></body></html>
"""


@bp.get("/docs")
@public
def docs_page() -> Any:
    response = Response(PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'self'; script-src 'unsafe-inline'; " \
                                                  "style-src 'unsafe-inline'"
    return response
