"""mathnn.classroom: a verdict goes to the class view only under a hub, never raises, never waits long.

A small HTTP server in a thread stands in for the class view (deploy/classview.py, tested in
test_classview.py); the checkers' wiring (mathnn/check/core.py) is checked through check.relu.
"""

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from mathnn import check, classroom

ENTRY = {"lesson": 1, "part": "relu", "state": "wrong", "hint": "a hint", "time": "2026-12-07T10:00:00+00:00"}


class FakeClassView(ThreadingHTTPServer):
    """Records each request as (path, headers, JSON body) and answers with status (or sleeps delay first)."""

    def __init__(self, status=201, delay=0.0):
        self.received, self.status, self.delay = [], status, delay

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((handler.path, dict(handler.headers), json.loads(body)))
                time.sleep(self.delay)
                handler.send_response(self.status)
                handler.send_header("Content-Length", "2")
                handler.end_headers()
                handler.wfile.write(b"{}")

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.handle_error = lambda request, address: None  # a client that gave up (the timeout test) is fine
        self.url = f"http://127.0.0.1:{self.server_address[1]}/services/classview/"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def view(monkeypatch):
    server = FakeClassView()
    monkeypatch.setenv("MATHNN_CLASS_URL", server.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "learner-token")
    monkeypatch.setattr(classroom, "_warned", False)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a network call without a hub")
    monkeypatch.setattr(classroom.urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("env", [{}, {"JUPYTERHUB_API_TOKEN": "t"}, {"MATHNN_CLASS_URL": "http://127.0.0.1:1/"}])
def test_without_a_hub_nothing_is_sent(monkeypatch, no_network, env, capsys):
    monkeypatch.delenv("MATHNN_CLASS_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert classroom.report(ENTRY) is False
    assert capsys.readouterr().err == ""


def test_the_verdict_goes_with_the_token(view):
    assert classroom.report(ENTRY) is True
    [(path, headers, body)] = view.received
    assert path == "/services/classview/api/verdicts"
    assert headers["Authorization"] == "token learner-token"
    assert body == ENTRY


def test_a_view_that_is_down_gives_one_warning_and_no_exception(monkeypatch, capsys):
    closed = FakeClassView()
    url = closed.url
    closed.server_close()  # nothing listens there any more
    monkeypatch.setenv("MATHNN_CLASS_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    monkeypatch.setattr(classroom, "_warned", False)
    assert classroom.report(ENTRY) is False
    assert classroom.report(ENTRY) is False
    err = capsys.readouterr().err
    assert err.count("did not take this result") == 1 and "your checkers work as before" in err


@pytest.mark.parametrize("status", [400, 403, 500])
def test_a_refusal_is_false_not_an_exception(view, status):
    view.status = status
    assert classroom.report(ENTRY) is False


def test_a_slow_view_costs_at_most_the_timeout(view, monkeypatch):
    view.delay = 3.0
    monkeypatch.setattr(classroom, "TIMEOUT", 0.3)
    start = time.monotonic()
    assert classroom.report(ENTRY) is False
    assert time.monotonic() - start < 2.0


def learners_relu(body):
    """body renamed relu, as if defined in the learner's notebook (a kernel runs the notebook as __main__)."""
    body.__module__, body.__name__, body.__qualname__ = "__main__", "relu", "relu"
    return body


def test_each_verdict_on_the_learners_own_function_is_reported(view):
    right = check.relu(learners_relu(lambda Z: np.maximum(Z, 0)))
    check.relu(learners_relu(lambda Z: Z))  # forgot the max

    def stub(Z):
        raise NotImplementedError

    check.relu(learners_relu(stub))
    check.relu(lambda Z: np.maximum(Z, 0))  # a demo under another name: checked, not recorded, not sent
    check.relu(check.relu.fallback)  # mathnn's own relu: not the learner's verdict
    bodies = [body for _, _, body in view.received]
    assert [(b["lesson"], b["part"], b["state"]) for b in bodies] == [
        (1, "relu", "passed"), (1, "relu", "wrong"), (1, "relu", "not written")]
    assert bodies[0]["hint"] is None and bodies[2]["hint"] is None
    assert "negative entries" in bodies[1]["hint"]  # the hint the learner saw
    for b in bodies:
        assert datetime.fromisoformat(b["time"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    assert callable(right)


def test_checkers_without_a_hub_work_as_before(monkeypatch, no_network, capsys):
    monkeypatch.delenv("MATHNN_CLASS_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    mine = lambda Z: np.maximum(Z, 0)  # noqa: E731
    assert check.relu(mine) is mine
    assert check.relu(lambda Z: Z) is check.relu.fallback
    out = capsys.readouterr()
    assert "✓ relu" in out.out and "✗ relu" in out.out and out.err == ""
