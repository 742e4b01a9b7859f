"""One real MariaDB server per sandbox cluster: the cluster's storage.

A TiDB cluster keeps its data in TiKV; the sandbox keeps it in MariaDB. The TiDB SQL
stand-in (tests/sandbox/tidb) proxies clients to this server over TCP, so the accounts a
client sees are MariaDB accounts. The server is set up to look like a fresh TiDB:

- root@'%' with an empty password (TiDB's only default account), reached over TCP;
- root@localhost over the unix socket for the sandbox's own admin work (empty password or
  unix_socket auth), a separate account so it keeps working when a playbook changes the
  TCP root password;
- TiDB's mysql.tidb table holding tikv_gc_life_time (what tidb_gc_life_time reads), and its
  mysql.global_grants (dynamic privileges, tidb/accounts.py);
- utf8mb4_bin and TiDB's default sql_mode.

Layout of basedir: datadir/, mariadb.log (install + server output), mariadbd.pid, and
mysqld.sock (or /tmp/tidbops-sock-<hash>.sock when basedir is too long for a socket path).

mariadb-install-db takes about a second (it loads 3 MB of help tables and the sys schema),
so a freshly installed datadir is kept as a template under the system temp dir and copied
for the next cluster; the template is keyed by the server version and every install input,
so a change of options or SQL simply builds a new one.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

import pymysql

from tests.sandbox import procs

# Options that shape the files on disk: used by install and start alike, so the server
# never has to convert what mariadb-install-db created.
DATA_OPTIONS = [
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=8M",
    "--innodb-use-native-aio=0",      # io_uring/libaio are often unavailable in containers
    "--innodb-doublewrite=0",         # throwaway data: trade crash safety for speed
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_bin",  # TiDB's default collation
]

# Runtime-only options: small buffers so many servers fit on a small box.
RUNTIME_OPTIONS = [
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=2",
    "--innodb-log-buffer-size=4M",
    # The default 12M temp tablespace is written out in full at every start.
    "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",
    "--key-buffer-size=1M",
    "--aria-pagecache-buffer-size=8M",
    "--table-open-cache=256",
    "--performance-schema=OFF",
    "--max-allowed-packet=64M",       # TiDB's default
    "--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
]

GC_LIFE_TIME_COMMENT = ("All versions within life time will not be collected by GC, "
                        "at least 10m, in Go format.")

# Runs inside `mariadbd --bootstrap` (via --extra-file), where account statements such as
# CREATE USER are refused (grant tables are off), so the grant table is written directly.
# All-ones "access" is every privilege including GRANT OPTION, as install-db gives root.
INIT_SQL = """
INSERT INTO mysql.global_priv (Host, User, Priv) VALUES ('%', 'root',
  '{"access":18446744073709551615,"plugin":"mysql_native_password","authentication_string":""}');
UPDATE mysql.global_priv SET Priv = '{"access":18446744073709551615,'
  '"plugin":"mysql_native_password","authentication_string":"",'
  '"auth_or":[{},{"plugin":"unix_socket"}]}'
  WHERE Host = 'localhost' AND User = 'root';
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
CREATE TABLE IF NOT EXISTS mysql.tidb (
  VARIABLE_NAME varchar(64) NOT NULL PRIMARY KEY,
  VARIABLE_VALUE varchar(1024) DEFAULT NULL,
  COMMENT varchar(1024));
INSERT IGNORE INTO mysql.tidb VALUES ('tikv_gc_life_time', '10m0s', '@COMMENT@');
CREATE TABLE IF NOT EXISTS mysql.global_grants (
  USER char(32) NOT NULL DEFAULT '',
  HOST char(255) NOT NULL DEFAULT '',
  PRIV char(32) NOT NULL DEFAULT '',
  WITH_GRANT_OPTION enum('N','Y') NOT NULL DEFAULT 'N',
  PRIMARY KEY (USER, HOST, PRIV));
""".replace("@COMMENT@", GC_LIFE_TIME_COMMENT)

# A migration source (DM's upstream) writes a ROW binlog with full images and column
# names (binlog_row_metadata, so a binlog reader needs no schema lookups); later options
# override RUNTIME_OPTIONS' --skip-log-bin.
BINLOG_OPTIONS = [
    "--log-bin=mysql-bin",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--max-binlog-size=64M",
]

INSTALL_ARGS = ["--user=root", "--skip-test-db", "--skip-name-resolve"]

MAX_SOCKET_PATH = 100  # sun_path is 108 bytes; keep a margin
INITIALIZED_MARKER = ".initialized"


def server_binary(name):
    """Debian installs mariadbd in /usr/sbin, which a non-login PATH (cron, CI) may lack."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin")
    if not found:
        raise MariaDBError("%s not found: install Debian's mariadb-server (make test does)" % name)
    return found


class MariaDBError(RuntimeError):
    """The server could not be initialised, started or stopped; the message has the log."""


class MariaDB:
    def __init__(self, basedir, port, owner, extra_options=None):
        self.basedir = os.path.abspath(basedir)
        self.extra_options = list(extra_options or [])  # runtime only: never part of the template
        self.port = int(port)
        self.owner = owner
        self.datadir = os.path.join(self.basedir, "datadir")
        self.log_path = os.path.join(self.basedir, "mariadb.log")
        self.pid_path = os.path.join(self.basedir, "mariadbd.pid")
        self._spawned_pid = None

    @property
    def socket_path(self):
        local = os.path.join(self.basedir, "mysqld.sock")
        if len(local) < MAX_SOCKET_PATH:
            return local
        digest = hashlib.sha256(self.basedir.encode()).hexdigest()[:16]
        return "/tmp/tidbops-sock-%s.sock" % digest

    # -- initialisation ---------------------------------------------------------------

    def initialized(self):
        return os.path.exists(os.path.join(self.basedir, INITIALIZED_MARKER))

    def initialize(self):
        """Create the datadir (from the template when one exists). Idempotent."""
        if self.initialized():
            return
        os.makedirs(self.basedir, exist_ok=True)
        # A datadir without the marker is a failed earlier attempt: start over.
        shutil.rmtree(self.datadir, ignore_errors=True)
        shutil.copytree(_template_datadir(), self.datadir, symlinks=True)
        with open(os.path.join(self.basedir, INITIALIZED_MARKER), "w", encoding="utf-8"):
            pass

    # -- process control --------------------------------------------------------------

    def argv(self):
        return ([server_binary("mariadbd"), "--no-defaults", "--user=root",
                 "--datadir=" + self.datadir,
                 "--port=%d" % self.port,
                 "--socket=" + self.socket_path,
                 "--pid-file=" + self.pid_path]
                + DATA_OPTIONS + RUNTIME_OPTIONS + self.extra_options)

    def running(self):
        return self._server_pid() is not None

    def start(self, timeout=30):
        if self.running():
            return
        if not self.initialized():
            raise MariaDBError("MariaDB in %s is not initialized" % self.basedir)
        pid = procs.spawn_daemon(self.argv(), owner=self.owner, log_path=self.log_path,
                                 cwd=self.basedir)
        self._spawned_pid = pid
        procs.wait_until(lambda: not procs.pid_alive(pid) or self._accepts(), timeout)
        if not procs.pid_alive(pid):
            _reap(pid)
            raise MariaDBError("mariadbd exited during start; log:\n" + self.log_tail())
        if not self._accepts():
            procs.terminate([pid])
            _reap(pid)
            raise MariaDBError("mariadbd did not accept connections within %ss; log:\n%s"
                               % (timeout, self.log_tail()))

    def stop(self, timeout=30):
        pid = self._server_pid()
        if pid is None:
            return
        procs.terminate([pid], timeout=timeout)  # SIGTERM is mariadbd's clean shutdown
        _reap(pid)
        self._spawned_pid = None

    def exit_status(self):
        """How the server this object spawned ended ("killed by signal 9", "exit code 1"), reaping
        it; None while it runs or when another process started it."""
        pid = self._spawned_pid
        if pid is None or self.running():
            return None
        try:
            # Not running but maybe not reapable yet: an exiting server loses its command line
            # before it is a zombie, and waitpid reports it only then, which is soon.
            done, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return None
        if done == 0:
            return None
        self._spawned_pid = None
        if os.WIFSIGNALED(status):
            return "killed by signal %d" % os.WTERMSIG(status)
        return "exit code %d" % os.WEXITSTATUS(status)

    def admin_connect(self, **kw):
        """root over the unix socket: an account playbooks never change."""
        args = dict(unix_socket=self.socket_path, user="root", password="",
                    charset="utf8mb4", autocommit=True, connect_timeout=5)
        args.update(kw)
        return pymysql.connect(**args)

    # -- helpers ----------------------------------------------------------------------

    def _server_pid(self):
        """The live mariadbd serving this datadir, from the pid file or our own spawn."""
        candidates = []
        try:
            with open(self.pid_path, encoding="ascii") as fh:
                candidates.append(int(fh.read().strip()))
        except (OSError, ValueError):
            pass
        if self._spawned_pid:
            candidates.append(self._spawned_pid)
        for pid in candidates:
            # The pid file may be stale and its pid reused: check it is our server.
            if procs.pid_alive(pid) and self.datadir.encode() in _cmdline(pid):
                return pid
        return None

    def _accepts(self):
        try:
            self.admin_connect(connect_timeout=1).close()
            return True
        except pymysql.MySQLError:
            return False

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return "(no log)"


def _reap(pid):
    """Collect the exit status if we started pid, so no zombie outlives the caller."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # started by another process (e.g. an earlier tiup run)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _template_datadir():
    """A pristine installed datadir, built once per distinct install recipe."""
    version = subprocess.run([server_binary("mariadbd"), "--version"], check=True, capture_output=True,
                             text=True).stdout
    recipe = "\n".join([version] + INSTALL_ARGS + DATA_OPTIONS + [INIT_SQL])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    template = os.path.join(tempfile.gettempdir(), "tidbops-mariadb-template-" + key)
    if os.path.isdir(template):
        return template
    # Build beside the final name and rename: concurrent builders never see a half copy,
    # and the loser of a race just discards its own build.
    building = tempfile.mkdtemp(prefix=os.path.basename(template) + ".building-",
                                dir=os.path.dirname(template))
    try:
        _install(os.path.join(building, "datadir"), building)
        try:
            os.rename(os.path.join(building, "datadir"), template)
        except OSError:
            if not os.path.isdir(template):
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return template


def _install(datadir, workdir):
    sql_path = os.path.join(workdir, "init.sql")
    with open(sql_path, "w", encoding="utf-8") as fh:
        fh.write(INIT_SQL)
    log_path = os.path.join(workdir, "install.log")
    argv = ([server_binary("mariadb-install-db"), "--no-defaults", "--datadir=" + datadir,
             "--extra-file=" + sql_path] + INSTALL_ARGS + DATA_OPTIONS)
    with open(log_path, "wb") as log:
        result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            raise MariaDBError("mariadb-install-db failed (%d):\n%s"
                               % (result.returncode, fh.read()[-3000:]))
