"""Workflow builder drag smoothness: p95 frame time while dragging a node on an N-node graph.

Needs no database and no MetaCRM server: the built web app (frontend/dist or --dist) is served by a
small static server, and Playwright answers the few API calls the builder makes (/me, /objects,
/workflow-steps, the draft of an N-step workflow laid out on a grid) from memory. Headless Chromium
(Debian's /usr/bin/chromium) runs with the frame-rate limit off, so a frame's time is the work it
took, not the display's 16.7 ms. The same drag on a 10-node graph is the baseline of the same run.

usage: python bench/editor.py [--n 300] [--dist frontend/dist] [--moves 120]
The last line is one JSON object: p95/p50 frame ms for N and for 10 nodes, and ratio (N / 10).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("METACRM_CHROMIUM", "/usr/bin/chromium")

STEPS = [
    {"name": "if", "kind": "if", "label": {"en": "If / else", "zh": "条件分支"}, "schema": {"type": "object"}},
    {"name": "notify", "kind": "action", "label": {"en": "Notify", "zh": "通知"},
     "schema": {"type": "object", "properties": {"title": {"type": "string"}}}},
    {"name": "end", "kind": "end", "label": {"en": "End", "zh": "结束"}, "schema": {"type": "object"}},
]


def workflow(n: int) -> dict[str, Any]:
    """A chain of notify steps with an if every 10th step (two exits), on a 10-column grid."""
    steps: list[dict[str, Any]] = []
    for i in range(n):
        ui = {"x": (i % 10) * 230, "y": (i // 10) * 130}
        nxt = f"s{i + 1}" if i + 1 < n else None
        if i % 10 == 5 and nxt:
            steps.append({"id": f"s{i}", "type": "if", "rule": {"field": "score", "op": "gt", "value": 50},
                          "then": nxt, "else": f"s{min(i + 2, n - 1)}", "ui": ui})
        elif nxt:
            steps.append({"id": f"s{i}", "type": "notify", "title": f"step {i}", "next": nxt, "ui": ui})
        else:
            steps.append({"id": f"s{i}", "type": "end", "ui": ui})
    return {"name": "bench", "object": "lead", "trigger": {"type": "record_created"}, "steps": steps}


class SpaHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; any other path answers index.html (the app routes on the client)."""

    def log_message(self, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if not path.exists() or path.is_dir():
            self.path = "/index.html"
        return super().send_head()


def serve(dist: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SpaHandler, directory=str(dist)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


FRAMES = """() => { window.__frames = []; let last = performance.now(); window.__stop = false;
  const tick = (t) => { window.__frames.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def measure(browser: Any, base: str, n: int, moves: int) -> dict[str, float]:
    doc = workflow(n)
    answers: dict[str, Any] = {
        "/api/v1/me": {"id": 1, "username": "admin", "display_name": "Admin", "is_admin": True, "language": "en",
                       "permissions": {}, "csrf_token": "x"},
        "/api/v1/objects": {"items": [{"name": "lead", "label": {"en": "Lead", "zh": "线索"}}]},
        "/api/v1/workflow-steps": STEPS,
        "/api/v1/workflows/bench/draft": {"name": "bench", "definition": doc, "draft": True, "published_version": 1},
        "/api/v1/objects/lead": {"name": "lead", "label": {"en": "Lead"}, "fields": [], "forms": []},
    }
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script("localStorage.setItem('metacrm.session', '1'); localStorage.setItem('metacrm.lang', 'en')")

    def route(r: Any) -> None:
        path = r.request.url.split("?")[0].split("127.0.0.1")[1].split("/", 1)[1]
        body = answers.get("/" + path, {"items": []})
        r.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    context.route("**/api/**", route)
    page = context.new_page()
    page.goto(base + "/workflows/bench")
    node = page.get_by_test_id("node-s0")
    node.wait_for()
    page.wait_for_timeout(500)
    box = node.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 3
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate(FRAMES)
    for i in range(1, moves + 1):
        page.mouse.move(x + (i % 40) * 4, y + (i // 40) * 6)
    page.evaluate("() => { window.__stop = true; }")
    page.mouse.up()
    frames = [f for f in page.evaluate("() => window.__frames") if f > 0]
    moved = page.get_by_test_id("node-s0").bounding_box()
    context.close()
    assert moved is not None and moved["x"] != box["x"], "the node did not move"
    frames.sort()
    p95 = frames[min(len(frames) - 1, int(len(frames) * 0.95))]
    return {"p95_ms": round(p95, 2), "p50_ms": round(statistics.median(frames), 2), "frames": len(frames)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--dist", default=os.environ.get("METACRM_E2E_DIST") or str(ROOT / "frontend" / "dist"))
    parser.add_argument("--moves", type=int, default=120)
    args = parser.parse_args()
    dist = Path(args.dist)
    if not (dist / "index.html").exists():
        raise SystemExit(f"{dist}/index.html is missing: build the web app (cd frontend && npm run build) or pass --dist")
    from playwright.sync_api import sync_playwright

    server, base = serve(dist)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-gpu-vsync", "--disable-frame-rate-limit"])
            try:
                baseline = measure(browser, base, 10, args.moves)
                big = measure(browser, base, args.n, args.moves)
            finally:
                browser.close()
    finally:
        server.shutdown()
    print(f"drag on 10 nodes: p95 {baseline['p95_ms']} ms, p50 {baseline['p50_ms']} ms ({baseline['frames']} frames)")
    print(f"drag on {args.n} nodes: p95 {big['p95_ms']} ms, p50 {big['p50_ms']} ms ({big['frames']} frames)")
    print(json.dumps({"bench": "editor", "database": "none (static build, API answered in the browser)", "n": args.n,
                      "p95_ms": big["p95_ms"], "p50_ms": big["p50_ms"], "baseline_n": 10,
                      "baseline_p95_ms": baseline["p95_ms"], "baseline_p50_ms": baseline["p50_ms"],
                      "ratio": round(big["p95_ms"] / baseline["p95_ms"], 2) if baseline["p95_ms"] else None,
                      "aim_p95_ms": 16}))


if __name__ == "__main__":
    main()
