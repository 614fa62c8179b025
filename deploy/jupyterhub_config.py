"""JupyterHub for a LOCAL TRIAL of the course: a few learners on 127.0.0.1, one shared password.

NOT FOR A REAL CLASS: every learner's server runs as the user who started the hub (no isolation between
learners: any learner can read the password and the cookie secret and log in as any other), and one password
opens every account. Never give it a bind_url other than 127.0.0.1. A class uses The Littlest JupyterHub or
Zero to JupyterHub (docs/teaching.md), where each learner is a separate system user or container.

    make hub      # = deploy/class_repo.py + jupyterhub -f deploy/jupyterhub_config.py, on http://127.0.0.1:8000

What it sets up, as a real hub would:
- learners learner1, learner2, learner3 (MATHNN_HUB_USERS="a,b,c" for others), all with the password in
  MATHNN_HUB_PASSWORD (8 characters or more; without it, a random one is made and printed in the log);
- each learner's server is JupyterLab in their own home folder, MATHNN_HUB_DIR/home/NAME;
- the learner's edition arrives the way a class gets it: the server opens on the nbgitpuller link of the class
  repository MATHNN_CLASS_REPO (default MATHNN_HUB_DIR/mathnn-class, made by deploy/class_repo.py), which
  clones it into ~/mathnn-class on the first visit and merges updates later, keeping the learner's edits;
- every kernel reads MNIST from the one shared folder MATHNN_DATA (an absolute path; prepared once, read
  only, see docs/teaching.md), and runs its BLAS on one thread.

The hub's own state (its sqlite database, cookie secret, the proxy's pid file) and the homes live in
MATHNN_HUB_DIR (default build/hub). Ports on the command line override the ones here:
jupyterhub -f deploy/jupyterhub_config.py --JupyterHub.bind_url http://127.0.0.1:8000 --JupyterHub.hub_port 8081
--ConfigurableHTTPProxy.api_url http://127.0.0.1:8001

Spawner: SimpleLocalProcessSpawner (all learners are the hub's own user, each with their own home). The real
LocalProcessSpawner needs one system user per learner, created by root (useradd): a trial on a laptop or a CI
machine should not create system users, and the hub test (tests/browser/test_hub.py) must run as root or not.
"""

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import quote

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821 (defined by JupyterHub when it loads this file)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the environment JupyterHub runs in: .venv/bin
STATE = Path(os.environ.get("MATHNN_HUB_DIR") or ROOT / "build" / "hub").resolve()
STATE.mkdir(parents=True, exist_ok=True)


def shared_data():
    """MATHNN_DATA: the shared MNIST folder, required, absolute (a kernel works in its notebook's folder)."""
    data = os.environ.get("MATHNN_DATA", "")
    if not data or not os.path.isabs(data) or not os.path.isdir(data):
        sys.exit(f"jupyterhub_config.py: MATHNN_DATA={data!r} must be the absolute path of the shared MNIST folder "
                 f"(prepared once: see docs/teaching.md); `make hub` sets it")
    return data


# --- the hub, the proxy and their state ---------------------------------------------------------
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
# configurable-http-proxy: its Python implementation (pip install configurable-http-proxy), from this
# environment; npm's (npm install -g configurable-http-proxy) works the same, when it is on PATH.
c.ConfigurableHTTPProxy.command = [str(BIN / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server

# --- learners: one shared password (local trial only) ------------------------------------------
USERS = [u.strip() for u in os.environ.get("MATHNN_HUB_USERS", "learner1,learner2,learner3").split(",") if u.strip()]
PASSWORD = os.environ.get("MATHNN_HUB_PASSWORD") or secrets.token_urlsafe(12)
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allowed_users = set(USERS)
if not os.environ.get("MATHNN_HUB_PASSWORD"):
    print(f"[mathnn] log in as {' or '.join(USERS)} "
          f"with the password {PASSWORD} (or set MATHNN_HUB_PASSWORD)", flush=True)

# --- each learner's server: JupyterLab in their own home ----------------------------------------
c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
# a kernel idle for 30 minutes is stopped, and its memory returns to the class (the notebook stays saved)
c.Spawner.args = ["--MappingKernelManager.cull_idle_timeout=1800", "--MappingKernelManager.cull_interval=300"]
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
