"""Markdown rendering: safe HTML, no outside requests, readable plain text."""

from kb.render import plain_text, render_markdown


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
