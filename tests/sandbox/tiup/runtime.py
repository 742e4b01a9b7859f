"""What a real deployment does on the hosts, done in the sandbox: directories, config and
run scripts, the cluster's MariaDB, and the instance processes (pid files, start/stop).

Every process of a cluster is spawned with procs.spawn_daemon and owner = the cluster's
sandbox state dir (<sandbox>/clusters/<name>), so `python -m tests.sandbox down` and destroy
find them even when pid files are lost. Before signalling a pid we check that it is still
ours: its owner tag and its command line (module and port) must match the instance.
"""
import json
import os
import shutil
import signal
import socket
import sys
import time

from tests.sandbox import procs
from tests.sandbox.component_config import merge, toml_dump
from tests.sandbox.tiup import env as tiup_env

SANDBOX_JSON = "sandbox.json"
CLUSTER_SERVER_ID = 1

MODULES = {"pd": "tests.sandbox.pd_server", "tikv": "tests.sandbox.tikv_server",
           "tidb": "tests.sandbox.tidb", "cdc": "tests.sandbox.cdc"}


def bind_host(host):
    """The address a "host" listens on in the sandbox (everything is on 127.0.0.1)."""
    if host == "localhost":
        return "127.0.0.1"
    return host


def reachable(host):
    return host in tiup_env.REACHABLE_HOSTS


class ClusterRuntime(object):
    """The sandbox side of one cluster."""

    def __init__(self, name, meta_path=None):
        self.name = name
        self.state_dir = tiup_env.cluster_state_dir(name)
        self.meta_path = meta_path or tiup_env.cluster_dir(name, "meta.yaml")

    # ---- sandbox state -------------------------------------------------------------------

    @property
    def owner(self):
        return self.state_dir

    def path(self, *sub):
        return os.path.join(self.state_dir, *sub)

    def load_state(self):
        try:
            with open(self.path(SANDBOX_JSON)) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def save_state(self, state):
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self.path(SANDBOX_JSON + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path(SANDBOX_JSON))

    def exists(self):
        return os.path.isdir(self.state_dir)

    def mariadb(self):
        from tests.sandbox.mariadb import BINLOG_OPTIONS, MariaDB  # the other helper's module
        state = self.load_state()
        # The binlog is the cluster's change stream (tests/sandbox/changelog.py): what TiKV's
        # change data capture gives TiCDC.
        return MariaDB(self.path("mariadb"), state.get("mariadb_port", 0), self.owner,
                       extra_options=BINLOG_OPTIONS + ["--server-id=%d" % CLUSTER_SERVER_ID])

    def ensure_storage_port(self):
        """The MariaDB, moved to a new free port when a stopped server's remembered port has
        been taken by something else meanwhile (the TiDB run arguments follow the state)."""
        db = self.mariadb()
        if not db.running() and port_in_use("127.0.0.1", db.port):
            state = self.load_state()
            state["mariadb_port"] = procs.free_port()
            self.save_state(state)
            db = self.mariadb()
        return db

    def init_storage(self):
        """deploy: a fresh state dir and an initialised (stopped) MariaDB."""
        self.wipe()
        os.makedirs(self.path("pids"), exist_ok=True)
        self.save_state({"cluster": self.name, "meta": self.meta_path,
                         "mariadb_port": procs.free_port(), "created": time.time()})
        db = self.mariadb()
        db.initialize()
        if db.running():
            db.stop()

    def wipe(self):
        """Kill whatever the state dir owns and remove it."""
        self.kill_all()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def kill_all(self, timeout=10.0):
        pids = procs.owned_pids(self.state_dir)
        if pids:
            procs.terminate(pids, timeout=timeout)

    # ---- instances -----------------------------------------------------------------------

    def pid_file(self, inst):
        return self.path("pids", "%s-%d.pid" % (inst.role, inst.port))

    def argv(self, inst, meta, topology):
        spec = inst.spec
        host = bind_host(inst.host)
        deploy = tiup_env.host_path(inst.manage_host, inst.deploy_dir)
        log_dir = tiup_env.host_path(inst.manage_host, inst.log_dir)
        module = MODULES[inst.role]
        if inst.role == "pd":
            peers = ",".join("%s=http://%s:%d" % (p.name, p.host, p.spec["peer_port"])
                             for p in topology.pd_instances())
            args = ["--name=%s" % inst.name,
                    "--client-urls=http://%s:%d" % (host, spec["client_port"]),
                    "--advertise-client-urls=http://%s:%d" % (
                        spec.get("advertise_client_addr") or inst.host, spec["client_port"]),
                    "--peer-urls=http://%s:%d" % (host, spec["peer_port"]),
                    "--advertise-peer-urls=http://%s:%d" % (
                        spec.get("advertise_peer_addr") or inst.host, spec["peer_port"]),
                    "--data-dir=%s" % tiup_env.host_path(inst.manage_host, inst.data_dir),
                    "--initial-cluster=%s" % peers,
                    "--config=%s" % os.path.join(deploy, "conf", "pd.toml"),
                    "--log-file=%s" % os.path.join(log_dir, "pd.log"),
                    "--sandbox-meta=%s" % self.meta_path,
                    "--sandbox-state=%s" % self.path("pd-state.json")]
        elif inst.role == "tikv":
            pds = ",".join("%s:%d" % (p.host, p.spec["client_port"]) for p in topology.pd_instances())
            args = ["--addr", "%s:%d" % (host, spec["port"]),
                    "--advertise-addr", spec.get("advertise_addr") or "%s:%d" % (inst.host, spec["port"]),
                    "--status-addr", "%s:%d" % (host, spec["status_port"]),
                    "--advertise-status-addr",
                    spec.get("advertise_status_addr") or "%s:%d" % (inst.host, spec["status_port"]),
                    "--pd", pds,
                    "--data-dir", tiup_env.host_path(inst.manage_host, inst.data_dir),
                    "--config", os.path.join(deploy, "conf", "tikv.toml"),
                    "--log-file", os.path.join(log_dir, "tikv.log"),
                    "--version", inst.version(meta.version)]
        elif inst.role == "cdc":
            # run_cdc.sh: cdc server --addr --advertise-addr --pd [--data-dir] [--gc-ttl] [--tz]
            # --config conf/cdc.toml --log-file
            args = ["server", "--addr", "%s:%d" % (host, spec["port"]),
                    "--advertise-addr", "%s:%d" % (inst.host, spec["port"]),
                    "--pd", ",".join("http://%s:%d" % (p.host, p.spec["client_port"])
                                     for p in topology.pd_instances()),
                    "--data-dir=%s" % tiup_env.host_path(inst.manage_host, inst.data_dir)]
            if spec.get("gc-ttl"):
                args += ["--gc-ttl", str(spec["gc-ttl"])]
            if spec.get("tz"):
                args += ["--tz", spec["tz"]]
            args += ["--config", os.path.join(deploy, "conf", "cdc.toml"),
                     "--log-file", os.path.join(log_dir, "cdc.log"),
                     "--version", inst.version(meta.version), "--sandbox-state", self.state_dir]
        else:
            db = self.mariadb()
            args = ["--host", host, "--port", str(spec["port"]),
                    "--status-port", str(spec["status_port"]),
                    "--backend-port", str(db.port), "--backend-socket", db.socket_path,
                    "--version", inst.version(meta.version), "--cluster", self.name,
                    "--path", ",".join("%s:%d" % (p.host, p.spec["client_port"]) for p in topology.pd_instances()),
                    "--state-dir", self.path("tidb-%d" % spec["port"])]
        return [sys.executable, "-m", module] + args

    def _marker(self, inst):
        """argv tokens that identify the instance's process."""
        host = bind_host(inst.host)
        if inst.role == "pd":
            return ["--client-urls=http://%s:%d" % (host, inst.spec["client_port"])]
        if inst.role in ("tikv", "cdc"):
            return ["--addr", "%s:%d" % (host, inst.spec["port"])]
        return ["--port", str(inst.spec["port"])]

    def _matches(self, pid, inst):
        if procs.pid_owner(pid) != os.path.abspath(self.owner) or not procs.pid_alive(pid):
            return False
        argv = _cmdline(pid)
        if MODULES[inst.role] not in argv:
            return False
        marker = self._marker(inst)
        for i in range(len(argv) - len(marker) + 1):
            if argv[i:i + len(marker)] == marker:
                return True
        return False

    def instance_pids(self, inst, scan=True):
        found = []
        try:
            with open(self.pid_file(inst)) as handle:
                pid = int(handle.read().strip())
            if self._matches(pid, inst):
                found.append(pid)
        except (OSError, ValueError):
            pass
        if scan:
            for pid in procs.owned_pids(self.owner):
                if pid not in found and self._matches(pid, inst):
                    found.append(pid)
        return found

    def running(self, inst):
        return bool(self.instance_pids(inst, scan=False) or self.instance_pids(inst))

    def spawn(self, inst, meta, topology):
        """systemctl start: a no-op when the instance already runs."""
        if self.instance_pids(inst):
            return None
        log_dir = tiup_env.host_path(inst.manage_host, inst.log_dir)
        os.makedirs(log_dir, exist_ok=True)
        if inst.role == "tidb":
            log_path = os.path.join(log_dir, "tidb.log")
        else:
            log_path = os.path.join(log_dir, "%s_stderr.log" % inst.role)
        deploy = tiup_env.host_path(inst.manage_host, inst.deploy_dir)
        os.makedirs(deploy, exist_ok=True)
        env = dict(os.environ)
        repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        env["PYTHONPATH"] = repo_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.pop("TIDBOPS_SANDBOX_OWNER", None)
        # A real instance runs under systemd with none of the caller's environment: no S3 keys
        # inherited from whoever ran tiup (a collection that forgot them must not pass here).
        for name in [n for n in env if n.startswith("AWS_")]:
            del env[name]
        pid = procs.spawn_daemon(self.argv(inst, meta, topology), owner=self.owner,
                                 log_path=log_path, cwd=deploy, env=env)
        os.makedirs(self.path("pids"), exist_ok=True)
        with open(self.pid_file(inst), "w") as handle:
            handle.write("%d\n" % pid)
        return pid

    def wait_started(self, inst, timeout):
        """module.WaitFor(state=started): poll the port with growing intervals."""
        host = bind_host(inst.host)
        return procs.wait_until(lambda: procs.port_open(inst.port, host), timeout,
                                first_interval=0.05, max_interval=1.0)

    def stop_instance(self, inst, timeout):
        """systemctl stop: SIGTERM, wait, SIGKILL after the timeout."""
        pids = self.instance_pids(inst)
        if pids:
            procs.terminate(pids, timeout=timeout)
        try:
            os.unlink(self.pid_file(inst))
        except OSError:
            pass
        return bool(pids)

    def signal_instance(self, inst, sig=signal.SIGKILL):
        for pid in self.instance_pids(inst):
            os.kill(pid, sig)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def port_in_use(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((bind_host(host), port))
        except OSError:
            return True
    return False


# ---- files a deployment leaves on the hosts ----------------------------------------------

def merged_config(topology, inst):
    from tests.sandbox.tiup.spec import fold_map
    global_cfg = fold_map((topology.data.get("server_configs") or {}).get(inst.role) or {})
    inst_cfg = fold_map(inst.spec.get("config") or {})
    return merge(global_cfg, inst_cfg)


def write_instance_files(topology, inst, argv, cache_dir):
    """deploy: deploy_dir/{bin,conf,scripts}, log and data dirs, run script and config."""
    host = inst.manage_host
    deploy = tiup_env.host_path(host, inst.deploy_dir)
    for sub in ("", "bin", "conf", "scripts"):
        os.makedirs(os.path.join(deploy, sub), exist_ok=True)
    os.makedirs(tiup_env.host_path(host, inst.log_dir), exist_ok=True)
    if inst.data_dir:
        for one in inst.data_dir.split(","):
            os.makedirs(tiup_env.host_path(host, one), exist_ok=True)
    config = "# WARNING: This file is auto-generated. Do not edit! All your modification will be overwritten!\n"
    config += "# You can use 'tiup cluster edit-config' and 'tiup cluster reload' to update the configuration\n"
    config += "# All configuration items you want to change can be added to:\n"
    config += "# server_configs:\n#   %s:\n#     aa.b1.c3: value\n#     aa.b2.c4: value\n" % inst.role
    body = toml_dump(merged_config(topology, inst))
    if body:
        config += body + "\n"
    conf_name = "%s.toml" % inst.role
    with open(os.path.join(deploy, "conf", conf_name), "w") as handle:
        handle.write(config)
    script = "#!/bin/bash\nset -e\n\n# WARNING: This file was auto-generated. Do not edit!\n"
    script += "#          All your edit might be overwritten!\n"
    script += "DEPLOY_DIR=%s\n\ncd \"${DEPLOY_DIR}\" || exit 1\n\n" % inst.deploy_dir
    script += "exec " + " ".join(_sh_quote(a) for a in argv) + "\n"
    script_name = "run_%s.sh" % inst.role
    script_path = os.path.join(deploy, "scripts", script_name)
    with open(script_path, "w") as handle:
        handle.write(script)
    os.chmod(script_path, 0o755)
    os.makedirs(cache_dir, exist_ok=True)
    tag = "%s_%s_%d" % (inst.role, inst.host, inst.port)
    shutil.copyfile(script_path, os.path.join(cache_dir, "run_%s.sh" % tag))
    with open(os.path.join(cache_dir, "%s-%s-%d.toml" % (inst.role, inst.host, inst.port)), "w") as handle:
        handle.write(config)
    with open(os.path.join(cache_dir, "%s-%s-%d.service" % (inst.role, inst.host, inst.port)), "w") as handle:
        handle.write(_systemd_unit(topology, inst))


def _systemd_unit(topology, inst):
    user = topology.user
    return ("[Unit]\nDescription=%s service\nAfter=syslog.target network.target remote-fs.target nss-lookup.target\n\n"
            "[Service]\nLimitNOFILE=1000000\nLimitSTACK=10485760\nUser=%s\nExecStart=/bin/bash -c '%s/scripts/run_%s.sh'\n"
            "Restart=always\n\nRestartSec=15s\n\n[Install]\nWantedBy=multi-user.target\n"
            % (inst.role, user, inst.deploy_dir, inst.role))


def _sh_quote(arg):
    if arg and all(c.isalnum() or c in "-_./=:,@%+" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def generate_ssh_key(directory):
    """ssh/id_rsa and id_rsa.pub (SSHKeyGen task); uses ssh-keygen when available."""
    os.makedirs(directory, exist_ok=True)
    private = os.path.join(directory, "id_rsa")
    if os.path.exists(private):
        return
    import subprocess
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM",
                        "-C", "", "-f", private], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        return
    except (OSError, subprocess.SubprocessError):
        pass
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(private, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    os.chmod(private, 0o600)
    with open(private + ".pub", "wb") as handle:
        handle.write(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                   serialization.PublicFormat.OpenSSH) + b"\n")
