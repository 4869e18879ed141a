"""Production server settings (make serve / make run): sized for the machine's cores."""

import multiprocessing
import os

bind = os.environ.get("KB_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
# Search is CPU-bound pure Python: one process per core, plus one so a core never idles
# while another worker waits on disk. Each worker keeps its own index reader open.
workers = int(os.environ.get("WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Slow clients on a border post link are buffered by the kernel; keep requests short.
timeout = 30
graceful_timeout = 10
keepalive = 5
# Recycle workers now and then so memory stays bounded over months of uptime.
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("KB_ACCESS_LOG", "-") or None  # KB_ACCESS_LOG= (empty) turns it off
errorlog = "-"
control_socket_disable = True
