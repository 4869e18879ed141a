"""Browser tests: the real site under gunicorn on a free port, driven by Debian's Chromium.

The site runs over a copy of the shipped content plus a few generated entries (enough for two
pages of results), with its data in a temporary folder. Every page a test opens is watched:
a request to any host but the local server, or an error in the console, fails the test.
Screenshots go to test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pages import PASSWORD, PHONE, sign_in

from kb.accounts import create_user
from kb.catalog import reindex
from kb.store import open_db

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - requirements-dev.txt installs it
    Page = sync_playwright = None  # type: ignore[assignment,misc]

CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))

ROOT = Path(__file__).resolve().parents[2]
# Headless, as root, and never reaching out: no background networking, updates or sync.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _extra_entries(models: Path) -> None:
    """Write 14 published entries sharing the words 'vườn ươm thử nghiệm' (two pages of results)."""
    for i in range(1, 15):
        (models / f"vuon-uom-thu-nghiem-so-{i}.md").write_text(
            f"---\ntitle: Vườn ươm thử nghiệm số {i}\n"
            f"summary: Vườn ươm cây giống ở đồn biên phòng số {i}, thử nghiệm giống mới cho bà con.\n"
            f"unit: Đồn Biên phòng Thử nghiệm {i}\nprovince: {'Hà Giang' if i % 2 else 'Lai Châu'}\n"
            f"fields: [Y tế]\nyear: {2010 + i}\nstatus: published\n"
            f"source: {{title: Ghi chép thử nghiệm, url: 'https://example.org/vuon-uom'}}\n---\n\n"
            f"## Cách làm\n\nCán bộ đồn cùng bà con ươm cây giống ở vườn ươm thử nghiệm số {i}.\n",
            encoding="utf-8",
        )


WITH_FILES = "vuon-uom-thu-nghiem-so-14"  # the generated entry that has two photos and a report


def _attach_files(content: Path) -> None:
    """Give one generated entry two photos (with thumbnails) and a PDF, as the edit form stores them."""
    import io

    from PIL import Image

    folder = content / "media" / WITH_FILES
    (folder / "thumbs").mkdir(parents=True)
    for name, colour, size in (
        ("vuon-uom.jpg", (40, 120, 60), (1600, 1067)),
        ("cay-giong.jpg", (150, 110, 40), (1200, 1600)),
    ):
        for target, longest in ((folder / name, None), (folder / "thumbs" / name, 480)):
            image = Image.new("RGB", size, colour)
            if longest:
                image.thumbnail((longest, longest))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
            target.write_bytes(out.getvalue())
    (folder / "bao-cao-vuon-uom.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    path = content / "models" / f"{WITH_FILES}.md"
    text = path.read_text(encoding="utf-8")
    listed = ("attachments:\n- file: vuon-uom.jpg\n  caption: Vườn ươm cạnh đồn\n"
              "  credit: Đồn Biên phòng Thử nghiệm 14\n"
              "- file: cay-giong.jpg\n  caption: Cây giống chuẩn bị cấp cho bà con\n"
              "- file: bao-cao-vuon-uom.pdf\n  caption: Báo cáo sơ kết vườn ươm\n")  # fmt: skip
    path.write_text(text.replace("\n---\n", "\n" + listed + "---\n", 1), encoding="utf-8")


def _missing() -> str | None:
    """Return why the browser tests cannot run here, or None."""
    if sync_playwright is None:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt install chromium)"
    return None


MISSING = _missing()
# Without a browser these tests are not collected, and the run's summary says why in one line.
collect_ignore_glob = ["test_*.py"] if MISSING else []


def pytest_terminal_summary(terminalreporter) -> None:
    """Say, in one line, that the browser tests did not run and why."""
    if MISSING:
        terminalreporter.write_line(f"SKIPPED browser tests (tests/browser): {MISSING}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> str:
    """Start the site with gunicorn on a free port; return its base URL."""
    base = tmp_path_factory.mktemp("site")
    content, data = base / "content", base / "data"
    shutil.copytree(ROOT / "content", content)
    _extra_entries(content / "models")
    _attach_files(content)
    reindex(content, data)
    db = open_db(data)
    for name, role in (("quantri", "admin"), ("bientap", "editor"), ("bientap2", "editor"), ("thanhvien", "member")):
        create_user(db, name, PASSWORD, role)
    port = _free_port()
    env = {
        **os.environ,
        "KB_CONTENT_DIR": str(content),
        "KB_DATA_DIR": str(data),
        "SECRET_KEY": "browser-tests",
        "WORKERS": "2",
        "KB_ACCESS_LOG": "",
    }
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed when the server stops
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).read()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((base / "server.log").read_text(errors="replace")) from None
            time.sleep(0.2)
    yield url
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def browser():
    """Launch Debian's Chromium once for the session (Playwright never downloads a browser)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Watched:
    """What a page did that no page may do: reach another host, or log a JavaScript error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.outside: list[str] = []
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def _console(self, message) -> None:
        # A page answered with 404, 409 or 422 on purpose makes Chromium log "Failed to load
        # resource"; broken scripts, styles and images are caught by _response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} for {response.url}")

    def _request(self, request) -> None:
        if not (request.url.startswith(self.origin + "/") or request.url.startswith(("data:", "about:"))):
            self.outside.append(request.url)

    def check(self) -> None:
        assert self.outside == [], f"requests beyond the local server: {self.outside}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@pytest.fixture
def open_page(browser, site):
    """Return a function making watched pages: open_page(size=PHONE, javascript=True, user=None, bypass_csp=False)."""
    contexts, watched = [], Watched(site)

    def make(size: dict = PHONE, javascript: bool = True, user: str | None = None, bypass_csp: bool = False) -> Page:
        context = browser.new_context(
            viewport=size, java_script_enabled=javascript, locale="vi-VN", bypass_csp=bypass_csp
        )
        contexts.append(context)
        page = watched.watch(context.new_page())
        page.set_default_timeout(15_000)
        if user:
            sign_in(page, site, user)
        return page

    yield make
    for context in contexts:
        context.close()
    watched.check()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test here as a browser test (left out of make check)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.browser)
