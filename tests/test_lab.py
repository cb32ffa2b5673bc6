"""`make lab`: JupyterLab from .venv, on the project's kernel, opened on chapters/.

Bounded smoke checks only: the pinned JupyterLab runs, a server starts, answers on
localhost and offers the "python3" kernel of .venv (the one the chapters name), and
that kernel imports this checkout's rnnlib. The server is stopped at once.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STARTUP_S = 90


def lab_env():
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # as the Makefile
    return env


def pinned_jupyterlab():
    text = (ROOT / "requirements-lab.txt").read_text()
    return re.search(r"^jupyterlab==(\S+)$", text, re.M).group(1)


def make_lab_command():
    """The command `make lab` runs (from `make -n`), as a list of arguments."""
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    line = dry.replace("\\\n", " ")
    cmd = next(ln for ln in line.splitlines() if "jupyter lab" in ln)
    return shlex.split(cmd)


def test_make_lab_runs_jupyterlab_from_the_project_environment():
    cmd = make_lab_command()
    assert cmd[:2] == [".venv/bin/jupyter", "lab"], cmd
    assert "--ServerApp.default_url=/lab/tree/chapters" in cmd


def test_pinned_jupyterlab_is_installed():
    out = subprocess.run([str(VENV_BIN / "jupyter"), "lab", "--version"],
                         capture_output=True, text=True, check=True, env=lab_env())
    assert out.stdout.strip() == pinned_jupyterlab()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


@pytest.fixture
def lab_server(tmp_path):
    port, token = free_port(), "bptt-test-token"
    # exactly what `make lab` runs, plus: no browser, a free port, a known token
    cmd = [str(ROOT / c) if c.startswith(".venv/") else c for c in make_lab_command()]
    server = subprocess.Popen(
        [*cmd, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"),
        env={**lab_env(), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                get(f"{base}/api/status", token)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n"
                                + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_lab_server_starts_and_offers_the_project_kernel(lab_server):
    base, token = lab_server
    specs = get(f"{base}/api/kernelspecs", token)
    assert specs["default"] == "python3"
    argv = specs["kernelspecs"]["python3"]["spec"]["argv"]
    python = Path(argv[0])
    assert python.parent == VENV_BIN or python.name.startswith("python"), argv
    contents = get(f"{base}/api/contents/chapters", token)
    names = {c["name"] for c in contents["content"]}
    assert {p.name for p in (ROOT / "chapters").glob("*.ipynb")} <= names


def test_project_kernel_imports_this_rnnlib():
    from jupyter_client.manager import start_new_kernel

    os.environ.setdefault("JUPYTER_PATH", lab_env()["JUPYTER_PATH"])
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "chapters"))
    try:
        out = []
        kc.execute_interactive(
            "import rnnlib, sys; print(rnnlib.__file__); print(sys.prefix)",
            timeout=60,
            output_hook=lambda m: m["msg_type"] == "stream"
            and out.append(m["content"]["text"]),
        )
        rnnlib_file, prefix = "".join(out).split()
        assert Path(rnnlib_file).resolve().is_relative_to(ROOT / "rnnlib")
        assert Path(prefix).resolve() == Path(sys.prefix).resolve()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
