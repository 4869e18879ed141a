"""Serving with slow and idle clients: the real server (gunicorn.conf.py), alone and behind nginx.

Each test holds connections open the way a careless or hostile client does (connecting and
saying nothing, sending a request head a line at a time, stopping in the middle of a body, never
reading or closing) and checks that a visitor's search still answers. gunicorn runs the project's
own configuration on a free port over a copy of the shipped content; nginx, when installed, runs
as an ordinary process with every file it writes in the test's folder. The last tests check what
the threads of one server process share: index searchers, and the database's first opening.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import pytest
from whoosh.searching import Searcher

from indexer import Document, SearchIndex
from indexer.storage import SEARCHES_AT_ONCE
from kb import store
from kb.catalog import reindex
from kb.server import HEAD_LIMIT, HEAD_TIMEOUT, STALL_TIMEOUT
from kb.store import DB_NAME, open_db

pytestmark = pytest.mark.slow  # starts gunicorn and nginx

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None)
SEARCH = "/api/search?q=" + quote("tủ thuốc")
# Generous: an unloaded search answers in milliseconds. With sync workers it hung for 30 s.
ANSWER_S = 5
HOLDERS = 20  # connections held open by the "attacker"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, what: str, log: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Poll check() until it returns true; fail with the server's log if it never does."""
    deadline = time.monotonic() + seconds
    while not check():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@contextmanager
def _gunicorn(content: Path, data: Path, log: Path, workers: int = 2, **env: str) -> Iterator[tuple[str, int]]:
    """Run the production server on a free port until every worker has warmed up; yield its URL and port."""
    port = _free_port()
    environ = {
        **os.environ,
        "KB_CONTENT_DIR": str(content),
        "KB_DATA_DIR": str(data),
        "SECRET_KEY": "serving-tests",
        "WORKERS": str(workers),
        "KB_ACCESS_LOG": "",
        **env,
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*command, "app:app"], cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # Every worker must be serving: a test that finds one still warming up proves nothing.
        _wait_for(lambda: log.read_text(errors="replace").count("Worker warmed up") >= workers, "gunicorn", log, proc)
        yield f"http://127.0.0.1:{port}", port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _search(base: str, timeout: float = ANSWER_S) -> dict:
    """Search as a visitor's browser does; return the JSON answer (an error if it takes over timeout)."""
    with urllib.request.urlopen(base + SEARCH, timeout=timeout) as answer:
        return json.loads(answer.read())


def _assert_searches_answer(base: str, moments: tuple[float, ...] = (0, 1, 3, 6)) -> None:
    """Search at each moment (seconds from now) and check every search answers with results."""
    start = time.monotonic()
    for moment in moments:
        time.sleep(max(0.0, start + moment - time.monotonic()))
        assert _search(base)["total"] > 0


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    """Open a connection to the server from a local address."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one HTTP response with a Content-Length from sock; return its head and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _received(sock)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(_header(head, b"content-length"))
    while len(body) < length:
        body += _received(sock)
    return head, body


def _received(sock: socket.socket) -> bytes:
    """Return the next bytes from sock; fail if the server closed the connection."""
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the server closed the connection")
    return data


def _header(head: bytes, name: bytes) -> bytes:
    """Return the value of a header in a response head."""
    return next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(name + b":"))


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Return True if the server closes sock within that many seconds (without answering)."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@contextmanager
def _trickling(socks: list[socket.socket], line: bytes, every: float = 0.5) -> Iterator[None]:
    """Send line on every socket every so often (a slowloris client) while the block runs."""
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(every):
            for sock in socks:
                with suppress(OSError):  # closed by the server: what it should do, eventually
                    sock.sendall(line)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Copy the shipped content and index it; return (content, data, folder for logs)."""
    base = tmp_path_factory.mktemp("serving")
    content, data = base / "content", base / "data"
    shutil.copytree(ROOT / "content", content)
    reindex(content, data)
    return content, data, base


@pytest.fixture(scope="module")
def server(site) -> Iterator[tuple[str, int]]:
    """The production server alone, as `make serve` runs it (two workers)."""
    content, data, base = site
    with _gunicorn(content, data, base / "gunicorn.log") as running:
        yield running


def test_idle_connections_never_keep_a_search_waiting(server):
    """Twenty connections that say nothing and twenty kept alive after a request: searches still answer.

    With sync workers each worker waited on one of them and the site hung for 30 s. The silent
    ones cost no thread here and are closed once a request head is overdue.
    """
    base, port = server
    with ExitStack() as held:
        for _ in range(HOLDERS):
            kept = held.enter_context(_connect(port))
            kept.sendall(f"GET {SEARCH} HTTP/1.1\r\nHost: kho\r\n\r\n".encode())
            assert _read_response(kept)[0].startswith(b"HTTP/1.1 200")
        silent = [held.enter_context(_connect(port)) for _ in range(HOLDERS)]
        _assert_searches_answer(base, moments=(0, 0.5, 1, 2, 3, 6))
        assert all(_closed_by_server(sock, HEAD_TIMEOUT + 5) for sock in silent)


def test_request_heads_sent_a_line_at_a_time_never_keep_a_search_waiting(server):
    """Twenty slowloris clients (a header line every half second, never the end): searches still answer."""
    base, port = server
    with ExitStack() as held:
        slow = [held.enter_context(_connect(port)) for _ in range(HOLDERS)]
        for sock in slow:
            sock.sendall(f"GET {SEARCH} HTTP/1.1\r\nHost: kho\r\n".encode())
        with _trickling(slow, b"X-Wait: 1\r\n"):
            _assert_searches_answer(base)
            # Not answered, and dropped once the head is overdue, however steadily it trickles.
            assert all(_closed_by_server(sock, HEAD_TIMEOUT + 5) for sock in slow)


def test_clients_that_never_read_or_close_do_not_stall_the_server(server):
    """Twenty clients send a request and then neither read the answer nor close: searches still answer.

    gunicorn's own threaded worker waits up to 2 s per such connection in its event loop when it
    closes it, so twenty of them held every other visitor for seconds.
    """
    base, port = server
    with ExitStack() as held:
        for _ in range(HOLDERS):
            held.enter_context(_connect(port)).sendall(f"GET {SEARCH} HTTP/1.0\r\n\r\n".encode())
        _assert_searches_answer(base, moments=(0.2, 1, 3))


def test_requests_in_one_packet_and_bodies_in_pieces_are_served_whole(server):
    """Pipelined requests are each answered, and a sign-in form sent in two parts is read whole."""
    _base, port = server
    with _connect(port) as sock:
        sock.sendall(f"GET {SEARCH} HTTP/1.1\r\nHost: kho\r\n\r\nGET {SEARCH} HTTP/1.1\r\nHost: kho\r\n\r\n".encode())
        assert _read_response(sock)[0].startswith(b"HTTP/1.1 200")
        assert _read_response(sock)[0].startswith(b"HTTP/1.1 200")
    with _connect(port) as sock:
        body = b"name=ai&password=sai"
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: kho\r\nContent-Type: application/x-www-form-urlencoded\r\n")
        sock.sendall(b"Content-Length: %d\r\nConnection: close\r\n\r\nname=" % len(body))
        time.sleep(0.3)
        sock.sendall(body[len(b"name=") :])
        head, _body = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 400")  # read whole: refused for its missing CSRF token, not cut off


def test_a_long_vietnamese_search_reaches_the_site_whole(server):
    """About 700 characters of Vietnamese (5 KB once encoded): the site shortens it, the server does not refuse it."""
    base, _port = server
    with urllib.request.urlopen(base + "/search?q=" + quote("nghiêng tủ thuốc " * 40), timeout=ANSWER_S) as answer:
        assert answer.status == 200 and "tủ thuốc" in answer.read().decode()


def test_an_oversized_request_head_is_refused(server):
    _base, port = server
    with _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: kho\r\n" + b"X-Filler: " + b"x" * HEAD_LIMIT + b"\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 431")


def test_a_client_that_stops_in_the_middle_of_its_body_frees_its_thread(site):
    """A body that stops coming (a phone that lost signal mid-upload) holds a thread for a while, not for ever.

    One worker with two threads: two such uploads take both, and a search waits until the
    server gives up on them. gthread alone would hold both threads until the clients went away.
    """
    content, data, base = site
    with (
        _gunicorn(content, data, base / "gunicorn-stall.log", workers=1, THREADS="2") as (url, port),
        ExitStack() as held,
    ):
        for _ in range(2):
            held.enter_context(_connect(port)).sendall(
                b"POST /login HTTP/1.1\r\nHost: kho\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\nname="
            )
        time.sleep(0.5)  # both threads are now waiting for the rest of the bodies
        assert _search(url, timeout=STALL_TIMEOUT + 15)["total"] > 0


def test_a_server_started_after_a_crash_serves_the_files_as_they_are(tmp_path):
    """A file replaced by a save whose process died before it committed: the next start repairs it first."""
    content, data = tmp_path / "content", tmp_path / "data"
    shutil.copytree(ROOT / "content", content)
    reindex(content, data)
    path = content / "models" / "tu-thuoc-bien-cuong.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nSau sự cố xqzkhoidong.\n", encoding="utf-8")
    (path.parent / ".tu-thuoc-bien-cuong.md.x1y2.tmp").write_text("---\ntitle: Nửa", encoding="utf-8")
    with _gunicorn(content, data, tmp_path / "gunicorn.log", workers=1) as (url, _port):
        found = json.loads(urllib.request.urlopen(url + "/api/search?q=xqzkhoidong", timeout=ANSWER_S).read())
    assert [r["slug"] for r in found["results"]] == ["tu-thuoc-bien-cuong"]
    assert not list(path.parent.glob(".*.tmp"))
    texts = [r["text"] for r in open_db(data)["revisions"].rows_where("slug = ?", ["tu-thuoc-bien-cuong"])]
    assert any("xqzkhoidong" in text for text in texts)


# ---- behind nginx ---------------------------------------------------------------------------


def _nginx_config(folder: Path, listen: int, upstream: int) -> Path:
    """Write a main nginx configuration around the shipped site file (deploy/nginx.conf) for this test."""
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 80;" in site and "server 127.0.0.1:8000;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = ""
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
        temp += f"  {name}_temp_path {folder / name};\n"
    main = folder / "nginx.conf"
    main.write_text(
        # As root, nginx would run its workers as nobody, who may not enter the test's folder.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + "events { worker_connections 1024; }\n"
        + f"http {{\n  access_log off;\n{temp}  include {folder / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    return main


@pytest.fixture(scope="module")
def proxied(site) -> Iterator[tuple[str, int]]:
    """The server behind nginx as deploy/nginx.conf sets it up, with KB_PROXY_HOPS=1; yield nginx's URL and port."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt install nginx): the reverse-proxy setup was not tested")
    content, data, base = site
    folder = base / "nginx"
    folder.mkdir(exist_ok=True)
    with _gunicorn(content, data, base / "gunicorn-proxied.log", KB_PROXY_HOPS="1") as (_url, upstream):
        port = _free_port()
        config = _nginx_config(folder, port, upstream)
        log = folder / "error.log"
        with open(folder / "stderr.log", "wb") as out:
            proc = subprocess.Popen(
                [NGINX, "-p", str(folder), "-c", str(config), "-e", str(log)], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(lambda: _answers(url), "nginx", folder / "stderr.log", proc, seconds=20)
            yield url, port
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _answers(url: str) -> bool:
    """Return True if a search through url answers."""
    try:
        _search(url, timeout=2)
    except OSError:
        return False
    return True


def test_behind_nginx_slow_and_idle_clients_never_keep_a_search_waiting(proxied):
    """Twenty idle, twenty slowloris and twenty stalled uploads at nginx: searches through it still answer.

    nginx reads whole requests before passing them on, so gunicorn never sees a slow client.
    """
    base, port = proxied
    with ExitStack() as held:
        idle = [held.enter_context(_connect(port)) for _ in range(HOLDERS)]
        slow = [held.enter_context(_connect(port)) for _ in range(HOLDERS)]
        uploads = [held.enter_context(_connect(port)) for _ in range(HOLDERS)]
        for sock in slow:
            sock.sendall(f"GET {SEARCH} HTTP/1.1\r\nHost: kho\r\n".encode())
        for sock in uploads:
            sock.sendall(
                b"POST /login HTTP/1.1\r\nHost: kho\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100000\r\n\r\nname="
            )
        with _trickling(slow, b"X-Wait: 1\r\n"), _trickling(uploads, b"a"):
            _assert_searches_answer(base)
        assert idle  # held open until here


def test_behind_nginx_the_site_sees_the_visitors_address_not_a_forged_one(proxied, site):
    """A failed sign-in through nginx is logged with the visitor's address, whatever X-Forwarded-For it sent."""
    _base, port = proxied
    _content, data, _folder = site
    with _connect(port, source="127.0.0.2") as sock:  # the visitor: another address than nginx's
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: kho\r\n\r\n")
        head, page = _read_response(sock)
        cookie = _header(head, b"set-cookie").split(b";")[0]
        csrf = page.split(b'name="csrf_token" type="hidden" value="')[1].split(b'"')[0]
        body = b"csrf_token=" + csrf + b"&name=khach-la&password=sai-mat-khau"
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: kho\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"X-Forwarded-For: 10.9.9.9\r\nCookie: " + cookie + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        assert _read_response(sock)[0].startswith(b"HTTP/1.1 401")
    with sqlite3.connect(data / "kb.sqlite3") as db:
        rows = db.execute("SELECT address FROM audit WHERE action = 'login_failed' AND actor = 'khach-la'").fetchall()
    assert rows == [("127.0.0.2",)]


def test_behind_nginx_a_body_over_the_sites_limit_is_refused_before_it_is_sent(proxied):
    _base, port = proxied
    with _connect(port) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: kho\r\nContent-Length: %d\r\n\r\n" % (3 * 1024 * 1024))
        assert sock.recv(1024).startswith(b"HTTP/1.1 413")


def test_behind_nginx_the_forms_with_files_take_uploads_up_to_their_own_bound(proxied):
    _base, port = proxied
    with _connect(port) as sock:  # past the upload bound: refused before a byte of the body is sent
        sock.sendall(b"POST /models/tu-thuoc-bien-cuong/edit HTTP/1.1\r\nHost: kho\r\nContent-Length: %d\r\n\r\n"
                     % (70 * 1024 * 1024))  # fmt: skip
        assert sock.recv(1024).startswith(b"HTTP/1.1 413")
    body = b"x" * (3 * 1024 * 1024)  # over the site's 2 MB, well under the upload bound
    with _connect(port) as sock:
        sock.sendall(b"POST /edit/new HTTP/1.1\r\nHost: kho\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)  # fmt: skip
        status = _read_response(sock)[0]
    assert status.split()[1] in (b"302", b"400"), status  # the site answers (sign in first), not nginx's 413


def _nodes_config(folder: Path, listen: int, writer: int, readers: list[int]) -> Path:
    """Write a main nginx configuration around deploy/nginx-nodes.conf with these nodes' ports."""
    site = (ROOT / "deploy" / "nginx-nodes.conf").read_text(encoding="utf-8")
    for old, new in (("listen 80;", f"listen 127.0.0.1:{listen};"),
                     ("server 127.0.0.1:8001;", f"server 127.0.0.1:{writer};"),
                     ("server 127.0.0.1:8002;", f"server 127.0.0.1:{readers[0]};"),
                     ("server 127.0.0.1:8003;", f"server 127.0.0.1:{readers[1]};")):  # fmt: skip
        assert old in site
        site = site.replace(old, new)
    (folder / "nodes.conf").write_text(site, encoding="utf-8")
    main = _nginx_config(folder, listen, writer)  # the same main file, then this site in place of the other
    main.write_text(main.read_text(encoding="utf-8").replace(str(folder / "site.conf"), str(folder / "nodes.conf")))
    return main


def test_behind_nginx_a_writer_takes_changes_and_signed_in_people_and_readers_the_public(tmp_path, monkeypatch):
    if NGINX is None:
        pytest.skip("nginx is not installed (apt install nginx): the routing to several nodes was not tested")
    if shutil.which("git") is None:
        pytest.skip("git is not installed (apt install git): readers cannot follow the writer")
    from kb.drafts import Draft
    from kb.editing import Who, save_entry
    from kb.sharing import sync_site

    # Each node its own folders; the readers follow the writer through a shared repository.
    remote = tmp_path / "kho-chung.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch", "main", str(remote)], check=True)
    monkeypatch.setenv("KB_GIT_REMOTE", str(remote))
    folders = {name: (tmp_path / name / "content", tmp_path / name / "data") for name in ("ghi", "doc-1", "doc-2")}
    shutil.copytree(ROOT / "content", folders["ghi"][0])
    reindex(*folders["ghi"])
    for name in ("ghi", "doc-1", "doc-2"):
        assert sync_site(*folders[name]).ok  # the writer pushes first; each reader joins
    folder = tmp_path / "nginx-nodes"
    folder.mkdir()
    quick = {"KB_PRELOAD_SEGMENTER": "0", "KB_PROXY_HOPS": "1"}
    with ExitStack() as nodes, ExitStack() as writer:
        ports = {}
        for name, stack in (("ghi", writer), ("doc-1", nodes), ("doc-2", nodes)):
            _url, ports[name] = stack.enter_context(
                _gunicorn(*folders[name], tmp_path / f"node-{name}.log", workers=1, KB_NODE_NAME=name, **quick)
            )
        port = _free_port()
        config = _nodes_config(folder, port, ports["ghi"], [ports["doc-1"], ports["doc-2"]])
        with open(folder / "stderr.log", "wb") as out:
            proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")],
                                    stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(lambda: _answers(url), "nginx", folder / "stderr.log", proc, seconds=20)

            def node(path: str, method: str = "GET", cookie: str = "", body: bytes | None = None) -> str:
                return _ask(url + path, method, cookie, body)[1]

            readers = {node("/search?q=t%E1%BB%A7+thu%E1%BB%91c") for _ in range(8)}
            assert readers == {"doc-1", "doc-2"}  # public reading is shared by the readers
            assert node("/models/tu-thuoc-bien-cuong") in ("doc-1", "doc-2")
            assert node("/api/search?q=bien") in ("doc-1", "doc-2")
            assert node("/login") == "ghi" and node("/edit") == "ghi" and node("/admin") == "ghi"
            assert node("/models/tu-thuoc-bien-cuong/history") == "ghi"
            assert node("/models/tu-thuoc-bien-cuong/replications/new") == "ghi"
            assert node("/search?q=x", cookie="session=abc") == "ghi"  # someone signed in
            assert node("/search?q=x", cookie="theme=1; session=abc") == "ghi"
            assert node("/search?q=x", cookie="not-a-session=1") in ("doc-1", "doc-2")
            assert node("/login", method="POST", body=b"name=x") == "ghi"  # any change
            assert node("/search", method="POST", body=b"q=x") == "ghi"

            # A save on the writer reaches the readers' search after a sync on each side.
            new = Draft(title="Giếng nước xqzgiengnode", summary="Thử.", unit="Đồn Biên phòng Thử", fields=["Dân vận"],
                        body="## Cách làm\n\nĐào giếng.\n", status="published")  # fmt: skip
            saved = save_entry(*folders["ghi"], open_db(folders["ghi"][1]), new, slug=None, base_hash="",
                               author=Who("bientap"))  # fmt: skip
            assert saved.outcome == "saved" and sync_site(*folders["ghi"]).pushed
            assert json.loads(_ask(url + "/api/search?q=xqzgiengnode")[2])["results"] == []  # not on the readers yet
            for name in ("doc-1", "doc-2"):
                assert sync_site(*folders[name]).ok
            for _ in range(4):
                status, answered, page = _ask(url + "/api/search?q=xqzgiengnode")
                assert answered in ("doc-1", "doc-2") and json.loads(page)["results"][0]["slug"] == saved.slug

            writer.close()  # the writer goes down: reading goes on from the readers
            status, answered, page = _ask(url + "/search?q=t%E1%BB%A7+thu%E1%BB%91c")
            assert status == 200 and answered in ("doc-1", "doc-2") and "/models/tu-thuoc-bien-cuong" in page
            status, answered, _page = _ask(url + "/models/tu-thuoc-bien-cuong", cookie="session=abc")
            assert status == 200 and answered in ("doc-1", "doc-2")  # a signed-in person reads as a visitor
            for method, path in (("POST", "/login"), ("GET", "/login"), ("GET", "/edit")):
                status, _answered, page = _ask(url + path, method, body=b"name=x" if method == "POST" else None)
                assert status == 503 and "Tạm thời chưa đăng nhập và ghi được" in page
                assert "vẫn còn trong trình duyệt" in page
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _ask(url: str, method: str = "GET", cookie: str = "", body: bytes | None = None) -> tuple[int, str, str]:
    """Return the status, the node that answered (X-Kho-Node) and the page of one request."""
    request = urllib.request.Request(url, data=body, method=method)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.headers["X-Kho-Node"], answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as answer:  # a refusal (400, 403, 404, 503) still says who answered
        return answer.code, answer.headers["X-Kho-Node"], answer.read().decode("utf-8", "replace")


# ---- what the threads of one server process share --------------------------------------------


def _open_searchers(folder: Path) -> list[Searcher]:
    """Return the open top-level Whoosh searchers reading an index under folder."""
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, Searcher)
        and not o.is_closed
        and o.parent is None
        and o._ix is not None
        and Path(o._ix.storage.folder).is_relative_to(folder)
    ]


def _small_index(folder: Path) -> SearchIndex:
    """Build an index of twelve entries, two of them about a medicine cabinet."""
    index = SearchIndex(folder / "index")
    docs = [Document(slug=f"m{n}", title=f"Mô hình dân vận số {n}", summary="", body_text="Giúp dân.", unit="Đồn A")
            for n in range(10)]  # fmt: skip
    docs += [Document(slug=f"tu-thuoc-{n}", title=f"Tủ thuốc số {n}", summary="", body_text="Cấp thuốc.", unit="Đồn B")
             for n in range(2)]  # fmt: skip
    index.build(docs)
    return index


def test_a_server_process_keeps_a_searcher_per_search_at_once_not_per_thread(tmp_path):
    """Eight threads that searched one after another share one searcher.

    A searcher holds its own copy of the index's postings (some 45 MB at 10 000 entries): one per
    server thread multiplied each worker's memory by its threads.
    """
    index = _small_index(tmp_path)
    one_at_a_time, searched, finish = threading.Lock(), threading.Semaphore(0), threading.Event()

    def serve() -> None:  # a server thread: it searches, then lives on, waiting for the next request
        with one_at_a_time:
            assert index.search("tủ thuốc", cache=False).total == 2
        searched.release()
        finish.wait()

    threads = [threading.Thread(target=serve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for _ in threads:
        searched.acquire()
    try:
        assert len(_open_searchers(tmp_path)) == 1
    finally:
        finish.set()
        for thread in threads:
            thread.join()


def test_searches_in_many_threads_at_once_find_their_own_results_with_few_searchers(tmp_path):
    """Eight threads searching at once each get their own results, through SEARCHES_AT_ONCE searchers."""
    index = _small_index(tmp_path)
    queries = {"tủ thuốc": 2, "dân vận": 10, "số 3": 1, "không có gì": 0}
    start, wrong = threading.Barrier(8), []

    def serve(query: str, expected: int) -> None:
        start.wait()
        for _ in range(20):
            if (found := index.search(query, cache=False).total) != expected:
                wrong.append((query, found))

    threads = [threading.Thread(target=serve, args=item) for item in list(queries.items()) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(_open_searchers(tmp_path)) <= SEARCHES_AT_ONCE


def test_threads_opening_a_database_made_by_an_older_version_at_once_all_get_it(tmp_path):
    """The first requests of a fresh server process upgrade the tables once, not once per thread."""
    open_db(tmp_path)
    with sqlite3.connect(tmp_path / DB_NAME) as db:  # as an older version left it
        db.execute("ALTER TABLE users DROP COLUMN session_version")
        db.execute("ALTER TABLE entries DROP COLUMN published_at")
        db.execute("DROP TABLE _sqlite_migrations")  # older versions recorded no migrations
    db.close()
    store._READY.clear()  # a fresh process
    start, failed = threading.Barrier(8), []

    def first_request() -> None:
        start.wait()
        try:
            open_db(tmp_path).conn.close()
        except sqlite3.Error as exc:
            failed.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert "session_version" in open_db(tmp_path)["users"].columns_dict
