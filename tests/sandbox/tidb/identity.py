"""What a TiDB server of a given version says about itself."""
import hashlib
import re

_VERSION_RE = re.compile(r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\Z")


class Identity:
    def __init__(self, version, cluster, pd=(), address="", status_address=""):
        if not _VERSION_RE.match(version):
            raise ValueError("TiDB version must look like v7.5.1, got %r" % version)
        self.version = version
        self.cluster = cluster
        self.pd = list(pd)  # the PD endpoints (host:port) of --path
        self.address = address  # host:port of the SQL port, as CLUSTER_INFO lists it
        self.status_address = status_address
        # Real builds report their commit; the stand-in derives a stable fake one.
        self.git_hash = hashlib.sha1(("tidb-" + version).encode()).hexdigest()

    @property
    def server_version(self):
        """What VERSION(), @@version and the handshake report."""
        return "8.0.11-TiDB-" + self.version

    @property
    def version_comment(self):
        return ("TiDB Server (Apache License 2.0) Community Edition, "
                "MySQL 8.0 compatible")

    @property
    def tidb_version_text(self):
        """SELECT tidb_version(), laid out as a release build prints it."""
        return "\n".join([
            "Release Version: " + self.version,
            "Edition: Community",
            "Git Commit Hash: " + self.git_hash,
            "Git Branch: heads/refs/tags/" + self.version,
            "UTC Build Time: 2024-02-28 09:19:54",
            "GoVersion: go1.21.6",
            "Race Enabled: false",
            "Check Table Before Drop: false",
            "Store: tikv",
        ])
