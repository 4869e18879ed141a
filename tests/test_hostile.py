"""Bad files and hostile requests: each gets a clear Vietnamese answer, and nothing is lost."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from helpers import write_entry

from kb import create_app
from kb.catalog import reindex

GOOD = "---\ntitle: {title}\nsummary: Tóm tắt.\nunit: Đồn A\nfields: [Y tế]\n---\n\nNội dung {word}.\n"


def _bad_files(tmp_path: Path) -> tuple[dict[str, tuple[bytes | None, str]], Path]:
    """Return (file name -> (bytes, words kb check must say), the file a link points to); None: a link."""
    outside = tmp_path / "ngoai.md"
    outside.write_text(GOOD.format(title="Ngoài", word="ngoai"), encoding="utf-8")
    return {
        "yaml-hong.md": (b"---\ntitle: [chua dong\n---\n\nx\n", "YAML không hợp lệ"),
        "thieu-khoa.md": (b"---\ntitle: A\n---\n\nx\n", "thiếu trường bắt buộc"),
        "sai-kieu.md": (
            "---\ntitle: A\nsummary: B\nunit: C\nfields: [Y tế]\nyear: hai nghìn\n---\n\nx\n".encode(),
            "phải là một số nguyên",
        ),
        "linh-vuc-la.md": (
            "---\ntitle: A\nsummary: B\nunit: C\nfields: [Nấu ăn]\n---\n\nx\n".encode(),
            "không có trong content/fields.yml",
        ),
        "rong.md": (b"", "thiếu phần đầu YAML"),
        "qua-lon.md": (
            b"---\ntitle: A\nsummary: B\nunit: C\nfields: [Y t\xe1\xba\xbf]\n---\n\n" + b"x" * (20 * 1024 * 1024),
            "tệp quá lớn",
        ),
        "nhi-phan.md": (bytes(range(256)) * 64, "không phải UTF-8"),
        "utf8-sai.md": (b"---\ntitle: \xc3\x28\n---\n", "không phải UTF-8"),
        "lien-ket.md": (None, "liên kết trỏ ra ngoài thư mục nội dung"),
    }, outside


def test_each_bad_file_is_named_by_kb_check_and_skipped_while_the_rest_is_served(content_dir, data_dir, tmp_path):
    reindex(content_dir, data_dir)
    bad, outside = _bad_files(tmp_path)
    models = content_dir / "models"
    for name, (data, _words) in bad.items():
        if data is None:
            os.symlink(outside, models / name)
        else:
            (models / name).write_bytes(data)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    check = app.test_cli_runner().invoke(args=["kb", "check"])
    assert check.exit_code == 1
    for name, (_data, words) in bad.items():
        lines = [line for line in check.output.splitlines() if f"models/{name}:" in line]
        assert lines and any(words in line for line in lines), (name, check.output)
    report = reindex(content_dir, data_dir)
    assert report.skipped == len(bad) - 1  # the link is never read: reported, not counted as a file
    client = app.test_client()
    assert next(r["slug"] for r in client.get("/api/search?q=tủ+thuốc+biên+cương").get_json()["results"]) == (
        "tu-thuoc-bien-cuong"
    )
    assert client.get("/api/search?q=ngoai").get_json()["total"] == 0  # nothing read through the link
    assert client.get("/").status_code == 200


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(content_dir, data_dir):
    text = GOOD.format(title="Tủ sách CRLF", word="xqzcrlf").replace("\n", "\r\n")
    (content_dir / "models" / "tu-sach-crlf.md").write_bytes("\ufeff".encode() + text.encode())
    report = reindex(content_dir, data_dir)
    assert not [p for p in report.problems if "crlf" in p.path]
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    found = app.test_client().get("/api/search?q=xqzcrlf").get_json()["results"]
    assert [r["title"] for r in found] == ["Tủ sách CRLF"]


PAYLOAD = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"><svg onload="alert(3)"><script>alert(4)</script></svg>'
    '<iframe src="javascript:alert(5)"></iframe>[a](javascript:alert(6)) [b](data:text/html;base64,PHNjcmlwdD4=)'
    '<a href="#" onclick="alert(7)">c</a>'
)


def test_script_in_entries_titles_and_queries_is_rendered_inert(content_dir, data_dir):
    write_entry(content_dir, "doc-hai", f"## Nội dung\n\n{PAYLOAD}\n", title='Độc <script>alert("t")</script> hại',
                summary="Tóm tắt <b onmouseover=alert(8)>x</b>.", unit="Đồn A", fields=["Y tế"])  # fmt: skip
    reindex(content_dir, data_dir)
    client = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).test_client()
    pages = [
        client.get("/models/doc-hai").get_data(as_text=True),
        client.get("/search", query_string={"q": "độc hại"}).get_data(as_text=True),
        client.get("/search", query_string={"q": '<script>alert("q")</script>'}).get_data(as_text=True),
        client.get("/api/search", query_string={"q": "độc hại"}).get_data(as_text=True),
        client.get("/feed.xml").get_data(as_text=True),
    ]
    live_markup = [
        re.compile(r"<script(?![^>]*\ssrc=\"/static/)", re.I),  # a script that is not the site's own file
        re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),  # an event handler inside a tag
        re.compile(r"<(iframe|object|embed)\b", re.I),
        re.compile(r"(href|src)\s*=\s*[\"']?\s*(javascript|data):", re.I),
    ]
    for page in pages[:3]:
        for pattern in live_markup:
            assert not pattern.search(page), (pattern.pattern, pattern.search(page).group())
    assert "&lt;script&gt;" in pages[0]  # the title is shown, as text
    api = client.get("/api/search", query_string={"q": "độc hại"})
    hit = next(h for h in api.get_json()["results"] if h["slug"] == "doc-hai")
    assert hit["title"] == 'Độc <script>alert("t")</script> hại'  # plain text, documented as such
    assert "<script" not in hit["snippet"]  # the one HTML field is escaped
    assert api.mimetype == "application/json" and api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "query",
    ["x" * 10_000, "!!! ??? ... ;;; ---", 'title:foo AND (bar OR "baz', "*:*", "\x00\x01\x02", "đ" * 3000, "🙂 ℌ 𝔘"],
)
def test_odd_queries_answer_normally(client, query):
    assert client.get("/search", query_string={"q": query}).status_code == 200
    assert client.get("/api/search", query_string={"q": query}).status_code == 200
    assert client.get("/api/suggest", query_string={"q": query}).status_code == 200


@pytest.mark.parametrize("page", ["10000000000000", "-5", "1e9", "NaN", "٣"])
def test_huge_or_odd_page_numbers_fall_back(client, page):
    response = client.get("/search", query_string={"q": "tủ thuốc", "page": page})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/models/..%2F..%2Fetc%2Fpasswd",
        "/models/%2e%2e",
        "/models/..",
        "/models/tu-thuoc-bien-cuong%00",
        "/api/models/..%2Fkb.sqlite3",
        "/static/..%2F..%2Fapp.py",
        "/thong-ke/..%2F..%2Fetc%2Fpasswd.csv",
    ],
)
def test_path_traversal_finds_nothing(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert b"root:" not in response.data and b"SQLite format" not in response.data


def test_linked_folders_are_not_entered_and_a_link_inside_the_content_folder_is_read(content_dir, data_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ngoai-thu-muc.md").write_text(GOOD.format(title="Ngoài thư mục", word="xqzfolder"), encoding="utf-8")
    shared = content_dir / "shared"
    shared.mkdir()
    (shared / "dung-chung.md").write_text(GOOD.format(title="Dùng chung", word="xqzshared"), encoding="utf-8")
    models = content_dir / "models"
    os.symlink(elsewhere, models / "thu-muc-lien-ket")
    os.symlink(shared / "dung-chung.md", models / "dung-chung.md")
    reindex(content_dir, data_dir)
    client = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).test_client()
    assert client.get("/api/search?q=xqzfolder").get_json()["total"] == 0
    assert [r["slug"] for r in client.get("/api/search?q=xqzshared").get_json()["results"]] == ["dung-chung"]


def test_a_link_that_loops_on_itself_is_passed_over(content_dir, data_dir):
    os.symlink("vong-lap.md", content_dir / "models" / "vong-lap.md")
    assert reindex(content_dir, data_dir).added >= 1  # the walk went on past the loop (it used to raise)
    client = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).test_client()
    assert client.get("/api/search?q=tủ+thuốc").get_json()["total"] >= 1
