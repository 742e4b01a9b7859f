"""Where tiup keeps things, and where the sandbox keeps what real hosts would hold.

Real tiup:
  TIUP_HOME                       default ~/.tiup
  TIUP_COMPONENT_DATA_DIR         replaces $TIUP_HOME/storage/cluster (the profile dir)
  <profile>/clusters/<name>/      meta.yaml, ssh/, config-cache/, patch/
  <profile>/audit/                one file per command
  $TIUP_HOME/logs/                debug logs written on errors

Sandbox additions (invisible to a tiup user):
  TIDBOPS_SANDBOX_DIR             the sandbox dir (set by the DIR/bin/tiup wrapper);
                                  default: the parent of TIUP_HOME
  TIDBOPS_SANDBOX_HOSTS_DIR       where "hosts" keep their files; default <sandbox>/hosts.
                                  Path P on host H is <hosts>/<H>/<P>, so `display` shows
                                  /tidb-deploy/tikv-20160 while files go into the sandbox.
  <sandbox>/clusters/<name>/      per-cluster sandbox state: the MariaDB, PD's shared
                                  state (stores, GC safepoints), pid files, TiDB state
                                  (<name>@<hash> for clusters of another TIUP_HOME).
"""
import hashlib
import os
import platform

TIUP_VERSION = "1.16.1"
TIUP_GIT_REF = "v1.16.1"
TIUP_GIT_HASH = "4d7a2a5f1a1e5b0c1f0a6f6b9a4a0f5b1c2d3e4f"
GO_VERSION = "go1.21.13"

# The hosts a "SSH connection" reaches: everything else fails like an unreachable host.
REACHABLE_HOSTS = ("127.0.0.1", "localhost")


def tiup_version_string():
    """version.NewTiUPVersion().String(): what `tiup --version` prints and meta's last_ops_ver."""
    return "%s tiup\nGo Version: %s\nGit Ref: %s\nGitHash: %s" % (
        TIUP_VERSION, GO_VERSION, TIUP_GIT_REF, TIUP_GIT_HASH)


def tiup_home():
    home = os.environ.get("TIUP_HOME")
    if home:
        return os.path.abspath(home)
    return os.path.join(os.path.expanduser("~"), ".tiup")


def profile_dir(component="cluster"):
    data = os.environ.get("TIUP_COMPONENT_DATA_DIR")
    if data:
        return os.path.abspath(data)
    return os.path.join(tiup_home(), "storage", component)


def clusters_dir():
    return os.path.join(profile_dir(), "clusters")


def cluster_dir(name, *sub):
    return os.path.join(clusters_dir(), name, *sub)


def audit_dir():
    return os.path.join(profile_dir(), "audit")


def logs_dir():
    return os.environ.get("TIUP_LOG_PATH") or os.path.join(tiup_home(), "logs")


def sandbox_dir():
    explicit = os.environ.get("TIDBOPS_SANDBOX_DIR")
    if explicit:
        return os.path.abspath(explicit)
    return os.path.dirname(tiup_home())


def hosts_dir():
    explicit = os.environ.get("TIDBOPS_SANDBOX_HOSTS_DIR")
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(sandbox_dir(), "hosts")


def host_path(host, path):
    """Where path `path` of host `host` lives in the sandbox."""
    return os.path.join(hosts_dir(), host, path.lstrip("/"))


def cluster_state_dir(name):
    """The cluster's sandbox state; also the owner tag of every process of the cluster.

    Cluster names are unique per tiup profile, so a profile other than the sandbox's own
    (DIR/tiup) gets its clusters' state under "<name>@<hash of the profile dir>"."""
    base = os.path.join(sandbox_dir(), "clusters")
    profile = os.path.abspath(profile_dir())
    if profile == os.path.join(sandbox_dir(), "tiup", "storage", "cluster"):
        return os.path.join(base, name)
    digest = hashlib.sha1(profile.encode()).hexdigest()[:8]
    return os.path.join(base, "%s@%s" % (name, digest))


def machine_arch():
    """uname -m as tiup stores it (x86_64 -> amd64, aarch64 -> arm64)."""
    arch = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(arch, arch)


def os_arch_display(os_name, arch):
    """tui.OsArch: amd64 -> x86_64, arm64 -> aarch64 for display."""
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return "%s/%s" % (os_name, arch)
