"""Shared by the HTTP benches: gunicorn on loopback over the throwaway database, one-off requests, and
load with wrk (or, without wrk, a small Python load generator)."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"


def database_url(name: str) -> str:
    """DATABASE_URL with the throwaway database `name` in place of its own; host, user, options kept."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    pid: int
    log: Path

    def log_tail(self, lines=40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        return children_of(self.pid)


@contextmanager
def gunicorn(database: str, *, workers=2, settings="_bench_settings", env=None):
    """gunicorn with sync workers on a free loopback port, on `database`, DEBUG off, with `env` added to the
    environment; stopped on the way out, whatever happens (before the database is dropped: its workers
    hold connections to it)."""
    port = free_port()
    env = {
        **os.environ,  # SECRET_KEY included: sessions made by the bench must verify in the server
        "DATABASE_URL": database_url(database),
        "DJANGO_SETTINGS_MODULE": settings,
        "DEBUG": "0",
        # Plain HTTP on loopback, whatever deployment variables the shell holds: a redirect to HTTPS or a
        # refused Host would be measured instead of the endpoint.
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "practice_center.wsgi:application",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind={HOST}:{port}",
        f"--chdir={ROOT}",
        f"--pythonpath={BENCH_DIR}",
        "--timeout=120",
        # No control socket: its default path is one per user, shared with any other gunicorn running here.
        "--no-control-socket",
    ]
    with tempfile.NamedTemporaryFile("w+b", prefix="bench-gunicorn-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(port=port, pid=process.pid, log=Path(log.name))
    try:
        _wait_until_it_answers(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.log.unlink(missing_ok=True)


def _wait_until_it_answers(process, server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
        try:
            get(server.port, "/api/bench/django-ok/")  # any answer will do, even the redirect to log in
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{server.log_tail()}")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


def get(port: int, path: str, cookie: str = "") -> Answer:
    """One request on a new connection, as wrk's requests to a sync worker are (it closes each one)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        start = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, response.headers, body, time.perf_counter() - start)
    finally:
        connection.close()


# CPU time from /proc (Linux): what the server side spends per request, whatever else the machine runs.
# Requests per second fall when a test run elsewhere takes a CPU; CPU time per request barely moves.
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        # The command name, in parentheses, may hold spaces: the fields are what follows its last ")".
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids) -> dict[int, float]:
    """User plus system CPU time of each process still there (fields 14 and 15 of /proc/<pid>/stat)."""
    times = {}
    for pid in pids:
        fields = _stat(pid)
        if fields:
            times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return times


@dataclass
class Load:
    requests_per_second: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx answers and socket errors: a run with any is not a measurement of the endpoint
    cpu_ms: float | None = None  # server-side CPU per request, when the processes to watch were given


def wrk_available() -> bool:
    # BENCH_LOAD=python forces the fallback, to check it or to compare with a machine that lacks wrk.
    return os.environ.get("BENCH_LOAD") != "python" and shutil.which("wrk") is not None


def load(port: int, path: str, cookie: str, *, seconds: float, connections=4, watch=None) -> Load:
    """Load `path` for `seconds`. `watch` returns the server-side processes (workers, their database
    backends) whose CPU time is shared out over the requests served."""
    pids = watch() if watch else []
    before = cpu_seconds(pids)
    if wrk_available():
        result = _wrk(port, path, cookie, seconds=seconds, connections=connections)
    else:
        result = _python_load(port, path, cookie, seconds=seconds, connections=connections)
    after = cpu_seconds(pids)
    if before and result.requests:
        spent = sum(after[pid] - before[pid] for pid in before if pid in after)
        result.cpu_ms = spent / result.requests * 1000
    return result


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk(port, path, cookie, *, seconds, connections) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout=60s"]
    command += ["-H", f"Cookie: {cookie}", f"http://{HOST}:{port}{path}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    if not (rate and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return Load(float(rate.group(1)), float(p99.group(1)) * _UNIT_MS[p99.group(2)], int(total.group(1)), bad)


def _python_load(port, path, cookie, *, seconds, connections) -> Load:
    """Threads looping on http.client. The GIL makes this the bottleneck on cheap endpoints: the figures
    are lower than wrk's and compress the ratios toward 1."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()

    def worker():
        mine, errors = [], 0
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                if not 200 <= response.status < 300:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
            mine.append(time.perf_counter() - start)
        connection.close()
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan")
    return Load(len(latencies) / elapsed, p99, len(latencies), bad[0])
