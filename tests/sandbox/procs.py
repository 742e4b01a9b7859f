"""Process and port primitives shared by every sandbox component.

Every daemon the sandbox starts carries the environment variable OWNER_ENV set to the
sandbox directory it belongs to. `down` finds leftovers by scanning /proc for that tag,
so a crashed run (lost pid files, killed parent) never leaves processes behind that the
next `down` cannot find.
"""
import errno
import os
import signal
import socket
import subprocess
import sys
import time

OWNER_ENV = "TIDBOPS_SANDBOX_OWNER"


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, first_interval=0.02, max_interval=0.5):
    """Poll with short, growing intervals; True as soon as predicate() is true."""
    deadline = time.monotonic() + timeout
    interval = first_interval
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, max_interval)


def wait_port(port, host="127.0.0.1", timeout=10.0):
    return wait_until(lambda: port_open(port, host), timeout)


def spawn_daemon(argv, owner, log_path, cwd=None, env=None):
    """Start argv detached from the caller (own session), tagged with its owner dir.

    Returns the pid. stdout and stderr go to log_path (appended).
    """
    child_env = dict(os.environ if env is None else env)
    child_env[OWNER_ENV] = os.path.abspath(owner)
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, stdin=devnull, stdout=log, stderr=log, cwd=cwd, env=child_env,
            start_new_session=True, close_fds=True)
    return proc.pid


def python_argv(module, *args):
    """argv that runs `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module] + [str(a) for a in args]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    # A zombie is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid, "rb") as stat:
            return stat.read().split(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False


def pid_owner(pid):
    """The OWNER_ENV tag of a process, or None."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as env:
            for item in env.read().split(b"\0"):
                if item.startswith(OWNER_ENV.encode() + b"="):
                    return item.split(b"=", 1)[1].decode()
    except OSError:
        return None
    return None


def owned_pids(owner_prefix):
    """Pids of live processes whose owner tag is owner_prefix or below it."""
    owner_prefix = os.path.abspath(owner_prefix)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        owner = pid_owner(int(entry))
        if owner and (owner == owner_prefix or owner.startswith(owner_prefix + os.sep)):
            if pid_alive(int(entry)):
                found.append(int(entry))
    return found


def terminate(pids, timeout=10.0):
    """SIGTERM, wait with growing intervals, then SIGKILL what is left. Returns pids killed."""
    pids = [p for p in pids if pid_alive(p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout)
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    wait_until(lambda: not any(pid_alive(p) for p in pids), 5.0)
    return pids
