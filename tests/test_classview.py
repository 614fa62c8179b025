"""deploy/classview.py, the class view service: what it accepts, what it stores, who may read it, what it shows.

The hub's part (who a token belongs to, its scopes) is replaced here by a table of tokens -> user models
like the ones HubAuth returns; the real hub, with its roles, is exercised by tests/browser/test_hub.py.
"""

import importlib.util
import json
import stat
from pathlib import Path

import pytest
from tornado.testing import AsyncHTTPTestCase

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("classview", ROOT / "deploy" / "classview.py")
classview = importlib.util.module_from_spec(spec)
spec.loader.exec_module(classview)

ACCESS = "access:services!service=classview"
USERS = {  # token -> the user model HubAuth would return for it
    "ada-token": {"name": "ada", "admin": False, "groups": [], "scopes": [ACCESS]},
    "alan-token": {"name": "alan", "admin": False, "groups": [], "scopes": [ACCESS]},
    "teacher-token": {"name": "teacher", "admin": False, "groups": ["instructors"],
                      "scopes": [ACCESS, classview.READ_SCOPE]},
    "root-token": {"name": "root", "admin": True, "groups": [], "scopes": [ACCESS]},
}


def entry(**changes):
    return {"lesson": 1, "part": "relu", "state": "wrong", "hint": "h", "time": "2026-12-07T10:00:00+00:00",
            **changes}


# --- validation ---------------------------------------------------------------------------------

def test_a_good_verdict_is_kept_as_sent():
    assert classview.validate(entry()) == entry()
    assert classview.validate(entry(state="passed", hint=None))["hint"] is None


@pytest.mark.parametrize("bad, field", [
    ([], "object"), (entry(lesson="1"), "lesson"), (entry(lesson=True), "lesson"), (entry(lesson=100), "lesson"),
    (entry(part="relu; drop"), "part"), (entry(part=""), "part"), (entry(part=None), "part"),
    (entry(state="ok"), "state"), (entry(hint=3), "hint"), (entry(time="yesterday"), "time"),
    (entry(time=None), "time")])
def test_a_bad_verdict_is_refused_naming_the_field(bad, field):
    with pytest.raises(ValueError, match=field):
        classview.validate(bad)


def test_a_long_hint_is_cut():
    assert len(classview.validate(entry(hint="x" * 10_000))["hint"]) == classview.MAX_HINT


# --- storage and the summary ----------------------------------------------------------------------

@pytest.fixture
def verdicts(tmp_path):
    return classview.Verdicts(tmp_path / "classview.sqlite")


def test_the_database_is_private(tmp_path, verdicts):
    assert stat.S_IMODE((tmp_path / "classview.sqlite").stat().st_mode) == 0o600


def test_summary_last_state_tries_and_stuck(verdicts):
    for user, lesson, part, state, hint in [
        ("ada", 1, "relu", "wrong", "max"), ("ada", 1, "relu", "passed", None),       # fixed it: not stuck
        ("alan", 1, "relu", "wrong", "max"),                                            # last is wrong: stuck
        ("bea", 1, "relu", "wrong", "max"), ("bea", 1, "relu", "wrong", "axis"),
        ("bea", 1, "relu", "wrong", "max"), ("bea", 1, "relu", "not written", None),  # 3 wrong, no pass: stuck
        ("ada", 0, "one_hot", "passed", None), ("alan", 1, "softmax", "not written", None)]:
        assert verdicts.add(user, entry(lesson=lesson, part=part, state=state, hint=hint))
    s = verdicts.summary()
    assert s["parts"] == [[0, "one_hot"], [1, "relu"], [1, "softmax"]]  # lesson order, then first seen
    assert s["learners"]["ada"]["1:relu"] == {"state": "passed", "wrong": 1, "stuck": False,
                                              "time": "2026-12-07T10:00:00+00:00"}
    assert s["learners"]["alan"]["1:relu"]["stuck"] and s["learners"]["bea"]["1:relu"]["stuck"]
    assert s["learners"]["bea"]["1:relu"]["state"] == "not written"
    assert "0:one_hot" not in s["learners"]["bea"]
    stuck = {(x["lesson"], x["part"]): (x["stuck"], x["tried"]) for x in s["stuck"]}
    assert stuck == {(0, "one_hot"): (0, 1), (1, "relu"): (2, 3), (1, "softmax"): (0, 1)}
    assert [(h["hint"], h["shown"], h["learners"]) for h in s["hints"]] == [("max", 4, 3), ("axis", 1, 1)]


def test_verdicts_last_across_restarts(tmp_path):
    classview.Verdicts(tmp_path / "v.sqlite").add("ada", entry())
    assert classview.Verdicts(tmp_path / "v.sqlite").summary()["learners"]["ada"]["1:relu"]["state"] == "wrong"


def test_a_learner_cannot_fill_the_disk(verdicts, monkeypatch):
    monkeypatch.setattr(classview, "MAX_PER_LEARNER", 3)
    assert all(verdicts.add("ada", entry()) for _ in range(3))
    assert not verdicts.add("ada", entry())
    assert verdicts.add("alan", entry())


def test_the_page_escapes_what_learners_send():
    page = classview.render({"parts": [[1, "relu"]], "learners": {"<b>ada</b>": {
        "1:relu": {"state": "wrong", "wrong": 1, "stuck": True, "time": "t"}}},
        "stuck": [{"lesson": 1, "part": "relu", "stuck": 1, "tried": 1}],
        "hints": [{"lesson": 1, "part": "relu", "hint": "<script>alert(1)</script>", "shown": 1, "learners": 1}]},
        "teacher")
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>ada" not in page


# --- HTTP: who may post and read ------------------------------------------------------------------

def fake_current_user(handler):
    """What HubOAuthenticated.get_current_user returns: the token's user (a header token), or the cookie's."""
    auth = handler.request.headers.get("Authorization", "")
    if auth.startswith("token "):
        handler._token_authenticated = True
        return USERS.get(auth.split(" ", 1)[1])
    return USERS.get(handler.get_cookie("fake-login", ""))


class TestHTTP(AsyncHTTPTestCase):
    def get_app(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.verdicts = classview.Verdicts(Path(self.tmp.name) / "v.sqlite")
        return classview.make_app(self.verdicts)

    def setUp(self):
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(classview.Base, "get_current_user", fake_current_user)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        self.patch.undo()
        self.tmp.cleanup()

    def post(self, body, token=None, cookie=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        if cookie:
            headers["Cookie"] = f"fake-login={cookie}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.fetch("/services/classview/api/verdicts", method="POST", body=data, headers=headers)

    def get(self, path, token):
        return self.fetch(f"/services/classview/{path}", headers={"Authorization": f"token {token}"},
                          follow_redirects=False)

    def test_a_learner_posts_their_own_verdict_only(self):
        response = self.post({**entry(), "user": "alan", "name": "alan"}, token="ada-token")
        assert response.code == 201
        assert json.loads(response.body)["user"] == "ada"
        assert list(self.verdicts.summary()["learners"]) == ["ada"]

    def test_no_token_no_post(self):
        assert self.post(entry()).code == 403
        assert self.post(entry(), token="stolen").code == 403
        assert self.post(entry(), cookie="ada-token").code == 403  # a cookie (another site's form) is not enough
        assert self.verdicts.summary()["learners"] == {}

    def test_a_bad_body_is_400_with_its_reason(self):
        response = self.post(b"{not json", token="ada-token")
        assert response.code == 400
        response = self.post(entry(state="great"), token="ada-token")
        assert response.code == 400 and b"state must be one of" in response.body
        assert self.verdicts.summary()["learners"] == {}

    def test_learners_may_not_read_the_class(self):
        self.post(entry(), token="ada-token")
        for path in ("", "api/class"):
            response = self.get(path, "ada-token")
            assert response.code == 403, path
            assert b"ada" in response.body and b"instructors" in response.body
            assert b"relu" not in response.body

    def test_instructors_and_admins_read_the_class(self):
        self.post(entry(), token="ada-token")
        self.post(entry(state="passed", hint=None), token="alan-token")
        for token in ("teacher-token", "root-token"):
            summary = json.loads(self.get("api/class", token).body)
            assert summary["learners"]["ada"]["1:relu"]["state"] == "wrong"
            assert summary["learners"]["alan"]["1:relu"]["state"] == "passed"
            page = self.get("", token)
            assert page.code == 200
            assert b'data-user="ada"' in page.body and b'data-user="alan"' in page.body
