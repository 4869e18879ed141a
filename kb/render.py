"""Render entry Markdown to safe HTML, and to the plain text that search indexes and quotes.

Python-Markdown takes super-linear time on some inputs (a body of 5 000 "[" took 10 s, of
20 000 more than a minute and a half), partly inside regular expressions that no signal can
interrupt. So the site never renders in its own process: render_bounded() hands the text to a
helper process (one per concurrent render, kept for the next one) and kills it when it runs past
RENDER_SECONDS. Whatever the input, a web worker waits at most that long, and the input is
refused with a message instead.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from contextlib import suppress
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown
import nh3

__all__ = ["MAX_SOURCE", "RENDER_SECONDS", "RenderRefused", "plain_text", "render_bounded", "render_markdown"]

# A page of Markdown renders in a few milliseconds, a long report in well under a second.
RENDER_SECONDS = 2.0
# A new helper imports the site's code first (under a second on an idle machine, several on a
# loaded one); that start-up is bounded on its own, never counted against a text's RENDER_SECONDS.
STARTUP_SECONDS = 30.0
_READY = b"\x02"  # what a helper writes once, when it can take texts
MAX_SOURCE = 2 * 1024 * 1024  # characters: as large as an entry file may be (entries.MAX_BYTES)
_EXTENSIONS = ["extra", "sane_lists", "toc"]
_HEADING_IDS = {f"h{n}": {"id"} for n in range(1, 7)}
_BLOCKS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tr", "blockquote", "pre", "hr", "dt", "dd",
}  # fmt: skip
# Local images may show what the site serves as files, never a page: an <img> pointing at
# /search?q=… would log a search at every view (and could act on a reader's behalf).
_IMAGE_PATHS = ("/static/", "/media/")


class RenderRefused(ValueError):
    """Markdown that cannot be shown within the limits; the message is for the editor, in Vietnamese."""


def _keep_local_media(tag: str, attr: str, value: str) -> str | None:
    """Keep only image sources that are files of this site: no other host, no page of the site."""
    if tag == "img" and attr == "src":
        # Browsers drop tabs/newlines, trim spaces and read "\\" as "/" in URLs: do the same first.
        url = re.sub(r"[\x00-\x20\x7f]", "", value).replace("\\", "/")
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("//"):
            return None
        path = re.sub(r"/+", "/", parts.path)
        if parts.query or not path.startswith(_IMAGE_PATHS) or "/../" in f"{path}/" or "%" in path:
            return None
    return value


def render_markdown(source: str) -> str:
    """Render Markdown to HTML with raw HTML sanitised and no remote images (in this process, unbounded)."""
    md = markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_toc_config(), output_format="html")
    html = md.convert(source)
    attributes = {**nh3.ALLOWED_ATTRIBUTES, **_HEADING_IDS}
    return nh3.clean(html, attributes=attributes, attribute_filter=_keep_local_media)


def render_bounded(source: str, seconds: float = RENDER_SECONDS) -> str:
    """Render Markdown as render_markdown() does, in a helper process stopped after seconds.

    Raise RenderRefused for text too long or too slow to render, or if rendering failed.
    """
    if len(source) > MAX_SOURCE:
        raise RenderRefused(f"Nội dung quá dài để hiển thị ({len(source):,} ký tự; tối đa {MAX_SOURCE:,}).")
    return _POOL.render(source, seconds)


def _toc_config() -> dict[str, dict[str, object]]:
    """Give headings ASCII ids made like slugs, so links to sections are stable."""
    from .slugs import slugify

    return {"toc": {"permalink": False, "slugify": lambda value, _sep: slugify(value)}}


class _TextCollector(HTMLParser):
    """Collect the text of an HTML fragment, with a line break at each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Return the readable text of rendered HTML, one block per line."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)


# ---- the helper processes --------------------------------------------------------------------
# A request is a 4-byte length and the UTF-8 text; an answer is a status byte (0: HTML follows,
# 1: the name of the error), a 4-byte length and the payload.

_LENGTH = struct.Struct("<I")


class _HelperGone(OSError):
    """The helper process was gone before it read the text (killed while idle, or never started)."""


class _Renderer:
    """One helper process that renders Markdown for this process, one text at a time."""

    def __init__(self) -> None:
        """Start the helper (python -m kb.render) with pipes for its input and output."""
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kb.render"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        except OSError as exc:  # no process or file descriptor left: refuse this render, not the page
            raise _HelperGone(str(exc)) from None
        self.ready = False

    def render(self, source: str, seconds: float) -> str:
        """Return the helper's HTML for source; raise TimeoutError past seconds, OSError if it died."""
        if not self.ready:  # a new helper: wait for its start-up, on its own bound
            try:
                started = self._read(1, time.monotonic() + STARTUP_SECONDS, first=True) == _READY
            except TimeoutError:  # not the text's fault: never reported as too complex
                started = False
            if not started:
                raise OSError("the Markdown helper process did not start")
            self.ready = True
        deadline = time.monotonic() + seconds
        data = source.encode("utf-8", "surrogatepass")
        try:
            self.proc.stdin.write(_LENGTH.pack(len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise _HelperGone("the Markdown helper process had ended") from None
        status = self._read(1, deadline, first=True)
        payload = self._read(_LENGTH.unpack(self._read(_LENGTH.size, deadline))[0], deadline)
        text = payload.decode("utf-8", "surrogatepass")
        if status != b"\x00":
            raise RuntimeError(text)
        return text

    def _read(self, size: int, deadline: float, first: bool = False) -> bytes:
        """Read exactly size bytes of the helper's answer before the deadline."""
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:  # ended: before answering anything, it was gone before it read the text
                raise (_HelperGone if first and not got else OSError)("the Markdown helper process ended")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        """Kill the helper and reap it."""
        with suppress(OSError):
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            with suppress(OSError):
                stream.close()
        self.proc.wait()


class _RendererPool:
    """The idle helpers of this process; a render takes one (or starts one) and gives it back."""

    KEEP = 4  # idle helpers kept: as many as renders usually run at once in one server process

    def __init__(self) -> None:
        self._forked()

    def _forked(self) -> None:
        """Start empty (also in a forked child: the parent's helpers and lock state are not its own)."""
        self._lock = threading.Lock()
        self._idle: list[_Renderer] = []

    def _take(self) -> _Renderer:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Renderer()

    def _give_back(self, renderer: _Renderer) -> None:
        with self._lock:
            if len(self._idle) < self.KEEP:
                self._idle.append(renderer)
                return
        renderer.stop()

    def render(self, source: str, seconds: float) -> str:
        """Render source in a helper; raise RenderRefused if it is too slow or fails."""
        for attempt in range(2):  # a helper found dead before it read the text is replaced once
            renderer = None
            try:
                renderer = self._take()
                html = renderer.render(source, seconds)
            except _HelperGone:
                if renderer is not None:
                    renderer.stop()
                if attempt == 0:
                    continue
                raise RenderRefused(
                    "Không hiển thị được nội dung Markdown (không khởi động được trình hiển thị)."
                ) from None
            except TimeoutError:
                renderer.stop()
                limit = f"{seconds:g}".replace(".", ",")
                raise RenderRefused(
                    f"Nội dung Markdown quá phức tạp để hiển thị (quá {limit} giây). Thường do một chuỗi rất dài "
                    "các ký tự như [ ! * _ ` hoặc các dòng gạch liền nhau: hãy xóa hoặc tách bớt chúng."
                ) from None
            except (OSError, ValueError, struct.error):  # the helper died while rendering
                renderer.stop()
                raise RenderRefused(
                    "Không hiển thị được nội dung Markdown (trình hiển thị bị lỗi); hãy thử lại."
                ) from None
            except RuntimeError as exc:  # Markdown raised on this text, e.g. RecursionError on deep nesting
                self._give_back(renderer)
                raise RenderRefused(f"Không hiển thị được nội dung Markdown ({exc}).") from None
            except BaseException:  # e.g. the server stopping this worker: never leave a helper rendering
                if renderer is not None:
                    renderer.stop()
                raise
            self._give_back(renderer)
            return html
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop every idle helper (at exit)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for renderer in idle:
            renderer.stop()


_POOL = _RendererPool()
atexit.register(_POOL.close)
os.register_at_fork(after_in_child=_POOL._forked)


# A helper renders nothing longer than this, even if the process that asked is gone and so
# never kills it (seconds; the caller's own limit is far shorter).
_HELPER_ALARM = 60


def _serve(stdin, stdout) -> None:
    """Render texts from stdin to stdout until stdin closes (the helper process's loop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal stops the server, which stops us
    render_markdown("# Sẵn sàng\n\n| a |\n|---|\n| b |\n")  # Markdown loads its extensions on first use
    try:
        stdout.write(_READY)
        stdout.flush()
    except BrokenPipeError:
        os._exit(0)
    while header := stdin.read(_LENGTH.size):
        signal.alarm(_HELPER_ALARM)  # SIGALRM's default action ends the process
        if len(header) < _LENGTH.size:
            return
        source = stdin.read(_LENGTH.unpack(header)[0]).decode("utf-8", "surrogatepass")
        try:
            status, payload = b"\x00", render_markdown(source)
        except Exception as exc:  # reported to the caller as the refusal's reason
            status, payload = b"\x01", type(exc).__name__
        signal.alarm(0)
        data = payload.encode("utf-8", "surrogatepass")
        try:
            stdout.write(status + _LENGTH.pack(len(data)) + data)
            stdout.flush()
        except BrokenPipeError:  # the process that asked is gone (stopped while we rendered): end quietly
            os._exit(0)


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
