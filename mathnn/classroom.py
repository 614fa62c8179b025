"""Send a checker's verdict to the class view of a JupyterHub, so the instructor sees who is stuck where.

    report({"lesson": 1, "part": "relu", "state": "wrong", "hint": "...", "time": "2026-12-07T10:00:00+00:00"})

Only under a hub that runs the class view (deploy/classview.py): the hub gives each learner's server
JUPYTERHUB_API_TOKEN (which says who the learner is) and MATHNN_CLASS_URL (where the class view
listens), and every kernel inherits both. Anywhere else (a laptop, CI) ``report`` does nothing and
touches no network. It never raises and waits at most TIMEOUT seconds: a class view that is down or
slow costs a learner one line of warning per kernel, never a checker.
"""

import json
import os
import sys
import urllib.request

TIMEOUT = 2.0  # seconds
_warned = False  # one warning per kernel is enough


def report(entry):
    """POST one verdict (a dict, see the module docstring) to MATHNN_CLASS_URL + "api/verdicts".

    Returns True if the class view stored it, False if there is no hub (nothing sent) or it failed.
    """
    global _warned
    url, token = os.environ.get("MATHNN_CLASS_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return False
    try:
        request = urllib.request.Request(
            url.rstrip("/") + "/api/verdicts", data=json.dumps(entry).encode(), method="POST",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status == 201
    except Exception as e:  # the class view is a bonus: a checker never fails because of it
        if not _warned:
            _warned = True
            print(f"(the class view at {url} did not take this result: {type(e).__name__}: {e}; "
                  f"your checkers work as before)", file=sys.stderr)
        return False
