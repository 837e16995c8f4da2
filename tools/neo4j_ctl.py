"""Start, stop and test against the local Neo4j 5.26 Community server built from Maven Central.

    NEO4J_PASSWORD=… python tools/neo4j_ctl.py start   # `make neo4j`: build, start, wait, print URI
    python tools/neo4j_ctl.py stop                     # `make neo4j-stop`
    python tools/neo4j_ctl.py test -- pytest …         # `make test`: a throwaway server for pytest

`start` builds tools/neo4j with Maven (offline once its artifacts are in ~/.m2), starts the
launcher in the background with its data and log under `.neo4j/`, waits until Bolt answers with
the password, and prints the `NEO4J_URI` to use.  Running it while the server runs only prints
the URI.  A start that fails says why in one line and exits 1.  Environment: NEO4J_PASSWORD
(required, 8 characters at least), NEO4J_BOLT_PORT (7687), NEO4J_HEAP (1g), NEO4J_PAGECACHE
(512m), NEO4J_TX_MEMORY (Neo4j's default).

`test` runs a command against a server of its own: with NEO4J_URI already set it just runs the
command; else, where Java and Maven are present, it starts a server on a free port with a random
password and its data under `.neo4j-test/`, runs the command with NEO4J_URI / NEO4J_PASSWORD set,
stops the server and exits with the command's status; without Java it runs the command as it is
(the Neo4j half of the suite then skips, saying why).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tools" / "neo4j"
CLASSES = PROJECT / "target" / "classes"
LIB = PROJECT / "target" / "lib"
SOURCES = [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*.java"))]
START_SECONDS = 180
_started: dict[int, subprocess.Popen[bytes]] = {}
"""Servers this process started, by pid, so that stop() can reap them."""


class Failed(Exception):
    """A step that failed: its one-line reason."""


def built() -> bool:
    stamp = CLASSES / "cofi" / "neo4j" / "Launcher.class"
    if not stamp.exists() or not LIB.is_dir():
        return False
    return stamp.stat().st_mtime >= max(p.stat().st_mtime for p in SOURCES)


def build() -> None:
    """Compile the launcher and gather its jars (Maven offline first, then online)."""
    if built():
        return
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise Failed("Java 17 and Maven are needed to build the local Neo4j (apt-get install "
                     "openjdk-17-jdk-headless maven)")  # fmt: skip
    command = ["mvn", "-B", "-q", "-f", str(PROJECT / "pom.xml"), "package"]
    for attempt in ([*command[:1], "-o", *command[1:]], command):
        done = subprocess.run(attempt, capture_output=True, text=True)
        if done.returncode == 0:
            return
    lines = [x for x in (done.stdout + done.stderr).splitlines() if "ERROR" in x]
    raise Failed(f"the Maven build of tools/neo4j failed: {lines[0] if lines else 'see mvn'}")


def answers(uri: str, password: str) -> str:
    """'' when Neo4j at `uri` accepts the password, else why not."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    try:
        with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
            driver.verify_connectivity()
        return ""
    except AuthError:
        return "Neo4j answers but refuses NEO4J_PASSWORD (it was started with another one)"
    except Exception as exc:  # any failure to connect is "not yet"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def running(home: Path) -> int | None:
    """The pid of the server whose data is in `home`, if it runs."""
    try:
        pid = int((home / "neo4j.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(home: Path, port: int, password: str) -> str:
    """Start (or find running) the server with its data in `home`; its URI."""
    if len(password) < 8:
        raise Failed("set NEO4J_PASSWORD (8 characters at least) to start the local Neo4j")
    uri = f"bolt://127.0.0.1:{port}"
    if running(home) is not None:
        why = answers(uri, password)
        if why:
            raise Failed(f"a local Neo4j already runs from {home} but {why}")
        return uri
    build()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_PASSWORD": password, "NEO4J_BOLT_PORT": str(port)}
    heap = os.environ.get("NEO4J_HEAP") or "1g"
    classpath = f"{CLASSES}{os.pathsep}{LIB}/*"
    java = ["java", f"-Xmx{heap}", "-XX:+ExitOnOutOfMemoryError", "-cp", classpath,
            "cofi.neo4j.Launcher", str(home / "data")]  # fmt: skip
    with (home / "neo4j.log").open("ab") as log:
        proc = subprocess.Popen(java, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)  # fmt: skip
    _started[proc.pid] = proc
    (home / "neo4j.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + START_SECONDS
    why = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (home / "neo4j.log").read_text(errors="replace").strip().splitlines()
            reason = next((x for x in reversed(tail) if "cofi-neo4j:" in x or "Exception" in x),
                          tail[-1] if tail else f"exit status {proc.returncode}")  # fmt: skip
            raise Failed(f"the local Neo4j stopped while starting: {reason.strip()} "
                         f"(log: {home / 'neo4j.log'})")  # fmt: skip
        why = answers(uri, password)
        if not why:
            return uri
        time.sleep(1)
    stop(home)
    raise Failed(f"the local Neo4j did not answer on {uri} within {START_SECONDS} s ({why})")


def stop(home: Path) -> bool:
    """Stop the server running from `home` (SIGTERM, then SIGKILL after a minute)."""
    pid = running(home)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    proc = _started.pop(pid, None)
    if proc is not None:  # started by this process: reap it (a zombie would look alive)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    else:
        for _ in range(600):
            if running(home) is None:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    (home / "neo4j.pid").unlink(missing_ok=True)
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test(command: list[str]) -> int:
    """Run `command` against a throwaway server (or the one NEO4J_URI names)."""
    if os.environ.get("NEO4J_URI") or shutil.which("java") is None:
        return subprocess.call(command)
    home = ROOT / ".neo4j-test"
    stop(home)
    shutil.rmtree(home, ignore_errors=True)
    password = secrets.token_urlsafe(18)
    uri = start(home, free_port(), password)
    print(f"neo4j-ctl: a Neo4j 5.26 server for the tests at {uri}", flush=True)
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_PASSWORD": password, "NEO4J_USERNAME": "neo4j"}
    env.pop("NEO4J_DATABASE", None)
    try:
        return subprocess.call(command, env=env)
    finally:
        stop(home)
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str]) -> int:
    home = ROOT / ".neo4j"
    try:
        if argv[:1] == ["start"]:
            port = int(os.environ.get("NEO4J_BOLT_PORT") or 7687)
            uri = start(home, port, os.environ.get("NEO4J_PASSWORD", ""))
            print(f"Neo4j 5.26 is running: NEO4J_URI={uri} (data in {home}; make neo4j-stop)")
            return 0
        if argv[:1] == ["stop"]:
            print("stopped the local Neo4j" if stop(home) else "the local Neo4j was not running")
            return 0
        if argv[:2] == ["test", "--"] and len(argv) > 2:
            return test(argv[2:])
    except Failed as exc:
        print(f"neo4j-ctl: {exc}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
