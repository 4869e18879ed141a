"""Markdown rendering: safe HTML, no outside requests, readable plain text, bounded time."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kb.render import _POOL, MAX_SOURCE, RENDER_SECONDS, RenderRefused, plain_text, render_bounded, render_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_raw_html_is_sanitised():
    html = render_markdown('Xin chào <script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">j</a>')
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "onclick" not in html
    assert "javascript:" not in html


def test_images_from_other_hosts_are_dropped_local_ones_kept():
    html = render_markdown("![a](http://example.com/a.png) ![b](//cdn.example.com/b.png) ![c](/static/c.png)")
    assert "example.com" not in html
    assert 'src="/static/c.png"' in html


def test_headings_get_ascii_ids_and_tables_render():
    html = render_markdown("## Bối cảnh\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert '<h2 id="boi-canh">Bối cảnh</h2>' in html
    assert "<td>1</td>" in html


def test_plain_text_keeps_one_block_per_line():
    html = render_markdown("## Cách làm\n\nMột **hai** ba.\n\n- bốn\n- năm\n")
    assert plain_text(html) == "Cách làm\nMột hai ba.\nbốn\nnăm"


def test_tricks_that_reach_other_hosts_are_dropped():
    for src in ["\\\\evil.example/a.png", "/\\evil.example/b.png", " //evil.example/c.png", "/\t/evil.example/x.png",
                "HTTPS://evil.example/d.png", "data:image/png;base64,AAAA"]:  # fmt: skip
        html = render_markdown(f'<img src="{src}" alt="x">')
        assert "evil" not in html and "data:" not in html, src


def test_images_may_show_only_the_sites_own_files_never_its_pages():
    # An <img> pointing at a page would run it at every view: a search logged, or worse.
    for src in ["/search?q=spam", "/api/search?q=spam", "../search?q=spam", "search?q=x", "/models/x/edit",
                "/static/../search", "/static/%2e%2e/search", "/static/a.png?q=1", "anh.png"]:  # fmt: skip
        html = render_markdown(f'<img src="{src}" alt="x"> ![y]({src})')
        assert "src=" not in html, src
    assert 'src="/static/favicon.svg"' in render_markdown("![logo](/static/favicon.svg)")


@pytest.mark.parametrize("body", ["[" * 20_000, "![" * 10_000], ids=["brackets", "image-brackets"])  # 94 s and more
@pytest.mark.slow
def test_markdown_that_would_take_minutes_is_refused_within_the_bound(body):
    started = time.monotonic()
    with pytest.raises(RenderRefused) as refused:
        render_bounded(body)
    # Refused by the time limit, not rendered in full (which takes minutes): a generous margin
    # over RENDER_SECONDS for a loaded machine, far below what the render would take.
    assert time.monotonic() - started < RENDER_SECONDS + 10
    assert "quá phức tạp" in str(refused.value)
    assert (
        render_bounded("Sau đó vẫn **hiển thị** bình thường.")
        == "<p>Sau đó vẫn <strong>hiển thị</strong> bình thường.</p>"
    )


def test_the_bounded_render_is_the_same_as_the_direct_one():
    source = (ROOT / "content" / "models" / "tu-thuoc-bien-cuong.md").read_text(encoding="utf-8")
    assert render_bounded(source) == render_markdown(source)
    with pytest.raises(RenderRefused):
        render_bounded("x" * (MAX_SOURCE + 1))


@pytest.mark.slow
def test_renders_that_run_at_once_do_not_wait_for_each_other():
    slow, fast = "[" * 20_000, "Một đoạn **ngắn**."
    with ThreadPoolExecutor(4) as pool:
        stuck = [pool.submit(render_bounded, slow) for _ in range(3)]
        assert (
            pool.submit(render_bounded, fast).result(timeout=RENDER_SECONDS) == "<p>Một đoạn <strong>ngắn</strong>.</p>"
        )
        for future in stuck:
            assert isinstance(future.exception(), RenderRefused)


def test_a_helper_killed_while_idle_is_replaced_without_refusing_the_next_render():
    assert render_bounded("một") == "<p>một</p>"
    for helper in list(_POOL._idle):  # what the kernel's out-of-memory killer might do
        helper.proc.kill()
        helper.proc.wait()
    assert render_bounded("hai") == "<p>hai</p>"


def test_a_new_helpers_start_up_is_not_counted_against_the_texts_time():
    """On a loaded server a new helper may take longer to start than a text may take to render:
    the text must still be rendered, not refused as too complex."""
    while _POOL._idle:  # the next render starts a new helper
        _POOL._idle.pop().stop()
    started = time.monotonic()
    assert render_bounded("ba", seconds=0.05) == "<p>ba</p>"  # well under a millisecond of rendering
    assert time.monotonic() - started > 0.05  # the helper's start-up (Python, its imports) took longer than that
    while _POOL._idle:
        _POOL._idle.pop().stop()
