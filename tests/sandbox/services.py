"""The sandbox's long-running services and its environment files.

A sandbox lives in one directory DIR:
  DIR/bin/tiup          sh wrapper: runs the tiup stand-in with this interpreter and
                        PYTHONPATH=<repo root>; exports TIDBOPS_SANDBOX_DIR=DIR and
                        defaults TIUP_HOME to DIR/tiup
  DIR/bin/dumpling,     the same for the dumpling and tidb-lightning stand-ins
  DIR/bin/tidb-lightning
  DIR/tiup/             TIUP_HOME (clusters' meta.yaml etc.)
  DIR/hosts/<host>/...  the "hosts'" filesystems (/tidb-deploy/..., /tidb-data/...)
  DIR/clusters/<name>/  per-cluster sandbox state (MariaDB, PD state, pid files)
  DIR/services/         services.json (what up started), logs
  DIR/ssh/id_rsa        an SSH key for `tiup cluster deploy -i` (tiup needs a key, a
                        password or an ssh-agent; the sandbox's hosts accept any)
  DIR/services/upstream/  the upstream MariaDB (DM's migration source, ROW binlog)
  DIR/env.json          {dir, bin_dir, path, tiup_home, ssh_key, s3:{endpoint, region,
                         bucket, access_key, secret_key}, dm_master:{url, host, port, name,
                         workers}, upstream_mysql:{host, port, user, password, admin_user,
                         admin_password, socket, server_id}}
  DIR/env.sh            the same as shell exports

Every process is tagged with an owner dir below DIR (procs.spawn_daemon), so down (and
the next up) find them all even after a crash that lost pid files.
"""
import json
import os
import secrets
import shlex
import sys
import threading
import time

from tests.sandbox import procs

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
S3_REGION = "us-east-1"
S3_BUCKET = "tidbops"
S3_ACCESS_KEY = "AKIDTIDBOPSSANDBOX01"
DM_MASTER_NAME = "master1"
DM_WORKERS = ("worker1", "worker2")


class SandboxError(RuntimeError):
    pass


class Sandbox(object):
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)

    # ---- paths ---------------------------------------------------------------------------
    def path(self, *sub):
        return os.path.join(self.dir, *sub)

    @property
    def bin_dir(self):
        return self.path("bin")

    @property
    def tiup_home(self):
        return self.path("tiup")

    @property
    def services_dir(self):
        return self.path("services")

    @property
    def services_file(self):
        return self.path("services", "services.json")

    # ---- state ---------------------------------------------------------------------------
    def load_services(self):
        try:
            with open(self.services_file) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def save_services(self, data):
        os.makedirs(self.services_dir, exist_ok=True)
        tmp = self.services_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.services_file)

    def load_env(self):
        try:
            with open(self.path("env.json")) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def s3_healthy(self, services=None):
        services = services or self.load_services()
        s3 = services.get("s3") or {}
        pid, port = s3.get("pid"), s3.get("port")
        if not pid or not port:
            return False
        if not procs.pid_alive(pid) or procs.pid_owner(pid) != self.services_dir:
            return False
        return procs.port_open(port)

    def dm_healthy(self, services=None):
        dm = (services or self.load_services()).get("dm") or {}
        pid, port = dm.get("pid"), dm.get("port")
        if not pid or not port or not procs.pid_alive(pid) or procs.pid_owner(pid) != self.services_dir:
            return False
        return procs.port_open(port)

    def upstream_healthy(self, services=None):
        upstream = (services or self.load_services()).get("upstream") or {}
        if not upstream.get("port"):
            return False
        from tests.sandbox.dm import upstream as up_db
        return up_db.server(self.path("services", "upstream"), upstream["port"], self.services_dir).running()

    def is_up(self):
        services = self.load_services()
        return (self.load_env() is not None and self.s3_healthy(services) and self.dm_healthy(services)
                and self.upstream_healthy(services))

    # ---- up ------------------------------------------------------------------------------
    def up(self, out=sys.stdout):
        os.makedirs(self.dir, exist_ok=True)
        if self.is_up():
            self.write_wrapper()  # a sandbox made by an older checkout gets new wrappers
            out.write("sandbox %s is already up\n" % self.dir)
            self.print_summary(out)
            return self.load_env()
        leftovers = procs.owned_pids(self.dir)
        if leftovers:
            out.write("killing %d process(es) left by an earlier run\n" % len(leftovers))
            procs.terminate(leftovers)
        for sub in ("bin", "tiup", "hosts", "clusters", "services", "ssh"):
            os.makedirs(self.path(sub), exist_ok=True)
        dm = self.spawn_dm()
        upstream = {}
        # The upstream MariaDB starts while the S3 server does: up stays about as fast.
        starter = threading.Thread(target=self._start_upstream, args=(upstream,), daemon=True)
        starter.start()
        try:
            s3 = self.start_s3()
        finally:
            starter.join()
        if "error" in upstream:
            raise SandboxError("upstream MariaDB: %s" % upstream["error"])
        secret = s3["secret_key"]
        self.wait_dm(dm)
        self.save_services({"s3": {k: v for k, v in s3.items() if k != "secret_key"},
                            "dm": dm, "upstream": {"port": upstream["env"]["port"]},
                            "started": time.time()})
        self.write_wrapper()
        from tests.sandbox.tiup.runtime import generate_ssh_key
        generate_ssh_key(self.path("ssh"))
        env = {
            "dir": self.dir,
            "bin_dir": self.bin_dir,
            "path": self.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "tiup_home": self.tiup_home,
            "ssh_key": self.path("ssh", "id_rsa"),
            "s3": {"endpoint": s3["endpoint"], "region": S3_REGION, "bucket": S3_BUCKET,
                   "access_key": S3_ACCESS_KEY, "secret_key": secret},
            "dm_master": {"url": "http://127.0.0.1:%d" % dm["port"], "host": "127.0.0.1", "port": dm["port"],
                          "name": DM_MASTER_NAME, "workers": list(DM_WORKERS)},
            "upstream_mysql": upstream["env"],
        }
        self.write_env(env)
        self.print_summary(out)
        return env

    def start_s3(self, attempts=3):
        """moto's S3 server on a free port, plus the sandbox bucket."""
        import boto3
        log_path = self.path("services", "s3.log")
        last = None
        for dummy in range(attempts):
            port = procs.free_port()
            pid = procs.spawn_daemon(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                owner=self.services_dir, log_path=log_path, cwd=self.services_dir)
            ok = procs.wait_until(lambda: not procs.pid_alive(pid) or procs.port_open(port), 30)
            if ok and procs.pid_alive(pid) and procs.port_open(port):
                endpoint = "http://127.0.0.1:%d" % port
                secret = secrets.token_urlsafe(24)
                client = boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION,
                                      aws_access_key_id=S3_ACCESS_KEY,
                                      aws_secret_access_key=secret)
                client.create_bucket(Bucket=S3_BUCKET)
                return {"pid": pid, "port": port, "endpoint": endpoint, "secret_key": secret}
            last = "moto server did not listen on %d (see %s)" % (port, log_path)
            procs.terminate([pid])
        raise SandboxError(last)

    def spawn_dm(self):
        """The DM-master stand-in on a free port (waited for by wait_dm)."""
        port = procs.free_port()
        env = dict(os.environ, PYTHONPATH=REPO_ROOT + (os.pathsep + os.environ["PYTHONPATH"]
                                                       if os.environ.get("PYTHONPATH") else ""))
        pid = procs.spawn_daemon(
            procs.python_argv("tests.sandbox.dm", "--host", "127.0.0.1", "--port", port, "--name", DM_MASTER_NAME,
                              "--workers", ",".join(DM_WORKERS)),
            owner=self.services_dir, log_path=self.path("services", "dm-master.log"), cwd=REPO_ROOT, env=env)
        return {"pid": pid, "port": port}

    def wait_dm(self, dm):
        pid, port = dm["pid"], dm["port"]
        procs.wait_until(lambda: not procs.pid_alive(pid) or procs.port_open(port), 30)
        if not (procs.pid_alive(pid) and procs.port_open(port)):
            procs.terminate([pid])
            raise SandboxError("the DM-master stand-in did not listen on %d (see %s)"
                               % (port, self.path("services", "dm-master.log")))

    def _start_upstream(self, result):
        from tests.sandbox.dm import upstream as up_db
        try:
            result["env"] = up_db.start(self.path("services", "upstream"), procs.free_port(), self.services_dir)
        except Exception as exc:  # pylint: disable=broad-except
            result["error"] = str(exc)

    # DIR/bin/<name> -> the stand-in module it runs
    WRAPPERS = (("tiup", "tests.sandbox.tiup"), ("dumpling", "tests.sandbox.dumpling"),
                ("tidb-lightning", "tests.sandbox.lightning"))

    def write_wrapper(self):
        for name, module in self.WRAPPERS:
            self._write_wrapper(name, module)

    def _write_wrapper(self, name, module):
        os.makedirs(self.bin_dir, exist_ok=True)
        path = os.path.join(self.bin_dir, name)
        script = (
            "#!/bin/sh\n"
            "# %(name)s stand-in of the TiDB sandbox in %(dir)s (%(module)s)\n"
            "TIDBOPS_SANDBOX_DIR=%(qdir)s\n"
            "export TIDBOPS_SANDBOX_DIR\n"
            ": \"${TIUP_HOME:=%(qhome)s}\"\n"
            "export TIUP_HOME\n"
            "PYTHONPATH=%(qroot)s${PYTHONPATH:+:$PYTHONPATH}\n"
            "export PYTHONPATH\n"
            "exec %(qpy)s -m %(module)s \"$@\"\n"
        ) % {"name": name, "module": module, "dir": self.dir, "qdir": shlex.quote(self.dir),
             "qhome": shlex.quote(self.tiup_home),
             "qroot": shlex.quote(REPO_ROOT), "qpy": shlex.quote(sys.executable)}
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(script)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)

    def write_env(self, env):
        for name, text in (("env.json", json.dumps(env, indent=2, sort_keys=True) + "\n"),
                           ("env.sh", self.env_sh(env))):
            tmp = self.path(name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(tmp, self.path(name))

    @staticmethod
    def env_sh(env):
        lines = ["# source me: the TiDB sandbox in %s" % env["dir"]]
        pairs = [("PATH", env["path"]), ("TIUP_HOME", env["tiup_home"]),
                 ("TIDBOPS_SANDBOX_DIR", env["dir"]),
                 ("TIDBOPS_SSH_KEY", env["ssh_key"]),
                 ("TIDBOPS_S3_ENDPOINT", env["s3"]["endpoint"]),
                 ("TIDBOPS_S3_REGION", env["s3"]["region"]),
                 ("TIDBOPS_S3_BUCKET", env["s3"]["bucket"]),
                 ("AWS_ACCESS_KEY_ID", env["s3"]["access_key"]),
                 ("AWS_SECRET_ACCESS_KEY", env["s3"]["secret_key"]),
                 ("AWS_DEFAULT_REGION", env["s3"]["region"])]
        if env.get("dm_master"):
            pairs.append(("TIDBOPS_DM_MASTER_URL", env["dm_master"]["url"]))
        upstream = env.get("upstream_mysql")
        if upstream:
            pairs += [("TIDBOPS_UPSTREAM_HOST", upstream["host"]), ("TIDBOPS_UPSTREAM_PORT", str(upstream["port"])),
                      ("TIDBOPS_UPSTREAM_USER", upstream["user"]), ("TIDBOPS_UPSTREAM_PASSWORD", upstream["password"]),
                      ("TIDBOPS_UPSTREAM_ADMIN_USER", upstream["admin_user"]),
                      ("TIDBOPS_UPSTREAM_ADMIN_PASSWORD", upstream["admin_password"])]
        for key, value in pairs:
            lines.append("export %s=%s" % (key, shlex.quote(value)))
        return "\n".join(lines) + "\n"

    def print_summary(self, out):
        env = self.load_env() or {}
        s3 = env.get("s3") or {}
        out.write("sandbox:   %s\n" % self.dir)
        out.write("tiup:      %s (TIUP_HOME=%s)\n" % (os.path.join(self.bin_dir, "tiup"),
                                                      env.get("tiup_home", self.tiup_home)))
        out.write("s3:        %s bucket %s (region %s)\n" % (s3.get("endpoint"), s3.get("bucket"),
                                                             s3.get("region")))
        dm, upstream = env.get("dm_master") or {}, env.get("upstream_mysql") or {}
        out.write("dm-master: %s (workers %s)\n" % (dm.get("url"), ", ".join(dm.get("workers") or [])))
        out.write("upstream:  MariaDB 127.0.0.1:%s (DM account %s)\n" % (upstream.get("port"), upstream.get("user")))
        out.write("env:       %s, %s\n" % (self.path("env.json"), self.path("env.sh")))

    # ---- down ----------------------------------------------------------------------------
    def clusters(self):
        base = os.path.join(self.tiup_home, "storage", "cluster", "clusters")
        try:
            return sorted(n for n in os.listdir(base)
                          if os.path.isfile(os.path.join(base, n, "meta.yaml")))
        except OSError:
            return []

    def stop_clusters(self, out):
        """Stop every cluster's instances (stop order) and its MariaDB, cleanly."""
        saved = {k: os.environ.get(k) for k in ("TIUP_HOME", "TIDBOPS_SANDBOX_DIR",
                                                "TIUP_COMPONENT_DATA_DIR")}
        os.environ["TIUP_HOME"] = self.tiup_home
        os.environ["TIDBOPS_SANDBOX_DIR"] = self.dir
        os.environ.pop("TIUP_COMPONENT_DATA_DIR", None)
        try:
            from tests.sandbox.tiup import runtime as rt
            from tests.sandbox.tiup import spec as S
            for name in self.clusters():
                runtime = rt.ClusterRuntime(name)
                try:
                    meta = S.load_meta(name)
                    for _comp, insts in reversed(meta.topology.by_role()):
                        for inst in insts:
                            runtime.stop_instance(inst, 10)
                except Exception as exc:  # pylint: disable=broad-except
                    out.write("cluster %s: %s\n" % (name, exc))
                try:
                    db = runtime.mariadb()
                    if db.running():
                        db.stop()
                except Exception as exc:  # pylint: disable=broad-except
                    out.write("cluster %s storage: %s\n" % (name, exc))
                out.write("stopped cluster %s\n" % name)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def down(self, out=sys.stdout):
        if os.path.isdir(self.dir):
            self.stop_clusters(out)
        services = self.load_services()
        for name in ("s3", "dm"):
            pid = (services.get(name) or {}).get("pid")
            if pid and procs.pid_owner(pid) == self.services_dir:
                procs.terminate([pid])
        if (services.get("upstream") or {}).get("port"):
            from tests.sandbox.dm import upstream as up_db
            try:
                up_db.server(self.path("services", "upstream"), services["upstream"]["port"], self.services_dir).stop()
            except Exception as exc:  # pylint: disable=broad-except
                out.write("upstream MariaDB: %s\n" % exc)
        left = procs.owned_pids(self.dir)
        if left:
            procs.terminate(left)
        left = procs.owned_pids(self.dir)
        if left:
            raise SandboxError("processes still running after down: %s" % left)
        if os.path.exists(self.services_file):
            os.unlink(self.services_file)
        out.write("sandbox %s is down\n" % self.dir)

    # ---- status --------------------------------------------------------------------------
    def status(self, out=sys.stdout):
        up = self.is_up()
        out.write("sandbox %s is %s\n" % (self.dir, "up" if up else "down"))
        services = self.load_services()
        s3 = services.get("s3") or {}
        if s3:
            out.write("  s3 %s (pid %s): %s\n" % (s3.get("endpoint"), s3.get("pid"),
                                                  "up" if self.s3_healthy(services) else "down"))
        dm = services.get("dm") or {}
        if dm:
            state = "up" if self.dm_healthy(services) else "down"
            out.write("  dm-master http://127.0.0.1:%s (pid %s): %s\n" % (dm.get("port"), dm.get("pid"), state))
        upstream = services.get("upstream") or {}
        if upstream:
            out.write("  upstream MariaDB 127.0.0.1:%s: %s\n" % (upstream.get("port"),
                                                                 "up" if self.upstream_healthy(services) else "down"))
        for name in self.clusters():
            state_dir = os.path.join(self.dir, "clusters", name)
            pids = procs.owned_pids(state_dir)
            out.write("  cluster %s: %d process(es)\n" % (name, len(pids)))
        owned = procs.owned_pids(self.dir)
        out.write("  processes owned by the sandbox: %d\n" % len(owned))
        return up


def topology_yaml(pd=1, tikv=3, tidb=1, host="127.0.0.1", deploy_dir="/tidb-deploy",
                  data_dir="/tidb-data", cdc=0):
    """A topology for `host` with free ports for every port (and TiKV location labels so
    that tiup's label check passes with several TiKVs on one host)."""
    count = 2 * (pd + tikv + tidb) + cdc + 2
    ports = _free_ports(count)
    lines = ["global:", "  user: tidb", "  ssh_port: 22",
             "  deploy_dir: %s" % deploy_dir, "  data_dir: %s" % data_dir,
             "monitored:",
             "  node_exporter_port: %d" % ports.pop(), "  blackbox_exporter_port: %d" % ports.pop(),
             "server_configs:", "  pd:", "    replication.location-labels: [\"host\"]",
             "pd_servers:"]
    for dummy in range(pd):
        lines += ["  - host: %s" % host, "    client_port: %d" % ports.pop(),
                  "    peer_port: %d" % ports.pop()]
    lines.append("tikv_servers:" if tikv else "tikv_servers: []")
    for i in range(tikv):
        port, status = ports.pop(), ports.pop()
        lines += ["  - host: %s" % host, "    port: %d" % port, "    status_port: %d" % status,
                  "    config:", "      server.labels: { host: \"tikv%d\" }" % (i + 1)]
    lines.append("tidb_servers:" if tidb else "tidb_servers: []")
    for dummy in range(tidb):
        lines += ["  - host: %s" % host, "    port: %d" % ports.pop(),
                  "    status_port: %d" % ports.pop()]
    if cdc:
        lines.append("cdc_servers:")
    for dummy in range(cdc):
        lines += ["  - host: %s" % host, "    port: %d" % ports.pop()]
    if not pd:
        lines[lines.index("pd_servers:")] = "pd_servers: []"
    return "\n".join(lines) + "\n"


def _free_ports(count):
    """Distinct free ports: hold every socket open until all are chosen."""
    import socket
    socks = []
    try:
        for dummy in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()
