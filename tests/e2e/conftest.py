"""Browser tests: the real server on a temporary instance, driven by Playwright in Debian's chromium.

The server is `metacrm demo --no-serve` (standard pack + a small demo data set) then `metacrm serve`
on a free port, in a subprocess. No browser is ever downloaded: Playwright launches
/usr/bin/chromium. Without chromium, the Playwright package or a built frontend the tests skip
with the reason, unless METACRM_REQUIRE_SERVICES=1, when they fail.

Every page collects console errors, page errors and dialogs (an `alert` would mean injected
script ran); a test fails if any appeared. Screenshots go to test-output/e2e/; the ones the
README shows are copied to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST_DIR = Path(os.environ.get("METACRM_E2E_DIST") or ROOT / "frontend" / "dist")
"""The build the browser tests serve: METACRM_E2E_DIST lets each developer test their own build."""
DIST = DIST_DIR / "index.html"
CHROMIUM = os.environ.get("METACRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
OUTPUT = ROOT / "test-output" / "e2e"
README_SHOTS = ROOT / "docs" / "screenshots"
REQUIRE = os.environ.get("METACRM_REQUIRE_SERVICES") == "1"

USERS = {  # username: (password, admin, language)
    "admin": ("e2e-admin-pass", True, "en"),
    "john.smith": ("e2e-sales-pass", False, "en"),
}


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"browser tests required (METACRM_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "metacrm.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"metacrm {' '.join(args)} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def playwright_module() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (Debian: apt-get install -y chromium; `make test` does it as root)")
    if not DIST.exists():
        _unavailable("the web app is not built (cd frontend && npm ci && npm run build; `make test` does it)")
    return sync_playwright


@pytest.fixture(scope="session")
def server(playwright_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A MetaCRM server on a fresh SQLite instance with the demo data and two users."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("METACRM_")}
    env.update(METACRM_INSTANCE_DIR=str(instance), METACRM_SECRET_KEY="e2e-secret", PYTHONWARNINGS="ignore",
               METACRM_FRONTEND_DIST=str(DIST_DIR))
    _cli(env, "demo", "--no-serve", "--scale", "0.05")
    for username, (password, admin, language) in USERS.items():
        _cli(env, "user", "create", username, "--password", password, "--language", language,
             "--admin" if admin else "--no-admin")
    _cli(env, "role", "create", "sales")
    _cli(env, "role", "grant", "sales", "*", "--verbs", "read,create,update,delete", "--scope", "all")
    _cli(env, "role", "assign", "john.smith", "sales")
    port = _free_port()
    log = open(instance / "server.log", "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([sys.executable, "-m", "metacrm.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start: " + (instance / "server.log").read_text())
            time.sleep(0.2)
        yield {"base": base, "env": env, "instance": instance}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser(playwright_module: Any) -> Iterator[Any]:
    with playwright_module() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class Problems:
    """Console errors, uncaught page errors and dialogs seen by one page."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.allowed: list[str] = []

    def allow_http(self, status: int) -> None:
        """The test expects the server to answer `status` (e.g. 422 for invalid input): the
        browser's own "Failed to load resource" line for it is not an app error."""
        self.allowed.append(f"status of {status} ")

    def unexpected(self) -> list[str]:
        return [p for p in self.items
                if not (p.startswith("console.error: Failed to load resource") and any(a in p for a in self.allowed))]

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.items.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.items.append(f"page error: {e}"))

        def dialog(d: Any) -> None:
            self.items.append(f"dialog {d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture
def browser_problems() -> Problems:
    return Problems()


@pytest.fixture
def open_page(browser: Any, server: dict[str, Any], browser_problems: Problems,
              request: pytest.FixtureRequest) -> Iterator[Any]:
    """open_page(user=None, width=1280, height=800, lang=None) -> a logged-in page; checks for errors after the test."""
    contexts: list[Any] = []
    problems = browser_problems

    def _open(user: str | None = None, width: int = 1280, height: int = 800, lang: str | None = None) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
        contexts.append(context)
        if lang:
            context.add_init_script(f"window.localStorage.setItem('metacrm.lang', '{lang}')")
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems.watch(page)
        page.goto(server["base"] + "/")
        if user:
            zh = lang == "zh"
            page.get_by_label("用户名" if zh else "Username").fill(user)
            page.get_by_label("密码" if zh else "Password").fill(USERS[user][0])
            page.get_by_role("button", name="登录" if zh else "Sign in", exact=True).click()
            page.locator("header .user-name").wait_for(state="attached")  # signed in (hidden at phone width)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert problems.unexpected() == [], f"{request.node.name}: {problems.items}"


def shot(page: Any, name: str, readme: bool = False, full_page: bool = False) -> Path:
    """Screenshot into test-output/e2e/ (kept as a CI artifact); with readme, also docs/screenshots/."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if readme:
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SHOTS / f"{name}.png")
    return path


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """The `shot` function (test modules cannot import conftest: several exist)."""
    return shot
