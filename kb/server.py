"""The production server's worker: gunicorn's threaded worker, with no thread ever waiting on a slow client.

gunicorn's gthread worker hands every new connection to a thread at once. That thread waits up to
5 s for a first byte, then reads the request head for as long as the client takes to send it:
twenty idle connections, or twenty clients sending a header line every few seconds (slowloris),
hold twenty threads, and every visitor behind them waits. It also closes connections from its
event loop with a linger of up to 2 s, so a client that never closes its end stalls the loop.

HeadFirstWorker keeps gthread's event loop and thread pool, and changes who waits on the network:

- A connection reaches a thread only once its whole request head has arrived. Until then the event
  loop gathers the bytes without blocking, as nginx does. A head must be complete within
  HEAD_TIMEOUT seconds of connecting (on a kept-alive connection, of the next request's first
  byte) and fit in HEAD_LIMIT bytes, else the connection is closed. An idle or half-sent
  connection costs a file descriptor and a buffer, never a thread.
- In a thread, a client that sends nothing (a stalled request body) or reads nothing (a response
  it does not take) for STALL_TIMEOUT seconds is cut off: the socket's own receive and send
  timeouts, which outlive gthread's switching the socket between blocking and non-blocking.
  Without this a client that vanished mid-upload would hold its thread for ever: gthread's worker
  timeout only watches the event loop, not the threads.
- Connections are closed without waiting for the peer: a FIN, what the peer already sent is
  drained, then the socket is closed.

Anything this worker does not understand (TLS, HTTP/2, uWSGI) takes gthread's own path. It relies
on gthread's internals as of gunicorn 27.0.1 (pinned in requirements.txt); tests/test_serving.py
runs it under real gunicorn, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

__all__ = ["HEAD_LIMIT", "HEAD_TIMEOUT", "STALL_TIMEOUT", "HeadFirstWorker"]

# A request head is a few hundred bytes: even over a border post's slow link it arrives in well
# under a second. Ten seconds leave room for a retransmitted packet or two.
HEAD_TIMEOUT = 10.0
# As nginx's default large_client_header_buffers (4 × 8 KiB): more is refused with 431.
HEAD_LIMIT = 32 * 1024
# A request thread waits this long for the client to send or take any byte before giving up.
STALL_TIMEOUT = 20

_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class HeadFirstWorker(ThreadWorker):
    """gthread, except that the event loop, not a thread, waits for each request head to arrive."""

    def __init__(self, *args, **kwargs) -> None:
        """Start with no connection waiting for its head."""
        super().__init__(*args, **kwargs)
        self.heads: dict[_Conn, float] = {}  # connections whose head is still arriving -> deadline
        cfg = self.cfg
        self.plain = not cfg.is_ssl and cfg.http_protocols == ["h1"] and getattr(cfg, "protocol", "http") == "http"

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and start gathering its request head."""
        if not self.plain:
            super().accept(listener)
            return
        try:
            sock, client = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        self.nr_conns += 1
        self.enqueue_req(_Conn(self.cfg, sock, client, listener.getsockname()))

    def enqueue_req(self, conn: TConn) -> None:
        """Give conn to a thread if its request head is in; otherwise wait for the head in the event loop."""
        if not isinstance(conn, _Conn):
            super().enqueue_req(conn)
            return
        # Bytes read ahead by the previous request (a pipelined request) are the start of this head.
        conn.head = bytearray(conn.parser.unreader.take_buffered() if conn.parser is not None else b"")
        conn.sock.setblocking(False)
        self.heads[conn] = time.monotonic() + HEAD_TIMEOUT
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))
        self._read_head(conn)

    def _read_head(self, conn: _Conn, _fileobj: object = None) -> None:
        """Take what arrived for conn's head; hand conn to a thread once the head is whole."""
        if not _head_complete(conn.head):
            try:
                data = conn.sock.recv(HEAD_LIMIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop(conn)
                return
            if not data:  # the client went away before finishing its request
                self._drop(conn)
                return
            conn.head += data
            if not _head_complete(conn.head):
                if len(conn.head) >= HEAD_LIMIT:
                    self._drop(conn, answer=_TOO_LARGE)
                return
        del self.heads[conn]
        self.poller.unregister(conn.sock)
        conn.init()  # plain HTTP/1.x: makes the parser, reads nothing
        conn.parser.unreader.unread(bytes(conn.head))
        conn.head = bytearray()
        conn.data_ready = True
        super().enqueue_req(conn)

    def _drop(self, conn: _Conn, answer: bytes = b"") -> None:
        """Close a connection still waiting for its head."""
        del self.heads[conn]
        self.poller.unregister(conn.sock)
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections whose head did not arrive in time (and gthread's own pending ones)."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, deadline in self.heads.items() if deadline <= now]:
            self._drop(conn)


class _Conn(TConn):
    """A plain HTTP/1.x client connection: its request head as gathered so far; no lingering close."""

    def __init__(self, cfg, sock: socket.socket, client, server) -> None:
        """Wrap an accepted socket (gthread makes it non-blocking) and bound its stalls in threads."""
        super().__init__(cfg, sock, client, server)
        self.head = bytearray()
        _set_stall_timeout(sock)

    def close(self, graceful: bool = False) -> None:
        """Close from the event loop without waiting: FIN, drain what already came, close.

        gthread's graceful close waits up to 2 s for the peer to close its end, blocking the
        event loop: a client that keeps its end open would stall every connection of the worker.
        """
        try:
            if graceful:
                self.sock.shutdown(socket.SHUT_WR)
                self.sock.setblocking(False)
                while self.sock.recv(65536):
                    pass
        except OSError:
            pass
        finally:
            self.sock.close()


def _head_complete(head: bytearray) -> bool:
    """Return True once a request head has ended, or holds a bare LF (the parser refuses it at once)."""
    return b"\r\n\r\n" in head or head.count(b"\n") != head.count(b"\r\n")


def _set_stall_timeout(sock: socket.socket) -> None:
    """Make a blocking read or write on sock fail after STALL_TIMEOUT seconds without progress."""
    value = struct.pack("ll", STALL_TIMEOUT, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
