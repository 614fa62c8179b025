"""The class view: a JupyterHub service that collects every learner's checker verdicts and shows the
instructor who is stuck where.

Started by the hub (``c.JupyterHub.services`` in deploy/jupyterhub_config.py), which passes it its
URL, prefix (/services/classview/) and OAuth client; its state is one SQLite file, MATHNN_CLASS_DB
(0600). Served under the prefix:

    POST api/verdicts   one verdict, {"lesson": int, "part": str, "state": "passed"|"wrong"|"not written",
                        "hint": str|null, "time": ISO-8601 str}, sent by a learner's kernel
                        (mathnn/classroom.py) with its server's token, in the Authorization header.
                        Stored under the token's user: a user named in the body is ignored.
    GET  api/class      the class as JSON          } instructors and admins only:
    GET  (the prefix)   the class page, in HTML     } anyone else gets 403

Who may do what is the hub's RBAC (deploy/jupyterhub_config.py): every user and every learner's
server token holds ``access:services!service=classview`` (so a kernel can post); reading the class
needs the custom scope ``custom:mathnn-class:read``, which the role ``class-instructors`` gives the
group ``instructors``, or the user must be a hub admin.

The page: one row per learner, one column per part (lesson and checker name), each cell the last
verdict and the number of wrong tries; per part, how many learners are stuck on it (STUCK below);
the hints shown most often.
"""

import json
import os
import re
import signal
import sqlite3
import sys
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.web import Application, HTTPError, RequestHandler, authenticated

READ_SCOPE = "custom:mathnn-class:read"
INSTRUCTORS = "instructors"
STATES = ("passed", "wrong", "not written")
PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_HINT = 2000  # characters kept of a hint
MAX_PER_LEARNER = 20_000  # verdicts kept per learner: a loop posting forever fills no disk
STUCK_TRIES = 3  # wrong tries without a pass that count as stuck even when the last verdict is not "wrong"
TOP_HINTS = 10


def is_stuck(last, wrong_tries):
    """STUCK: the last verdict is wrong, or STUCK_TRIES wrong tries and still not passed."""
    return last == "wrong" or (wrong_tries >= STUCK_TRIES and last != "passed")


def validate(entry):
    """The verdict to store, from a POSTed JSON object; raise ValueError naming the first bad field."""
    if not isinstance(entry, dict):
        raise ValueError("the body must be a JSON object")
    lesson, part, state = entry.get("lesson"), entry.get("part"), entry.get("state")
    hint, time = entry.get("hint"), entry.get("time")
    if not isinstance(lesson, int) or isinstance(lesson, bool) or not 0 <= lesson <= 99:
        raise ValueError(f"lesson must be an integer from 0 to 99, not {lesson!r}")
    if not isinstance(part, str) or not PART.fullmatch(part):
        raise ValueError(f"part must be a checker's name (letters, digits, _), not {part!r}")
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    if hint is not None and not isinstance(hint, str):
        raise ValueError(f"hint must be a string or null, not {type(hint).__name__}")
    try:
        datetime.fromisoformat(time)
    except (TypeError, ValueError):
        raise ValueError(f"time must be an ISO-8601 date and time, not {time!r}") from None
    return {"lesson": lesson, "part": part, "state": state, "hint": hint[:MAX_HINT] if hint else None,
            "time": time}


class Verdicts:
    """The verdicts of the class, in one SQLite file (created 0600: it names learners)."""

    def __init__(self, path):
        path = Path(path)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)
        self.db = sqlite3.connect(path)
        self.db.execute("""CREATE TABLE IF NOT EXISTS verdicts (id INTEGER PRIMARY KEY, user TEXT NOT NULL,
                           lesson INTEGER NOT NULL, part TEXT NOT NULL, state TEXT NOT NULL, hint TEXT,
                           time TEXT NOT NULL)""")
        self.db.execute("CREATE INDEX IF NOT EXISTS by_user ON verdicts (user, lesson, part, id)")
        self.db.commit()

    def add(self, user, entry):
        """Store one validated verdict of user; False (nothing stored) when user has MAX_PER_LEARNER already."""
        (count,) = self.db.execute("SELECT COUNT(*) FROM verdicts WHERE user = ?", (user,)).fetchone()
        if count >= MAX_PER_LEARNER:
            return False
        self.db.execute("INSERT INTO verdicts (user, lesson, part, state, hint, time) VALUES (?, ?, ?, ?, ?, ?)",
                        (user, entry["lesson"], entry["part"], entry["state"], entry["hint"], entry["time"]))
        self.db.commit()
        return True

    def summary(self):
        """The class: {"parts": [[lesson, part], ...] in lesson order, "learners": {user: {"L:part": cell}},
        "stuck": [{"lesson", "part", "stuck", "tried"}], "hints": [{"lesson", "part", "hint", "shown", "learners"}]}.

        A cell is {"state": the last verdict, "wrong": wrong tries, "time": of the last verdict, "stuck": bool}.
        """
        rows = self.db.execute("SELECT user, lesson, part, state, time FROM verdicts ORDER BY id").fetchall()
        order, learners = {}, {}
        for user, lesson, part, state, time in rows:
            order.setdefault((lesson, part), len(order))
            cell = learners.setdefault(user, {}).setdefault(f"{lesson}:{part}", {"wrong": 0})
            cell.update(state=state, time=time)
            cell["wrong"] += state == "wrong"
        parts = sorted(order, key=lambda key: (key[0], order[key]))
        for cells in learners.values():
            for cell in cells.values():
                cell["stuck"] = is_stuck(cell["state"], cell["wrong"])
        stuck = [{"lesson": lesson, "part": part,
                  "stuck": sum(cells.get(f"{lesson}:{part}", {}).get("stuck", False) for cells in learners.values()),
                  "tried": sum(f"{lesson}:{part}" in cells for cells in learners.values())}
                 for lesson, part in parts]
        hints = [{"lesson": lesson, "part": part, "hint": hint, "shown": shown, "learners": people}
                 for lesson, part, hint, shown, people in self.db.execute(
                     """SELECT lesson, part, hint, COUNT(*) AS shown, COUNT(DISTINCT user) FROM verdicts
                        WHERE hint IS NOT NULL GROUP BY lesson, part, hint ORDER BY shown DESC, lesson, part
                        LIMIT ?""", (TOP_HINTS,))]
        return {"parts": [list(key) for key in parts], "learners": dict(sorted(learners.items())),
                "stuck": stuck, "hints": hints}


def may_read_class(user):
    """An instructor (the custom scope, from the role of the group instructors) or a hub admin."""
    return READ_SCOPE in user.get("scopes", ()) or bool(user.get("admin"))


class Base(HubOAuthenticated, RequestHandler):
    @property
    def verdicts(self):
        return self.settings["verdicts"]

    def write_error(self, status_code, **kwargs):
        """The reason in words (tornado's page says only "403: Forbidden"), as JSON: {"error": ...}."""
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.finish({"error": f"{status_code}: {message}"})

    def reader(self):
        """The user, if they may read the class; else 403 (401 / the hub's login when not logged in)."""
        user = self.get_current_user()
        if user is None:
            raise HTTPError(403, "log in to the hub first")
        if not may_read_class(user):
            raise HTTPError(403, f"{user['name']} may not read the class view: it is for the group "
                                 f"{INSTRUCTORS!r} and the hub's admins")
        return user


class VerdictsHandler(Base):
    def check_xsrf_cookie(self):
        """Verdicts come with a token, never with a cookie (below): no cross-site form can post one."""

    def post(self):
        user = self.get_current_user()
        if user is None or not getattr(self, "_token_authenticated", False):
            raise HTTPError(403, "send verdicts with a hub token in the Authorization header")
        try:
            entry = validate(json.loads(self.request.body or b"null"))
        except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError is a ValueError
            raise HTTPError(400, str(e)) from None
        if not self.verdicts.add(user["name"], entry):
            raise HTTPError(429, f"{user['name']} has sent {MAX_PER_LEARNER} verdicts already")
        self.set_status(201)
        self.finish({"user": user["name"], **entry})


class ClassJSONHandler(Base):
    def get(self):
        self.reader()
        self.finish(self.verdicts.summary())


class ClassPageHandler(Base):
    @authenticated  # not logged in: to the hub's login, and back
    def get(self):
        user = self.reader()
        self.finish(render(self.verdicts.summary(), user["name"]))


SYMBOL = {"passed": "✓", "wrong": "✗", "not written": "○"}
STYLE = """body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:center}td.passed{background:#d8f5d8}
td.wrong{background:#fadada}td.stuck{background:#f5a5a5;font-weight:bold}td.hint{text-align:left}"""


def render(summary, viewer):
    """The class page (HTML) of summary (Verdicts.summary), every text escaped."""
    parts = [(lesson, part) for lesson, part in summary["parts"]]
    head = "".join(f"<th>{lesson:02d} {escape(part)}</th>" for lesson, part in parts)
    rows = []
    for user, cells in summary["learners"].items():
        tds = []
        for lesson, part in parts:
            cell = cells.get(f"{lesson}:{part}")
            if cell is None:
                tds.append('<td class="not-run">·</td>')
                continue
            tries = f" ({cell['wrong']} wrong)" if cell["wrong"] else ""
            css = "stuck" if cell["stuck"] else cell["state"].replace(" ", "-")
            tds.append(f'<td class="{css}" title="{escape(cell["state"])} at {escape(cell["time"])}">'
                       f'{SYMBOL[cell["state"]]} {escape(cell["state"])}{tries}</td>')
        rows.append(f'<tr class="learner" data-user="{escape(user)}"><th>{escape(user)}</th>{"".join(tds)}</tr>')
    stuck = "".join(f'<tr class="stuck-part" data-part="{escape(s["part"])}"><td>{s["lesson"]:02d}</td>'
                    f'<td>{escape(s["part"])}</td><td>{s["stuck"]}</td><td>{s["tried"]}</td></tr>'
                    for s in sorted(summary["stuck"], key=lambda s: -s["stuck"]))
    hints = "".join(f'<tr><td>{h["lesson"]:02d} {escape(h["part"])}</td><td>{h["shown"]}</td>'
                    f'<td>{h["learners"]}</td><td class="hint">{escape(h["hint"])}</td></tr>' for h in summary["hints"])
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>mathnn: the class</title>
<style>{STYLE}</style></head><body><h1>The class</h1><p>Seen by {escape(viewer)}. Each cell: the last verdict of
the part's checker, and how many times it said wrong. Stuck: the last verdict is wrong, or {STUCK_TRIES} wrong
tries without a pass. Reload for news.</p>
<h2>Learners</h2><table id="grid"><tr><th>learner</th>{head}</tr>{"".join(rows)}</table>
<h2>Stuck, per part</h2><table id="stuck"><tr><th>lesson</th><th>part</th><th>learners stuck</th>
<th>learners who ran it</th></tr>{stuck}</table>
<h2>Hints shown most often</h2><table id="hints"><tr><th>part</th><th>times</th><th>learners</th><th>hint</th></tr>
{hints}</table></body></html>"""


def make_app(verdicts, prefix="/services/classview/"):
    return Application([
        (prefix, ClassPageHandler),
        (url_path_join(prefix, "api/class"), ClassJSONHandler),
        (url_path_join(prefix, "api/verdicts"), VerdictsHandler),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
    ], verdicts=verdicts, cookie_secret=os.urandom(32), max_body_size=64 * 1024)


def main():
    db = os.environ.get("MATHNN_CLASS_DB")
    if not db:
        sys.exit("classview.py: set MATHNN_CLASS_DB to the SQLite file of the class's verdicts")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = make_app(Verdicts(db), os.environ["JUPYTERHUB_SERVICE_PREFIX"])
    HTTPServer(app, max_body_size=64 * 1024).listen(url.port, url.hostname)
    loop = IOLoop.current()
    for signum in (signal.SIGINT, signal.SIGTERM):  # the hub stops its services with these (SIGINT first), and
        # a hub started in the background would hand it SIGINT ignored: stop at once, whichever comes
        signal.signal(signum, lambda *_: loop.add_callback_from_signal(loop.stop))
    hub = os.getppid()  # a hub that was killed (kill -9) cannot stop its service: then stop by ourselves
    PeriodicCallback(lambda: os.getppid() == hub or loop.stop(), 2000).start()
    loop.start()


if __name__ == "__main__":
    main()
