"""JupyterHub for a LOCAL TRIAL of the course: a few learners on 127.0.0.1, one shared password.

NOT FOR A REAL CLASS: every learner's server runs as the user who started the hub (no isolation between
learners: any learner can read the password and the cookie secret and log in as any other), and one password
opens every account. Never give it a bind_url other than 127.0.0.1. A class uses The Littlest JupyterHub or
Zero to JupyterHub (docs/teaching.md), where each learner is a separate system user or container.

    make hub      # = deploy/class_repo.py + jupyterhub -f deploy/jupyterhub_config.py, on http://127.0.0.1:8000
    make hub HUB_PORT=18000 MATHNN_HUB_PASSWORD=...   # another port (18000 to 18003), your own password

What it sets up, as a real hub would:
- learners learner1, learner2, learner3 (MATHNN_HUB_USERS="a,b,c" for others) and the instructor
  "instructor" (MATHNN_HUB_INSTRUCTORS), all with the password in MATHNN_HUB_PASSWORD (8 characters or more;
  without it, a random one is made and printed in the log);
- each learner's server is JupyterLab in their own home folder, MATHNN_HUB_DIR/home/NAME;
- the learner's edition arrives the way a class gets it: the server opens on the nbgitpuller link of the class
  repository MATHNN_CLASS_REPO (default MATHNN_HUB_DIR/mathnn-class, made by deploy/class_repo.py), which
  clones it into ~/mathnn-class on the first visit and merges updates later, keeping the learner's edits;
- every kernel reads MNIST from the one shared folder MATHNN_DATA (an absolute path; prepared once, read
  only, see docs/teaching.md), and runs its BLAS on one thread;
- the class view (deploy/classview.py), a service of this hub: every checker verdict of a learner's kernel
  goes there (mathnn/classroom.py), and the instructors (MATHNN_HUB_INSTRUCTORS, default "instructor", in the
  group "instructors") read it at /services/classview/; learners get 403 there;
- JupyterLab's defaults for the class (deploy/lab-settings/overrides.json: no "Jupyter news?" prompt), and
  each learner's memory in the status bar (jupyter-resource-usage, installed with the hub extra).

The hub's own state (its sqlite database, cookie secret, the proxy's pid file, the class view's verdicts) and
the homes live in MATHNN_HUB_DIR (default build/hub; make hub: build/hub/port-HUB_PORT), private to the user
who runs the hub (0700 / 0600). Run as root, every learner's server runs as root: the hub says so at its start.
Ports: MATHNN_HUB_PORT (make hub's HUB_PORT, default 8000) is the public one; the hub's API takes the next
(+1), the proxy's API +2, the class view +3: so `make hub HUB_PORT=18000` runs beside a hub on 8000. A port
in use stops the start with a message that names it.

Spawner: SimpleLocalProcessSpawner (all learners are the hub's own user, each with their own home). The real
LocalProcessSpawner needs one system user per learner, created by root (useradd): a trial on a laptop or a CI
machine should not create system users, and the hub test (tests/browser/test_hub.py) must run as root or not.
"""

import os
import secrets
import socket
import sys
from pathlib import Path
from urllib.parse import quote

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821 (defined by JupyterHub when it loads this file)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the environment JupyterHub runs in: .venv/bin
STATE = Path(os.environ.get("MATHNN_HUB_DIR") or ROOT / "build" / "hub").resolve()
STATE.mkdir(parents=True, exist_ok=True)
STATE.chmod(0o700)  # the database, the cookie secret and the learners' homes: for the hub's user only


def stop(message):
    """End the start with one line (no traceback): the trial hub cannot run as configured."""
    print(f"[mathnn] cannot start the hub: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def port_in_use(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def private_file(path):
    """Create path (empty) readable by its owner only, or make it so if it exists."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


def shared_data():
    """MATHNN_DATA: the shared MNIST folder, required, absolute (a kernel works in its notebook's folder)."""
    data = os.environ.get("MATHNN_DATA", "")
    if not data or not os.path.isabs(data) or not os.path.isdir(data):
        stop(f"MATHNN_DATA={data!r} must be the absolute path of the shared MNIST folder "
             f"(prepared once: see docs/teaching.md); `make hub` sets it")
    return data


# --- the hub, the proxy and their state ---------------------------------------------------------
try:
    PORT = int(os.environ.get("MATHNN_HUB_PORT") or 8000)
    if not 1024 <= PORT <= 65532:
        raise ValueError
except ValueError:
    stop(f"HUB_PORT (MATHNN_HUB_PORT) is {os.environ.get('MATHNN_HUB_PORT')!r}: give a port from 1024 to 65532")
PORTS = {"public": PORT, "hub API": PORT + 1, "proxy API": PORT + 2, "class view": PORT + 3}
PROXY_PID = STATE / "jupyterhub-proxy.pid"
# a proxy left running by a hub that was killed holds two of the ports: JupyterHub stops it (it has its pid)
_left_proxy = PROXY_PID.exists() and PROXY_PID.read_text().strip().isdigit() and Path(
    f"/proc/{PROXY_PID.read_text().strip()}").exists()
for what, port in PORTS.items():
    if port_in_use(port) and not (_left_proxy and what in ("public", "proxy API")):
        stop(f"port {port} ({what}) is in use on 127.0.0.1 — another hub, or another server, runs there. This "
             f"hub uses HUB_PORT to HUB_PORT+3 ({PORT}-{PORT + 3}): stop the other one, or pick free ports, "
             f"e.g. make hub HUB_PORT={PORT + 10000 if PORT < 55000 else PORT - 10000}")
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORTS['public']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORTS["hub API"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORTS['proxy API']}"
private_file(STATE / "jupyterhub.sqlite")  # sqlite keeps the mode of the file it is given
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
# configurable-http-proxy: its Python implementation (pip install configurable-http-proxy), from this
# environment; npm's (npm install -g configurable-http-proxy) works the same, when it is on PATH.
c.ConfigurableHTTPProxy.command = [str(BIN / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(PROXY_PID)
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server

# --- learners and instructors: one shared password (local trial only) ---------------------------
def names(variable, default):
    return [u.strip() for u in os.environ.get(variable, default).split(",") if u.strip()]


USERS = names("MATHNN_HUB_USERS", "learner1,learner2,learner3")
INSTRUCTORS = names("MATHNN_HUB_INSTRUCTORS", "instructor")
PASSWORD = os.environ.get("MATHNN_HUB_PASSWORD") or secrets.token_urlsafe(12)
if len(PASSWORD) < 8:
    stop(f"MATHNN_HUB_PASSWORD has {len(PASSWORD)} characters: JupyterHub's shared password needs 8 or more "
         f"(or leave MATHNN_HUB_PASSWORD unset: a random one is made and printed)")
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allowed_users = set(USERS) | set(INSTRUCTORS)
if not os.environ.get("MATHNN_HUB_PASSWORD"):
    print(f"[mathnn] log in as {' or '.join(USERS)} (learners) or {' or '.join(INSTRUCTORS)} (instructors) "
          f"with the password {PASSWORD} (or set MATHNN_HUB_PASSWORD)", flush=True)
if os.geteuid() == 0:
    print("[mathnn] WARNING: the hub runs as root, so every learner's server and kernel runs as root too, "
          "with root's access to this machine. For a trial only: start it as an ordinary user.",
          file=sys.stderr, flush=True)

# --- the class view: every checker verdict, for the instructors (deploy/classview.py) ------------
# RBAC: every user, and every learner's server token, may reach the service (a kernel posts its own verdicts,
# under the token's user); reading the class needs the custom scope, given to the group "instructors" (hub
# admins may read it too: the service checks their admin flag).
CLASS_VIEW = "classview"
CLASS_URL = f"http://127.0.0.1:{PORTS['class view']}"
CLASS_ACCESS = f"access:services!service={CLASS_VIEW}"
c.JupyterHub.custom_scopes = {"custom:mathnn-class:read": {"description": "read every learner's checker verdicts"}}
c.JupyterHub.load_groups = {"instructors": {"users": INSTRUCTORS}}
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", CLASS_ACCESS]},
    {"name": "class-instructors", "description": "read the class view", "groups": ["instructors"],
     "scopes": ["custom:mathnn-class:read", CLASS_ACCESS]},
]
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", CLASS_ACCESS]
c.JupyterHub.services = [{
    "name": CLASS_VIEW,
    "url": CLASS_URL,
    "command": [sys.executable, str(ROOT / "deploy" / "classview.py")],
    "environment": {"MATHNN_CLASS_DB": str(STATE / "classview.sqlite")},
    "oauth_client_allowed_scopes": ["custom:mathnn-class:read"],
    "oauth_no_confirm": True,
}]

# --- each learner's server: JupyterLab in their own home ----------------------------------------
c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")


def private_home(spawner):
    """Each home 0700 (the spawner would make it 0755)."""
    home = STATE / "home" / spawner.user.name
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)


c.Spawner.pre_spawn_hook = private_home
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
# a kernel idle for 30 minutes is stopped, and its memory returns to the class (the notebook stays saved)
c.Spawner.args = ["--MappingKernelManager.cull_idle_timeout=1800", "--MappingKernelManager.cull_interval=300",
                  # JupyterLab's defaults for the class (deploy/lab-settings/overrides.json): no "Jupyter news?" prompt
                  f"--LabApp.app_settings_dir={ROOT / 'deploy' / 'lab-settings'}"]
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # CI may run as root; a real hub never runs learners as root
c.Spawner.start_timeout = 120  # seconds; a busy machine starts JupyterLab slowly
c.Spawner.http_timeout = 120

# The learner's edition, delivered by nbgitpuller: the first visit clones the class repository into
# ~/mathnn-class, later visits merge the instructor's updates (docs/teaching.md, "Updating the course").
CLASS_REPO = os.environ.get("MATHNN_CLASS_REPO") or str(STATE / "mathnn-class")
CLASS_DIR = CLASS_REPO.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
c.Spawner.default_url = (f"/git-pull?repo={quote(CLASS_REPO, safe='')}&branch=main"
                         f"&urlpath={quote(f'lab/tree/{CLASS_DIR}/learner/00_data.ipynb', safe='')}")

c.Spawner.environment = {
    "MATHNN_DATA": shared_data(),  # one MNIST for all: read-only, memory-mapped by every kernel
    "OPENBLAS_NUM_THREADS": "1",  # one BLAS thread per kernel: a class shares the cores
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "/usr/bin:/bin")]),  # this env's python, git
    "MATHNN_CLASS_URL": f"{CLASS_URL}/services/{CLASS_VIEW}/",  # where the checkers send verdicts
    # each learner's trained networks (lesson 04 saves one, lesson 08 loads it) in their own home, not in the
    # repository's trained/, which every learner of this trial would otherwise share
    "MATHNN_TRAINED": lambda spawner: str(STATE / "home" / spawner.user.name / ".mathnn" / "trained"),
}

# Limits: LocalProcessSpawner cannot enforce them (it only passes MEM_LIMIT / CPU_LIMIT to the server).
# The spawners of a real hub do: TLJH (`tljh-config set limits.memory 1.5G`, `limits.cpu 1`) and
# Zero to JupyterHub (singleuser.memory / singleuser.cpu in config.yaml); figures in docs/teaching.md.
# c.Spawner.mem_guarantee = "300M"
# c.Spawner.mem_limit = "1.5G"
# c.Spawner.cpu_limit = 1
