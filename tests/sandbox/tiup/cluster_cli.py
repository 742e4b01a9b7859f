"""`tiup cluster`: deploy, start, stop, restart, display, list, destroy, show-config,
edit-config (with --topology-file) and reload.

Messages, flags, JSON mode, confirmations and error texts follow pingcap/tiup
(components/cluster/command/*.go, pkg/cluster/manager/*.go, pkg/cluster/operation/*.go).
The work itself is done in the sandbox (runtime.py): instances are local processes, the
data lives in the cluster's MariaDB.
"""
import fcntl
import getpass
import os
import random
import shutil
import threading

from tests.sandbox.tiup import env as tiup_env
from tests.sandbox.tiup import flags as F
from tests.sandbox.tiup import runtime as rt
from tests.sandbox.tiup import spec as S
from tests.sandbox.tiup.printer import Printer, TiupError, TypedError, go_json, write_audit
from tests.sandbox.tiup.status import cluster_status

ARG0 = "tiup cluster"

GLOBAL_FLAGS = [
    F.Flag("ssh-timeout", "uint", default=5),
    F.Flag("wait-timeout", "uint", default=120),
    F.Flag("yes", "bool", short="y"),
    F.Flag("native-ssh", "bool", hidden=True),
    F.Flag("ssh", "string"),
    F.Flag("concurrency", "int", short="c", default=5),
    F.Flag("format", "string", default="default"),
    F.Flag("ssh-proxy-host", "string", hidden=True),
    F.Flag("ssh-proxy-user", "string", hidden=True),
    F.Flag("ssh-proxy-port", "int", default=22, hidden=True),
    F.Flag("ssh-proxy-identity-file", "string", hidden=True),
    F.Flag("ssh-proxy-use-password", "bool", hidden=True),
    F.Flag("ssh-proxy-timeout", "uint", default=5, hidden=True),
    F.Flag("profile-dir", "string"),
]

SELECT_FLAGS = [F.Flag("role", "slice", short="R"), F.Flag("node", "slice", short="N")]

SUBCOMMANDS = {
    "deploy": [F.Flag("user", "string", short="u", default=None),
               F.Flag("skip-create-user", "bool"),
               F.Flag("identity_file", "string", short="i", default=None),
               F.Flag("password", "bool", short="p"),
               F.Flag("ignore-config-check", "bool"),
               F.Flag("no-labels", "bool")],
    "start": [F.Flag("init", "bool"), F.Flag("restore-leaders", "bool", hidden=True)] + SELECT_FLAGS,
    "stop": SELECT_FLAGS + [F.Flag("evict-leaders", "bool", hidden=True)],
    "restart": list(SELECT_FLAGS),
    "display": SELECT_FLAGS + [F.Flag("uptime", "bool"), F.Flag("dashboard", "bool"),
                               F.Flag("version", "bool"), F.Flag("labels", "bool"),
                               F.Flag("process", "bool"), F.Flag("manage-host", "bool"),
                               F.Flag("numa", "bool"), F.Flag("versions", "bool"),
                               F.Flag("status-timeout", "uint", default=10)],
    "list": [],
    "destroy": [F.Flag("retain-node-data", "array"), F.Flag("retain-role-data", "array"),
                F.Flag("force", "bool")],
    "show-config": [],
    "edit-config": [F.Flag("topology-file", "string", default="")],
    "reload": SELECT_FLAGS + [F.Flag("force", "bool"), F.Flag("skip-restart", "bool"),
                              F.Flag("ignore-config-check", "bool"),
                              F.Flag("transfer-timeout", "uint", default=600)],
}

# Real subcommands the sandbox does not emulate (yet).
NOT_EMULATED = ["check", "scale-in", "scale-out", "clean", "upgrade", "prune", "audit",
                "patch", "rename", "enable", "disable", "exec",
                "pull", "push", "replay", "template", "tls", "meta", "rotatessh", "test"]

SHORT_HELP = {
    "deploy": "Deploy a cluster for production", "start": "Start a TiDB cluster",
    "stop": "Stop a TiDB cluster", "restart": "Restart a TiDB cluster",
    "display": "Display information of a TiDB cluster", "list": "List all clusters",
    "destroy": "Destroy a specified cluster", "show-config": "Show TiDB cluster config",
    "edit-config": "Edit TiDB cluster config", "reload": "Reload a TiDB cluster's config and restart if needed",
}
USAGE = {
    "deploy": "deploy <cluster-name> <version> <topology.yaml>", "start": "start <cluster-name>",
    "stop": "stop <cluster-name>", "restart": "restart <cluster-name>",
    "display": "display <cluster-name>", "list": "list", "destroy": "destroy <cluster-name>",
    "show-config": "show-config <cluster-name>", "edit-config": "edit-config <cluster-name>",
    "reload": "reload <cluster-name>",
}


class Ctx(object):
    def __init__(self, printer, opts):
        self.p = printer
        self.opts = opts

    @property
    def wait_timeout(self):
        return self.opts["wait_timeout"]


# ---- helpers -----------------------------------------------------------------------------

def go_duration(seconds):
    seconds = int(seconds)
    if seconds == 0:
        return "0s"
    hours, rem = divmod(seconds, 3600)
    minutes, secs = divmod(rem, 60)
    if hours:
        return "%dh%dm%ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%ds" % (minutes, secs)
    return "%ds" % secs


def validate_cluster_name(name):
    import re
    if not name:
        raise TypedError("common.invalid_cluster_name", "Cluster name must not be empty",
                         precheck=True)
    if not re.match(r"^[a-zA-Z0-9\-_\.]+$", name):
        raise TypedError("common.invalid_cluster_name", "Cluster name '%s' is invalid" % name,
                         suggestion="The cluster name should only contain alphabets, numbers, "
                                    "hyphen (-), underscore (_), and dot (.).", precheck=True)


def fmt_version(version):
    """utils.FmtVer; the sandbox also insists on a full release version or nightly."""
    import re
    if version.lower() == "nightly":
        return version
    value = version if version.startswith("v") else "v" + version
    if not re.match(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$", value):
        raise TiupError("version %s is not a valid SemVer string" % version)
    return value


def load_meta(name):
    """Manager.meta: the metadata, or "tidb cluster `x` not exists"."""
    if not S.cluster_exists(name):
        raise TiupError("tidb cluster `%s` not exists" % name)
    return S.load_meta(name)


def valid_roles(roles):
    for role in roles:
        if role not in S.ALL_COMPONENT_NAMES:
            raise TiupError("not valid role: %s, should be one of: [%s]"
                            % (role, " ".join(S.ALL_COMPONENT_NAMES)))


def ssh_error(user, host, port, command):
    return TypedError(
        "executor.ssh.execute_failed",
        "Failed to execute command over SSH for '%s@%s:%d'" % (user, host, port),
        cause=TiupError("dial tcp %s:%d: connect: connection refused" % (host, port)),
        properties=[("ssh_stderr", ""), ("ssh_stdout", ""),
                    ("ssh_command", "export LANG=C; PATH=$PATH:/bin:/sbin:/usr/bin:/usr/sbin; %s"
                     % command)])


class cluster_lock(object):
    """Serialise mutating commands on one cluster (the sandbox's own safety; invisible)."""

    def __init__(self, name):
        state = tiup_env.cluster_state_dir(name)
        self.path = os.path.join(os.path.dirname(state), ".%s.lock" % os.path.basename(state))
        self.handle = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.handle = open(self.path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def ssh_task_lines(ctx, name, topo):
    ctx.p.info("+ [ Serial ] - SSHKeySet: privateKey=%s, publicKey=%s"
               % (tiup_env.cluster_dir(name, "ssh", "id_rsa"),
                  tiup_env.cluster_dir(name, "ssh", "id_rsa.pub")))
    for inst in topo.instances():
        ctx.p.info("+ [Parallel] - UserSSH: user=%s, host=%s" % (topo.user, inst.manage_host))


def select(topo, roles, nodes):
    """(component, [instances]) in start order, filtered like FilterComponent/FilterInstance."""
    out = []
    for comp, insts in topo.by_role():
        if roles and comp not in roles:
            continue
        if nodes:
            insts = [i for i in insts if i.id in nodes]
        out.append((comp, insts))
    return out


def whole_cluster(topo, roles, nodes):
    chosen = sum((insts for dummy, insts in select(topo, roles, nodes)), [])
    return len(chosen) == len(topo.instances())


# ---- start / stop ------------------------------------------------------------------------

def start_components(ctx, meta, roles, nodes):
    topo = meta.topology
    runtime = rt.ClusterRuntime(meta.name)
    db = runtime.ensure_storage_port()
    if not db.running():
        try:
            db.start(timeout=max(30, ctx.wait_timeout))
        except Exception as exc:  # MariaDBError and friends
            raise TiupError("failed to start the sandbox storage (MariaDB) of cluster %s: %s"
                            % (meta.name, exc))
    for comp, insts in select(topo, roles, nodes):
        if not insts:
            continue
        ctx.p.info("Starting component %s" % comp)
        errors = []
        lock = threading.Lock()

        def one(inst):
            with lock:
                ctx.p.info("\tStarting instance %s" % inst.id)
            if not rt.reachable(inst.manage_host):
                err = ssh_error(topo.user, inst.manage_host, inst.spec.get("ssh_port", 22),
                                '/usr/bin/sudo -H bash -c "systemctl daemon-reload && '
                                'systemctl start %s"' % inst.service_name)
            else:
                runtime.spawn(inst, meta, topo)
                err = None
                if not runtime.wait_started(inst, ctx.wait_timeout):
                    err = TiupError("timed out waiting for port %d to be started after %s"
                                    % (inst.port, go_duration(ctx.wait_timeout)))
            if err is not None:
                err = err.annotate("failed to start: %s %s, please check the instance's log(%s) "
                                   "for more detail." % (inst.manage_host, inst.service_name,
                                                         inst.log_dir))
                with lock:
                    errors.append(err)
                return
            with lock:
                ctx.p.info("\tStart instance %s success" % inst.id)

        threads = [threading.Thread(target=one, args=(inst,)) for inst in insts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0].annotate("failed to start %s" % comp)


def stop_components(ctx, meta, roles, nodes, force=False):
    topo = meta.topology
    runtime = rt.ClusterRuntime(meta.name)
    for comp, insts in reversed(select(topo, roles, nodes)):
        if not insts:
            continue
        ctx.p.info("Stopping component %s" % comp)
        errors = []
        lock = threading.Lock()

        def one(inst):
            with lock:
                ctx.p.info("\tStopping instance %s" % inst.manage_host)
            if not rt.reachable(inst.manage_host):
                err = ssh_error(topo.user, inst.manage_host, inst.spec.get("ssh_port", 22),
                                '/usr/bin/sudo -H bash -c "systemctl daemon-reload && '
                                'systemctl stop %s"' % inst.service_name)
                err = err.annotate("failed to stop: %s %s, please check the instance's log(%s) "
                                   "for more detail." % (inst.manage_host, inst.service_name,
                                                         inst.log_dir))
                with lock:
                    errors.append(err)
                return
            runtime.stop_instance(inst, ctx.wait_timeout)
            with lock:
                ctx.p.info("\tStop %s %s success" % (comp, inst.id))

        threads = [threading.Thread(target=one, args=(inst,)) for inst in insts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors and not force:
            raise errors[0].annotate("failed to stop %s" % comp)
    if whole_cluster(topo, roles, nodes):
        db = runtime.mariadb()
        if db.running():
            db.stop(timeout=max(30, ctx.wait_timeout))


# ---- subcommands -------------------------------------------------------------------------

def cmd_deploy(ctx, args):
    opts = ctx.opts
    if not args:
        print_help("deploy", ctx.p)
        return
    if len(args) < 3:
        raise TypedError("tui.mismatch_args",
                         "Expect at least 3 arguments, but received %d arguments" % len(args),
                         suggestion=usage_text("deploy"), precheck=True)
    name, version_arg, topo_file = args[0], args[1], args[2]
    version = fmt_version(version_arg)
    validate_cluster_name(name)
    with cluster_lock(name):
        _deploy(ctx, opts, name, version, topo_file)


def _deploy(ctx, opts, name, version, topo_file):
    if S.cluster_exists(name):
        raise TypedError("deploy.name_dup", "Cluster name '%s' is duplicated" % name,
                         suggestion="Please specify another cluster name", precheck=True)
    topo = S.parse_topology_text(S.read_topology_file(topo_file), topo_file)
    if not topo.instances():
        raise TiupError("no valid instance found in the input topology, please check your config")
    topo.expand_relative_dirs()
    if opts["ssh"]:
        topo.global_options["ssh_type"] = opts["ssh"]
    if not opts["no_labels"]:
        labels = topo.location_labels()
        problems = topo.check_tikv_labels(labels)
        if problems:
            raise TiupError("check TiKV label failed, please fix that before continue:\n%s" % problems)
    check_conflict(name, topo)
    user = opts["user"] or getpass.getuser()
    if (opts["ssh"] or topo.global_options.get("ssh_type")) != "none":
        read_identity(ctx, opts["identity_file"] or os.path.join(os.path.expanduser("~"), ".ssh", "id_rsa"),
                      opts["password"])
    # fillHost: detect arch and OS over SSH
    hosts = []
    for inst in topo.instances():
        if inst.manage_host not in [h for h, dummy in hosts]:
            hosts.append((inst.manage_host, inst.spec.get("ssh_port", 22)))
    ctx.p.step("+ Detect CPU Arch Name", mode="running")
    for host, port in hosts:
        if not rt.reachable(host):
            ctx.p.step("  - Detecting node %s Arch info" % host, mode="error")
            raise ssh_error(user, host, port, "uname -m").annotate(
                "failed to fetch cpu-arch or kernel-name")
        ctx.p.step("  - Detecting node %s Arch info" % host)
    ctx.p.step("+ Detect CPU OS Name", mode="running")
    for host, dummy in hosts:
        ctx.p.step("  - Detecting node %s OS info" % host)
    topo.fill_arch_os(tiup_env.machine_arch(), "linux")
    if not opts["yes"] and not ctx.p.json:
        confirm_topology(ctx, name, version, topo)

    meta = S.Meta(name, topo.user, version, tiup_env.tiup_version_string(), topo)
    cluster_dir = tiup_env.cluster_dir(name)
    runtime = rt.ClusterRuntime(name)
    try:
        os.makedirs(cluster_dir, exist_ok=True)
        ctx.p.step("+ Generate SSH keys", mode="running")
        rt.generate_ssh_key(os.path.join(cluster_dir, "ssh"))
        ctx.p.step("+ Generate SSH keys")
        for sub in ("config-cache", "patch"):
            os.makedirs(os.path.join(cluster_dir, sub), exist_ok=True)
        ctx.p.step("+ Download TiDB components", mode="running")
        for comp, insts in topo.by_role():
            if insts:
                ctx.p.step("  - Download %s:%s (%s/%s)" % (comp, insts[0].version(version),
                                                           insts[0].os, insts[0].arch))
        ctx.p.step("+ Initialize target host environments", mode="running")
        glob = topo.global_options
        for host, port in hosts:
            for d in (glob.get("deploy_dir"), glob.get("log_dir")):
                if d:
                    os.makedirs(tiup_env.host_path(host, S.abs_path(topo.user, d)), exist_ok=True)
            if glob.get("data_dir", "").startswith("/"):
                os.makedirs(tiup_env.host_path(host, glob["data_dir"]), exist_ok=True)
            ctx.p.step("  - Prepare %s:%d" % (host, port))
        # the sandbox storage first: the tidb run scripts name its port and socket
        runtime.init_storage()
        ctx.p.step("+ Deploy TiDB instance", mode="running")
        for inst in topo.instances():
            ctx.p.step("  - Copy %s -> %s" % (inst.role, inst.manage_host))
        ctx.p.step("+ Copy certificate to remote host", mode="running")
        ctx.p.step("+ Init instance configs", mode="running")
        write_configs(ctx, meta, runtime)
        ctx.p.step("+ Init monitor configs", mode="running")
        mon = topo.data["monitored"]
        for host, dummy in hosts:
            for key in ("deploy_dir", "data_dir", "log_dir"):
                os.makedirs(tiup_env.host_path(host, mon[key]), exist_ok=True)
            ctx.p.step("  - Generate config node_exporter -> %s" % host)
            ctx.p.step("  - Generate config blackbox_exporter -> %s" % host)
        S.save_meta(meta)
    except BaseException:
        if not S.cluster_exists(name):
            runtime.wipe()
        raise
    ctx.p.info("Cluster `%s` deployed successfully, you can start it with command: `%s start %s --init`"
               % (name, ARG0, name))


def write_configs(ctx, meta, runtime):
    """Every instance's config file and run script from the topology (deploy's InitConfig
    step, which reload runs again)."""
    cache = tiup_env.cluster_dir(meta.name, "config-cache")
    for inst in meta.topology.instances():
        rt.write_instance_files(meta.topology, inst, runtime.argv(inst, meta, meta.topology), cache)
        ctx.p.step("  - Generate config %s -> %s" % (inst.role, inst.id))


def read_identity(ctx, path, use_password):
    """tui.ReadIdentityFileOrPassword: a password (-p), a readable private key, or an
    ssh-agent; otherwise deploy fails before touching anything."""
    if use_password:
        ctx.p.out("Input SSH password: \n")  # no terminal here: reads an empty password
        return
    if path and os.path.exists(path):
        suggestion = "Looks like your SSH private key %s is invalid." % path
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise TypedError("tui.id_read_failed", "Failed to read SSH identity file '%s'" % path,
                             cause=TiupError(str(exc)), precheck=True,
                             suggestion="Please check whether your SSH identity file %s exists "
                                        "and have access permission." % path)
        from cryptography.hazmat.primitives import serialization
        loaders = (serialization.load_ssh_private_key, serialization.load_pem_private_key)
        for loader in loaders:
            try:
                loader(data, password=None)
                return
            except TypeError:  # encrypted: tiup asks for the passphrase (none without a tty)
                ctx.p.out("The SSH identity key is encrypted. Input its passphrase: \n")
                raise TypedError("tui.id_read_failed", "Failed to decrypt SSH identity file '%s'" % path,
                                 cause=TiupError("x509: decryption password incorrect"),
                                 precheck=True)
            except (ValueError, Exception):  # pylint: disable=broad-except
                continue
        raise TypedError("tui.id_read_failed", "Failed to read SSH identity file '%s'" % path,
                         cause=TiupError("ssh: no key found"), suggestion=suggestion, precheck=True)
    sock = os.environ.get("SSH_AUTH_SOCK", "")
    if not sock:
        raise TypedError("tui.id_read_failed",
                         "none of ssh password, identity file, SSH_AUTH_SOCK specified",
                         precheck=True)
    import stat
    try:
        mode = os.stat(sock).st_mode
    except OSError as exc:
        raise TypedError("tui.id_read_failed", "Failed to stat SSH_AUTH_SOCK file: '%s'" % sock,
                         cause=TiupError("stat %s: no such file or directory" % sock
                                         if exc.errno == 2 else str(exc)), precheck=True)
    if not stat.S_ISSOCK(mode):
        raise TypedError("tui.id_read_failed",
                         "The SSH_AUTH_SOCK file: '%s' is not a valid unix socket file" % sock,
                         precheck=True)


def confirm_topology(ctx, name, version, topo):
    ctx.p.info("Please confirm your topology:")
    ctx.p.out("Cluster type:    tidb\nCluster name:    %s\nCluster version: %s\n" % (name, version))
    rows = [["Role", "Host", "Ports", "OS/Arch", "Directories"]]
    for inst in topo.instances():
        rows.append([inst.role, inst.host, "/".join(str(p) for p in inst.ports),
                     tiup_env.os_arch_display(inst.os, inst.arch), ",".join(inst.used_dirs)])
    ctx.p.out(format_table(rows))
    ctx.p.warn("Attention:")
    ctx.p.warn("    1. If the topology is not what you expected, check your yaml file.")
    ctx.p.warn("    2. Please confirm there is no port/directory conflicts in same host.")
    ctx.p.confirm_or_abort("Do you want to continue? [y/N]: ")


def check_conflict(name, topo):
    """spec.CheckClusterPortConflict / CheckClusterDirConflict against the other clusters."""
    mine_ports, mine_dirs = _used(topo)
    for other in S.list_clusters():
        if other == name or not S.cluster_exists(other):
            continue
        try:
            other_meta = S.load_meta(other)
        except (TiupError, OSError, ValueError):
            continue
        their_ports, their_dirs = _used(other_meta.topology)
        for host, port, comp in mine_ports:
            for ohost, oport, ocomp in their_ports:
                if host == ohost and port == oport:
                    raise TypedError(
                        "spec.deploy.port_conflict", "Deploy port conflicts to an existing cluster",
                        suggestion=("The port you specified in the topology file is:\n"
                                    "  Port:      %d\n  Component: %s %s\n\n"
                                    "It conflicts to a port in the existing cluster:\n"
                                    "  Existing Cluster Name: %s\n  Existing Port:         %d\n"
                                    "  Existing Component:    %s %s\n\n"
                                    "Please change to use another port or another host."
                                    % (port, comp, host, other, oport, ocomp, ohost)),
                        precheck=True)
        for host, kind, path, comp in mine_dirs:
            for ohost, okind, opath, ocomp in their_dirs:
                if host == ohost and path == opath and path:
                    raise TypedError(
                        "spec.deploy.dir_conflict", "Deploy directory conflicts to an existing cluster",
                        suggestion=("The directory you specified in the topology file is:\n"
                                    "  Directory: %s %s\n  Component: %s %s\n\n"
                                    "It conflicts to a directory in the existing cluster:\n"
                                    "  Existing Cluster Name: %s\n  Existing Directory:    %s %s\n"
                                    "  Existing Component:    %s %s\n\n"
                                    "Please change to use another directory or another host."
                                    % (kind, path, comp, host, other, okind, opath, ocomp, ohost)),
                        precheck=True)


def _used(topo):
    ports, dirs, hosts = [], [], []
    for inst in topo.instances():
        for port in inst.ports:
            ports.append((inst.manage_host, port, inst.role))
        dirs.append((inst.manage_host, "deploy directory", inst.deploy_dir, inst.role))
        if inst.data_dir:
            for one in inst.data_dir.split(","):
                dirs.append((inst.manage_host, "data directory", one, inst.role))
        dirs.append((inst.manage_host, "log directory", inst.log_dir, inst.role))
        if inst.manage_host not in hosts:
            hosts.append(inst.manage_host)
    mon = topo.data["monitored"]
    for host in hosts:
        ports.append((host, mon["node_exporter_port"], "monitor"))
        ports.append((host, mon["blackbox_exporter_port"], "monitor"))
        dirs.append((host, "monitor deploy directory", mon["deploy_dir"], "monitor"))
        dirs.append((host, "monitor data directory", mon["data_dir"], "monitor"))
        dirs.append((host, "monitor log directory", mon["log_dir"], "monitor"))
    return ports, dirs


def cmd_start(ctx, args):
    if len(args) != 1:
        print_help("start", ctx.p)
        return
    roles, nodes = ctx.opts["role"], ctx.opts["node"]
    valid_roles(roles)
    name = args[0]
    ctx.p.info("Starting cluster %s..." % name)
    with cluster_lock(name):
        meta = load_meta(name)
        ssh_task_lines(ctx, name, meta.topology)
        ctx.p.info("+ [ Serial ] - StartCluster")
        start_components(ctx, meta, roles, nodes)
        ctx.p.info("+ [ Serial ] - UpdateTopology: cluster=%s" % name)
    ctx.p.info("Started cluster `%s` successfully" % name)
    if ctx.opts["init"]:
        init_password(ctx, meta)


def generate_password(length=18):
    """pkg/crypto/rand.Password: 1/3 digits, 1/4 symbols, letters otherwise, no repeats."""
    lower, upper = "abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ"
    digits, symbols = "0123456789", "@^*+-_"
    rnd = random.SystemRandom()
    n_digits, n_symbols = length // 3, length // 4
    chars = rnd.sample(lower + upper, length - n_digits - n_symbols)
    for pool, count in ((digits, n_digits), (symbols, n_symbols)):
        for char in rnd.sample(pool, count):
            chars.insert(rnd.randint(0, len(chars)), char)
    return "".join(chars)


def init_password(ctx, meta):
    """start --init: a random root password, set while root's password is still empty."""
    import pymysql
    pwd = generate_password(18)
    last_err = None
    runtime = rt.ClusterRuntime(meta.name)
    for inst in meta.topology.instances("tidb"):
        host = rt.bind_host(inst.host)
        try:
            conn = pymysql.connect(host=host, port=inst.spec["port"], user="root", password="",
                                   connect_timeout=10)
            conn.close()
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args else 0
            if code == 1045:
                last_err = TiupError("Error 1045 (28000): Access denied for user 'root'@'%s' "
                                     "(using password: NO)" % host)
            else:
                last_err = TiupError("dial tcp %s:%d: connect: connection refused"
                                     % (host, inst.spec["port"]))
            continue
        try:
            admin = runtime.mariadb().admin_connect()
            try:
                with admin.cursor() as cur:
                    cur.execute("ALTER USER 'root'@'%%' IDENTIFIED BY %s", (pwd,))
                    cur.execute("FLUSH PRIVILEGES")
            finally:
                admin.close()
        except Exception as exc:  # pylint: disable=broad-except
            last_err = TiupError(str(exc))
            continue
        last_err = None
        break
    else:
        if last_err is None:
            last_err = TiupError("no endpoint available")
    if last_err is not None:
        ctx.p.error("Failed to set root password of TiDB database to '%s'" % pwd)
        if "error 1045" in last_err.error_string().lower():
            ctx.p.error("Initializing is only working when the root password is empty")
            ctx.p.error("Did you already set root password before?")
        raise last_err
    ctx.p.warn("The root password of TiDB database has been changed.")
    ctx.p.out("The new password is: '%s'.\n" % pwd)
    ctx.p.warn("Copy and record it to somewhere safe, it is only displayed once, and will not be stored.")
    ctx.p.warn("The generated password can NOT be get and shown again.")


def cmd_stop(ctx, args):
    if len(args) != 1:
        print_help("stop", ctx.p)
        return
    roles, nodes = ctx.opts["role"], ctx.opts["node"]
    valid_roles(roles)
    name = args[0]
    with cluster_lock(name):
        meta = load_meta(name)
        if not ctx.opts["yes"]:
            ctx.p.confirm_or_abort("Will stop the cluster %s with nodes: %s, roles: %s.\n"
                                   "Do you want to continue? [y/N]:"
                                   % (name, ",".join(nodes), ",".join(roles)))
        ssh_task_lines(ctx, name, meta.topology)
        ctx.p.info("+ [ Serial ] - StopCluster")
        stop_components(ctx, meta, roles, nodes)
    ctx.p.info("Stopped cluster `%s` successfully" % name)


def cmd_restart(ctx, args):
    if len(args) != 1:
        print_help("restart", ctx.p)
        return
    roles, nodes = ctx.opts["role"], ctx.opts["node"]
    valid_roles(roles)
    name = args[0]
    with cluster_lock(name):
        meta = load_meta(name)
        if not ctx.opts["yes"]:
            if not roles and not nodes:
                availability, r_roles, r_nodes = "Cluster will be unavailable", "all", "all"
            else:
                availability = ("Cluster functionality related to nodes: %s roles: %s will be "
                                "unavailable" % (",".join(nodes), ",".join(roles)))
                r_nodes, r_roles = ",".join(nodes), ",".join(roles)
            ctx.p.confirm_or_abort("Will restart the cluster %s with nodes: %s roles: %s.\n%s\n"
                                   "Do you want to continue? [y/N]:"
                                   % (name, r_nodes, r_roles, availability))
        ssh_task_lines(ctx, name, meta.topology)
        ctx.p.info("+ [ Serial ] - RestartCluster")
        try:
            stop_components(ctx, meta, roles, nodes)
        except TiupError as exc:
            raise exc.annotate("failed to stop")
        try:
            start_components(ctx, meta, roles, nodes)
        except TiupError as exc:
            raise exc.annotate("failed to start")
    ctx.p.info("Restarted cluster `%s` successfully" % name)


def cmd_destroy(ctx, args):
    if len(args) != 1:
        print_help("destroy", ctx.p)
        return
    name = args[0]
    for role in ctx.opts["retain_role_data"]:
        if role not in S.ALL_COMPONENT_NAMES:
            raise TiupError("role name `%s` invalid" % role)
    validate_cluster_name(name)
    with cluster_lock(name):
        meta = load_meta(name)
        if not ctx.opts["yes"]:
            ctx.p.warn(WARNING_ART)
            ctx.p.answer_or_abort("Yes, I know my cluster and data will be deleted.",
                                  "This operation will destroy tidb %s cluster %s and its data."
                                  "\nAre you sure to continue?" % (meta.version, name))
            ctx.p.info("Destroying cluster...")
        topo = meta.topology
        ssh_task_lines(ctx, name, topo)
        ctx.p.info("+ [ Serial ] - StopCluster")
        stop_components(ctx, meta, [], [], force=ctx.opts["force"])
        ctx.p.info("+ [ Serial ] - DestroyCluster")
        destroy_files(ctx, meta)
        rt.ClusterRuntime(name).wipe()
        shutil.rmtree(tiup_env.cluster_dir(name), ignore_errors=True)
    ctx.p.info("Destroyed cluster `%s` successfully" % name)


WARNING_ART = """
  ██     ██  █████  ██████  ███    ██ ██ ███    ██  ██████
  ██     ██ ██   ██ ██   ██ ████   ██ ██ ████   ██ ██
  ██  █  ██ ███████ ██████  ██ ██  ██ ██ ██ ██  ██ ██   ███
  ██ ███ ██ ██   ██ ██   ██ ██  ██ ██ ██ ██  ██ ██ ██    ██
   ███ ███  ██   ██ ██   ██ ██   ████ ██ ██   ████  ██████
"""


def destroy_files(ctx, meta):
    topo = meta.topology
    retain_roles = set(ctx.opts["retain_role_data"])
    retain_nodes = set(ctx.opts["retain_node_data"])
    hosts = []
    for comp, insts in reversed(topo.by_role()):
        if not insts:
            continue
        ctx.p.info("Destroying component %s" % comp)
        for inst in insts:
            if inst.manage_host not in hosts:
                hosts.append(inst.manage_host)
            retained = (comp in retain_roles or inst.id in retain_nodes
                        or inst.host in retain_nodes or inst.manage_host in retain_roles)
            ctx.p.info("\tDestroying instance %s" % inst.manage_host)
            deploy = inst.deploy_dir
            data_dirs = inst.data_dir.split(",") if inst.data_dir else []
            paths = []
            keep_deploy = False
            for one in data_dirs:
                keep_deploy = keep_deploy or (retained and one.startswith(deploy))
                if not retained:
                    paths.append(one)
            if keep_deploy:
                paths += [os.path.join(deploy, sub) for sub in ("conf", "bin", "scripts")]
                if inst.log_dir.startswith(deploy):
                    paths.append(inst.log_dir)
            else:
                paths += [inst.log_dir, deploy]
            paths.append("/etc/systemd/system/%s" % inst.service_name)
            paths = sorted(set(paths))
            for path in paths:
                local = tiup_env.host_path(inst.manage_host, path)
                if os.path.isdir(local) and not os.path.islink(local):
                    shutil.rmtree(local, ignore_errors=True)
                elif os.path.lexists(local):
                    os.unlink(local)
            ctx.p.info("Destroy %s finished" % inst.manage_host)
            ctx.p.info("- Destroy %s paths: [%s]" % (comp, " ".join(paths)))
    mon = topo.data["monitored"]
    glob = topo.global_options
    for host in hosts:
        ctx.p.info("Destroying monitored %s" % host)
        ctx.p.info("\tDestroying instance %s" % host)
        for key in ("deploy_dir", "data_dir", "log_dir"):
            shutil.rmtree(tiup_env.host_path(host, mon[key]), ignore_errors=True)
        ctx.p.info("Destroy monitored on %s success" % host)
    for host in hosts:
        ctx.p.info("Clean global directories %s" % host)
        for key in ("deploy_dir", "data_dir", "log_dir"):
            value = glob.get(key)
            if not value:
                continue
            path = S.abs_path(topo.user, value)
            ctx.p.info("\tClean directory %s on instance %s" % (path, host))
            local = tiup_env.host_path(host, path)
            try:
                os.rmdir(local)  # rmdir: only when empty, like tiup's `rmdir` of globals
            except OSError:
                pass
        ctx.p.info("Clean global directories %s success" % host)
    for host in hosts:
        ctx.p.info("Delete public key %s" % host)
        ctx.p.info("Delete public key %s success" % host)


def cmd_display(ctx, args):
    opts = ctx.opts
    if len(args) != 1:
        print_help("display", ctx.p)
        return
    name = args[0]
    if not S.cluster_exists(name):
        raise TiupError("Cluster %s not found" % name)
    meta = S.load_meta(name)
    if opts["version"]:
        ctx.p.out(meta.version + "\n")
        return
    timeout = opts["status_timeout"]
    topo = meta.topology
    if opts["labels"]:
        raise TiupError("sandbox: `tiup cluster display --labels` is not emulated")
    if opts["dashboard"]:
        statuses, dashboard, dummy = cluster_status(topo, timeout, opts["concurrency"])
        if not dashboard or dashboard in ("auto", "none"):
            raise TiupError("TiDB Dashboard is missing, try again later")
        url = "http://%s/dashboard" % dashboard
        ctx.p.out("Dashboard URL:      %s\nDashboard URLs:     %s\n" % (url, url))
        return
    validate_cluster_name(name)
    statuses, dashboard, dummy = cluster_status(topo, timeout, opts["concurrency"])
    roles, nodes = opts["role"], opts["node"]
    infos = []
    for inst in topo.instances():
        if roles and inst.role not in roles:
            continue
        if nodes and inst.id not in nodes:
            continue
        status = statuses.get(inst.id, "-")
        if inst.role == "pd" and dashboard and dashboard == "%s:%d" % (inst.manage_host, inst.port):
            status += "|UI"
        rc = inst.spec.get("resource_control") or {}
        since = "-"
        if opts["uptime"]:
            since = format_since(rt.ClusterRuntime(name), inst)
        role = inst.role + (" (patched)" if inst.spec.get("patched") else "")
        infos.append({
            "id": inst.id, "role": role, "host": inst.host, "manage_host": inst.manage_host,
            "ports": "/".join(str(p) for p in inst.ports),
            "os_arch": tiup_env.os_arch_display(inst.os, inst.arch), "status": status,
            "memory": "-", "memory_limit": rc.get("memory_limit") or "-",
            "cpu_quota": rc.get("cpu_quota") or "-", "since": since,
            "data_dir": inst.data_dir if inst.data_dir else "-", "deploy_dir": inst.deploy_dir,
            "numa_node": inst.spec.get("numa_node") or "-",
            "numa_cores": inst.spec.get("numa_cores") or "-",
            "version": inst.version(meta.version),
            "_component": inst.role, "_port": inst.port,
        })
    infos.sort(key=lambda i: (i["role"], i["host"], i["ports"]))
    # displayDashboards uses the PDs of the *displayed* instances that are up
    shown_active = ["%s:%d" % (i["manage_host"], i["_port"]) for i in infos
                    if i["_component"] == "pd" and i["status"].startswith("Up")]
    dash_urls = []
    dash_url = None
    if shown_active and dashboard and dashboard not in ("", "auto", "none"):
        dash_url = "http://%s/dashboard" % dashboard
        dash_urls.append(dash_url)
    glob = topo.global_options
    if ctx.p.json:
        cluster_meta = {"cluster_type": "tidb", "cluster_name": name,
                        "cluster_version": meta.version, "deploy_user": glob.get("user", ""),
                        "ssh_type": glob.get("ssh_type", ""), "tls_enabled": False}
        if dash_url:
            cluster_meta["dashboard_url"] = dash_url
        if dash_urls:
            cluster_meta["dashboard_urls"] = dash_urls
        doc = {"cluster_meta": cluster_meta}
        fields = ["id", "role", "host", "manage_host", "ports", "os_arch", "status", "memory",
                  "memory_limit", "cpu_quota", "since", "data_dir", "deploy_dir", "numa_node",
                  "numa_cores", "version"]
        if infos:
            doc["instances"] = [{f: i[f] for f in fields} for i in infos]
        ctx.p.out(go_json(doc, indent=2) + "\n")
        return
    out = ("Cluster type:       tidb\nCluster name:       %s\nCluster version:    %s\n"
           "Deploy user:        %s\nSSH type:           %s\n"
           % (name, meta.version, glob.get("user", ""), glob.get("ssh_type", "")))
    if dash_url:
        out += "Dashboard URL:      %s\nDashboard URLs:     %s\n" % (dash_url, ",".join(dash_urls))
    show_manage = opts["manage_host"] or any(i["host"] != i["manage_host"] for i in infos)
    head = ["ID", "Role", "Host"] + (["Manage Host"] if show_manage else []) + ["Ports", "OS/Arch", "Status"]
    head += (["Memory", "Memory Limit", "CPU Quota"] if opts["process"] else [])
    head += (["Since"] if opts["uptime"] else []) + (["Numa Node", "Numa Cores"] if opts["numa"] else [])
    head += (["Version"] if opts["versions"] else []) + ["Data Dir", "Deploy Dir"]
    rows = [head]
    for i in infos:
        row = [i["id"], i["role"], i["host"]] + ([i["manage_host"]] if show_manage else [])
        row += [i["ports"], i["os_arch"], i["status"]]
        row += ([i["memory"], i["memory_limit"], i["cpu_quota"]] if opts["process"] else [])
        row += ([i["since"]] if opts["uptime"] else [])
        row += ([i["numa_node"], i["numa_cores"]] if opts["numa"] else [])
        row += ([i["version"]] if opts["versions"] else []) + [i["data_dir"], i["deploy_dir"]]
        rows.append(row)
    out += format_table(rows) + "Total nodes: %d\n" % (len(rows) - 1)
    ctx.p.out(out)


def format_since(runtime, inst):
    pids = runtime.instance_pids(inst, scan=False)
    if not pids:
        return "-"
    try:
        with open("/proc/%d/stat" % pids[0]) as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        seconds = int(uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return "-"
    if seconds <= 0:
        return "-"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        value, seconds = divmod(seconds, size)
        if value:
            parts.append("%d%s" % (value, unit))
    return "".join(parts) or "-"


def format_table(rows):
    """tui.PrintTable(rows, header=true): columns joined by two spaces, a dashes line under
    the header, trailing spaces suppressed."""
    if not rows:
        return ""
    rows = [rows[0], ["-" * len(c) for c in rows[0]]] + rows[1:]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [str(c).ljust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def cmd_list(ctx, args):
    clusters = []
    for name in S.list_clusters():
        if not S.cluster_exists(name):
            continue
        meta = S.load_meta(name)
        clusters.append({"name": name, "user": meta.user, "version": meta.version,
                         "path": tiup_env.cluster_dir(name),
                         "private_key": tiup_env.cluster_dir(name, "ssh", "id_rsa")})
    if ctx.p.json:
        ctx.p.out(go_json({"clusters": clusters}) + "\n")
        return
    rows = [["Name", "User", "Version", "Path", "PrivateKey"]]
    for c in clusters:
        rows.append([c["name"], c["user"], c["version"], c["path"], c["private_key"]])
    ctx.p.out(format_table(rows))


def cmd_show_config(ctx, args):
    if len(args) != 1:
        print_help("show-config", ctx.p)
        return
    name = args[0]
    validate_cluster_name(name)
    meta = load_meta(name)
    from tests.sandbox.tiup.yamlout import dump
    ctx.p.out(dump(meta.topology.to_struct()))


# Fields edit-config may change (tiup's `validate:"...:editable"` tags, the ones the sandbox's
# topology has): everything else is immutable there (scale-out/in, not edit-config).
EDITABLE_TOP = ("server_configs",)
EDITABLE_INSTANCE = ("config", "resource_control", "numa_node", "numa_cores")


def cmd_edit_config(ctx, args):
    """manager.EditConfig: only the --topology-file form (the editor needs a terminal).
    A file that does not parse, or changes an immutable field, is reported and nothing
    changes, with exit code 0 as tiup does; so is a file equal to the current topology."""
    if len(args) != 1:
        print_help("edit-config", ctx.p)
        return
    name = args[0]
    validate_cluster_name(name)
    path = ctx.opts["topology_file"]
    if not path:
        raise TiupError("sandbox: `tiup cluster edit-config` opens an editor; the sandbox "
                        "emulates only --topology-file")
    from tests.sandbox.tiup.yamlout import dump
    with cluster_lock(name):
        meta = load_meta(name)
        try:
            with open(path) as handle:
                new_text = handle.read()
        except OSError as exc:
            raise TiupError("open %s: %s" % (path, exc.strerror or exc))
        try:
            new_topo = S.parse_topology_text(new_text, path)
        except TiupError as exc:
            ctx.p.out("New topology could not be saved: ")
            ctx.p.info("Failed to parse topology file: %s" % _cause(exc))
            ctx.p.info("Nothing changed.")
            return
        new_topo.expand_relative_dirs()
        changed = immutable_changes(meta.topology.to_struct(), new_topo.to_struct())
        if changed:
            ctx.p.out("New topology could not be saved: ")
            ctx.p.error("immutable field changed: %s" % ", ".join(changed))
            ctx.p.info("Nothing changed.")
            return
        orig_text = dump(meta.topology.to_struct())
        if orig_text == new_text:
            ctx.p.info("The file has nothing changed")
            return
        import difflib
        ctx.p.out("".join(difflib.unified_diff(orig_text.splitlines(True), new_text.splitlines(True))))
        if not ctx.opts["yes"]:
            ctx.p.confirm_or_abort("Please check change highlight above, do you want to apply "
                                   "the change? [y/N]:")
        ctx.p.info("Applying changes...")
        meta.topology = new_topo
        S.save_meta(meta)
    ctx.p.info("Applied successfully, please use `%s reload %s [-N <nodes>] [-R <roles>]` to "
               "reload config." % (ARG0, name))


def _cause(exc):
    cause = getattr(exc, "cause", None)
    return cause.error_string() if isinstance(cause, TiupError) else exc.error_string()


def immutable_changes(old, new):
    """utils.ValidateSpecDiff, for the sandbox's topology: the paths that changed outside
    the editable fields, as "<path> changed from '<a>' to '<b>'" / "added" / "removed"."""
    from tests.sandbox.tiup.yamlout import dump
    import yaml

    def strip(struct):
        data = yaml.safe_load(dump(struct)) or {}
        for key in EDITABLE_TOP:
            data.pop(key, None)
        for key, value in data.items():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        for field in EDITABLE_INSTANCE:
                            item.pop(field, None)
        return data

    out = []

    def walk(path, a, b):
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                sub = "%s.%s" % (path, key) if path else str(key)
                if key not in b:
                    out.append("removed %s" % sub)
                elif key not in a:
                    out.append("added %s" % sub)
                else:
                    walk(sub, a[key], b[key])
        elif isinstance(a, list) and isinstance(b, list):
            for index in range(max(len(a), len(b))):
                sub = "%s.%d" % (path, index)
                if index >= len(b):
                    out.append("removed %s" % sub)
                elif index >= len(a):
                    out.append("added %s" % sub)
                else:
                    walk(sub, a[index], b[index])
        elif a != b:
            out.append("%s changed from '%s' to '%s'" % (path, a, b))

    walk("", strip(old), strip(new))
    return out


def cmd_reload(ctx, args):
    """manager.Reload: write every instance's config again from the topology, then restart
    the chosen roles/nodes (all without -R/-N) unless --skip-restart."""
    if len(args) != 1:
        print_help("reload", ctx.p)
        return
    roles, nodes = ctx.opts["role"], ctx.opts["node"]
    valid_roles(roles)
    name = args[0]
    validate_cluster_name(name)
    skip_restart = ctx.opts["skip_restart"]
    with cluster_lock(name):
        meta = load_meta(name)
        if not ctx.opts["yes"]:
            ctx.p.confirm_or_abort("Will reload the cluster %s with restart policy is %s, nodes: %s, "
                                   "roles: %s.\nDo you want to continue? [y/N]:"
                                   % (name, "false" if skip_restart else "true",
                                      ",".join(nodes), ",".join(roles)))
        ssh_task_lines(ctx, name, meta.topology)
        ctx.p.step("+ Refresh instance configs", mode="running")
        write_configs(ctx, meta, rt.ClusterRuntime(name))
        S.save_meta(meta)
        if not skip_restart:
            ctx.p.info("+ [ Serial ] - UpgradeCluster")
            try:
                stop_components(ctx, meta, roles, nodes)
                start_components(ctx, meta, roles, nodes)
            except TiupError as exc:
                raise exc.annotate("failed to restart")
    ctx.p.info("Reloaded cluster `%s` successfully" % name)


HANDLERS = {"deploy": cmd_deploy, "start": cmd_start, "stop": cmd_stop, "restart": cmd_restart,
            "display": cmd_display, "list": cmd_list, "destroy": cmd_destroy,
            "show-config": cmd_show_config, "edit-config": cmd_edit_config, "reload": cmd_reload}


# ---- help and entry ----------------------------------------------------------------------

def usage_text(sub):
    lines = ["Usage:", "  %s %s [flags]" % (ARG0, USAGE[sub]), "", "Flags:"]
    for flag in SUBCOMMANDS[sub]:
        if not flag.hidden:
            lines.append("  %s--%s" % ("-%s, " % flag.short if flag.short else "    ", flag.name))
    lines.append("  -h, --help")
    lines += ["", "Global Flags:"]
    for flag in GLOBAL_FLAGS:
        if not flag.hidden:
            lines.append("  %s--%s" % ("-%s, " % flag.short if flag.short else "    ", flag.name))
    return "\n".join(lines) + "\n"


def print_help(sub, printer=None):
    text = SHORT_HELP.get(sub, "") + "\n\n" + usage_text(sub)
    (printer.out if printer else _stdout)(text)


def _stdout(text):
    import sys
    sys.stdout.write(text)
    sys.stdout.flush()


def root_help():
    lines = ["Deploy a TiDB cluster for production", "", "Usage:", "  %s [command]" % ARG0, "",
             "Available Commands:"]
    for sub in ("deploy", "start", "stop", "restart", "display", "list", "destroy", "show-config",
                "edit-config", "reload"):
        lines.append("  %-12s %s" % (sub, SHORT_HELP[sub]))
    lines += ["", "Flags:"]
    for flag in GLOBAL_FLAGS:
        if not flag.hidden:
            lines.append("  %s--%s" % ("-%s, " % flag.short if flag.short else "    ", flag.name))
    lines += ["  -h, --help", "  -v, --version", "",
              'Use "%s help [command]" for more information about a command.' % ARG0]
    return "\n".join(lines) + "\n"


def main(argv):
    """Run `tiup cluster ARGV`; returns the exit code."""
    idx = F.first_positional(argv, GLOBAL_FLAGS)
    if idx is None:
        rest = argv
        if any(a in ("-v", "--version") for a in rest):
            _stdout("%s version %s\n" % (ARG0.split()[0], tiup_env.tiup_version_string()))
            return 0
        try:
            F.parse(rest, GLOBAL_FLAGS)
        except F.HelpRequested:
            pass
        except F.FlagError as exc:
            return Printer("default").finish(TiupError(str(exc)))
        _stdout(root_help())
        return 0
    sub = argv[idx]
    rest = argv[:idx] + argv[idx + 1:]
    if sub == "help":
        target = [a for a in rest if not a.startswith("-")]
        if target and target[0] in SUBCOMMANDS:
            print_help(target[0])
        else:
            _stdout(root_help())
        return 0
    if sub in NOT_EMULATED:
        # a real subcommand: the display mode is set before it fails
        mode = "default"
        for i, arg in enumerate(rest):
            if arg == "--format" and i + 1 < len(rest):
                mode = rest[i + 1]
            elif arg.startswith("--format="):
                mode = arg.split("=", 1)[1]
        return Printer(mode).finish(TiupError(
            "sandbox: `tiup cluster %s` is not emulated by the TiDB sandbox" % sub))
    if sub not in SUBCOMMANDS:
        return Printer("default").finish(TiupError('unknown command "%s" for "%s"' % (sub, ARG0)))
    try:
        opts, args, _given = F.parse(rest, GLOBAL_FLAGS + SUBCOMMANDS[sub])
    except F.HelpRequested:
        print_help(sub)
        return 0
    except F.FlagError as exc:
        # cobra fails before PersistentPreRunE sets the display mode: always plain text
        return Printer("default").finish(TiupError(str(exc)))
    printer = Printer(opts["format"])
    ctx = Ctx(printer, opts)
    err = None
    try:
        HANDLERS[sub](ctx, args)
    except TiupError as exc:
        err = exc
    except KeyboardInterrupt:
        err = TiupError("context canceled")
    code = printer.finish(err)
    write_audit(tiup_env.audit_dir(), [ARG0] + list(argv), printer.audit)
    return code
