"""waitress, wired so that a health check never waits behind other connections.

Three things stock waitress does not give:

- **Many connections.** waitress stops accepting at ``connection_limit`` (default 100), so
  101 idle keep-alive connections made /healthz time out. The limit is raised to 1,000
  (less if the file-descriptor limit, raised to its hard limit, is lower), idle ones are
  still reaped after ``channel_timeout``, and the loop uses poll(), which has no 1,024-fd
  ceiling as select() has.
- **/healthz without a worker thread.** A ``GET``/``HEAD`` of exactly ``/healthz`` is served
  inline in waitress' main loop instead of queueing for a thread, so 16 requests asleep in
  the sink (or waiting on ``?wait=``) cannot hold it up. It still goes through the real WSGI
  app, which stays the single source of the answer; that view must stay cheap and never block.
- **Waiting readers answered at stop.** At shutdown waitress waits (5 s) for the threads
  serving requests; readers blocked on the sink (``GET /api/sink?wait=``) are woken first, so
  they answer with what they have and a stop is not held up by them.
- **Errors in JSON.** waitress' own answers (413 body too large, 400 unparseable request,
  431 headers too large) come in the API's JSON error shape instead of text/plain. Its body
  limit sits a little above ``MOCK_NORCE_MAX_BODY`` so that bodies just over the limit are
  read whole and answered by Flask (also JSON) rather than cut off mid-upload.
"""

from __future__ import annotations

import json
import resource

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from mock_norce.web.paths import HEALTH_PATH

CONNECTION_LIMIT = 1000
FDS_KEPT = 128  # for the database, outgoing deliveries, logs: never given to clients
BODY_SLACK = 64 * 1024
CHANNEL_TIMEOUT = 60  # seconds an idle connection is kept
_CODES = {400: "bad_request", 413: "too_large", 431: "headers_too_large", 500: "internal_error",
          501: "not_implemented"}


def raise_fd_limit(wanted: int = CONNECTION_LIMIT + FDS_KEPT) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (at most the hard limit); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_limit(fd_limit: int) -> int:
    return max(16, min(CONNECTION_LIMIT, fd_limit - FDS_KEPT))


def is_health_check(request) -> bool:
    return request.error is None and request.command in ("GET", "HEAD") and request.path == HEALTH_PATH


class JsonErrorTask(ErrorTask):
    """waitress' own error answers, in the API's ``{"error", "message"}`` shape."""

    def execute(self):
        error = self.request.error
        if error.code == 413:
            message = f"request body larger than {self.channel.server.max_body} bytes"
        else:
            message = f"{error.reason}: {error.body}"
        body = json.dumps({"error": _CODES.get(error.code, "bad_request"), "message": message}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class WakingTaskDispatcher(ThreadedTaskDispatcher):
    """waitress' thread pool, which wakes waiting requests (``wake``) before it waits for its threads to end."""

    def __init__(self, wake=None):
        super().__init__()
        self.wake = wake

    def shutdown(self, cancel_pending=True, timeout=5):
        if self.wake is not None:
            self.wake()
        return super().shutdown(cancel_pending, timeout)


class HealthFirstChannel(HTTPChannel):
    error_task_class = JsonErrorTask
    _reading = False  # in handle_read, i.e. on the main loop's thread
    _inline = False  # a health check is waiting to be served right here

    def handle_read(self):
        self._reading = True
        try:
            super().handle_read()
        finally:
            self._reading = False
        # received() holds requests_lock when it hands the request over, and service() takes
        # it again at its end: so the request is served here, after received() has let go.
        while self._inline:
            self._inline = False
            self.service()


class HealthFirstServer(TcpWSGIServer):
    channel_class = HealthFirstChannel
    max_body = 0

    def add_task(self, channel):
        if getattr(channel, "_reading", False) and is_health_check(channel.requests[0]):
            channel._inline = True
            return
        super().add_task(channel)


def make_server(app, settings):
    """The server for ``serve``: ``.run()``, ``.close()``, ``.effective_port``. OSError if it cannot bind."""
    adj = Adjustments(host=settings.host, port=settings.port, threads=settings.threads, ident="mock-norce",
                      max_request_body_size=settings.max_body + BODY_SLACK, channel_timeout=CHANNEL_TIMEOUT,
                      connection_limit=connection_limit(raise_fd_limit()), asyncore_use_poll=True,
                      clear_untrusted_proxy_headers=True)
    core = app.extensions.get("mock_norce")
    dispatcher = WakingTaskDispatcher(core.sink.close if core is not None else None)
    sockets: dict = {}
    servers = []
    try:
        for info in adj.listen:
            server = HealthFirstServer(app, sockets, dispatcher=dispatcher, adj=adj, sockinfo=info)
            server.max_body = settings.max_body
            servers.append(server)
    except OSError:
        for server in servers:
            server.close()
        raise
    dispatcher.set_thread_count(adj.threads)  # only once every socket is bound
    if len(servers) == 1:
        return servers[0]
    multi = MultiSocketServer(sockets, adj, [(s.effective_host, s.effective_port) for s in servers], dispatcher,
                              servers[-1].log_info)
    multi.effective_port = servers[0].effective_port
    return multi
