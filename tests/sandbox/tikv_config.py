"""TiKV's configuration as its status server shows and changes it (GET/POST /config).

The stand-in keeps a part of TiKV's config tree (DEFAULTS, names and defaults from TiKV's
config template for v7.x), lays the --config file over it at start (tiup writes
server_configs.tikv there), and takes online changes as TiKV does
(components/server/src/status_server: POST /config with a JSON map of dotted names):

- only items TiKV can change online are taken (DYNAMIC, the list of docs/dynamic-config.md);
  any other, or a name TiKV does not have, answers 500
  ``fail to update, error: "config <name> can not be changed"`` (the text TiDB's SET CONFIG
  then shows as a warning, docs/dynamic-config.md);
- a value of the wrong type is refused the same way, with the decoder's complaint;
- a change is written to the --config file (TiKV persists online changes there), so it
  survives a restart, until `tiup cluster reload` writes the file again from the topology.
"""
import copy
import os
import threading
import tomllib

from tests.sandbox import component_config as cc

DEFAULTS = {
    "log-level": "info",
    "log": {"level": "info", "format": "text"},
    "server": {"grpc-concurrency": 5, "grpc-memory-pool-quota": "9223372036854775807B",
               "max-grpc-send-msg-len": 10485760, "raft-msg-max-batch-size": 128,
               "snap-io-max-bytes-per-sec": "100MiB", "status-thread-pool-size": 1},
    "storage": {"scheduler-worker-pool-size": 4, "scheduler-concurrency": 524288,
                "reserve-space": "5GiB", "block-cache": {"capacity": "8GiB"}},
    "raftstore": {"raft-log-gc-threshold": 50, "raft-log-gc-count-limit": 73728,
                  "raft-log-gc-size-limit": "72MiB", "apply-pool-size": 2,
                  "store-pool-size": 2, "pd-store-heartbeat-tick-interval": "10s",
                  "max-peer-down-duration": "10m", "region-split-check-diff": "6MiB",
                  "split-region-check-tick-interval": "10s"},
    "readpool": {"unified": {"max-thread-count": 8, "min-thread-count": 1}},
    "coprocessor": {"split-region-on-table": False, "region-max-size": "144MiB",
                    "region-split-size": "96MiB", "batch-split-limit": 10},
    "pessimistic-txn": {"wait-for-lock-timeout": "1s", "wake-up-delay-duration": "20ms",
                        "pipelined": True, "in-memory": True},
    "gc": {"ratio-threshold": 1.1, "batch-keys": 512, "max-write-bytes-per-sec": "0KiB",
           "enable-compaction-filter": True},
    "split": {"qps-threshold": 3000, "byte-threshold": 31457280, "split-balance-score": 0.25},
    "backup": {"num-threads": 8, "batch-size": 8},
    "import": {"num-threads": 8},
    "cdc": {"min-ts-interval": "1s", "incremental-scan-speed-limit": "128MiB",
            "sink-memory-quota": "512MiB"},
    "rocksdb": {"max-background-jobs": 8, "rate-bytes-per-sec": "10GiB",
                "defaultcf": {"block-cache-size": "2GiB"},
                "writecf": {"block-cache-size": "1GiB"}},
    "quota": {"foreground-cpu-time": 0, "foreground-write-bandwidth": "0KiB"},
}

# docs/dynamic-config.md, "Modify TiKV configuration dynamically": whole sections and items.
DYNAMIC_SECTIONS = ("raftstore.", "readpool.unified.", "coprocessor.", "pessimistic-txn.",
                    "gc.", "split.", "cdc.", "quota.", "backup.", "rocksdb.", "raftdb.")
DYNAMIC_ITEMS = {"server.grpc-memory-pool-quota", "server.max-grpc-send-msg-len",
                 "server.raft-msg-max-batch-size", "server.snap-io-max-bytes-per-sec",
                 "storage.block-cache.capacity", "storage.scheduler-worker-pool-size",
                 "import.num-threads"}


def is_dynamic(name):
    return name in DYNAMIC_ITEMS or name.startswith(DYNAMIC_SECTIONS)


class OnlineConfig(object):
    """The running TiKV's configuration: defaults, the file at start, online changes."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self.current = copy.deepcopy(DEFAULTS)
        if path and os.path.isfile(path):
            with open(path, "rb") as handle:
                self.current = cc.merge(self.current, tomllib.load(handle))
        self._flat = cc.flatten(DEFAULTS)

    def get(self):
        with self._lock:
            return copy.deepcopy(self.current)

    def update(self, changes):
        """Apply {dotted name: value}; returns None, or the error text TiKV answers."""
        with self._lock:
            typed = {}
            for name, value in changes.items():
                if name not in self._flat or not is_dynamic(name):
                    return 'fail to update, error: "config %s can not be changed"' % name
                try:
                    typed[name] = cc.coerce(self._flat[name], value)
                except ValueError as exc:
                    return 'fail to update, error: "%s"' % exc
            for name, value in typed.items():
                cc.set_dotted(self.current, name, value)
            self._persist(typed)
            return None

    def _persist(self, typed):
        """Write the changed items into the --config file, keeping its comment header."""
        if not self.path:
            return
        header, body = [], {}
        if os.path.isfile(self.path):
            with open(self.path) as handle:
                text = handle.read()
            header = [line for line in text.splitlines() if line.startswith("#")]
            body = tomllib.loads(text)
        for name, value in typed.items():
            cc.set_dotted(body, name, value)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write("\n".join(header + [cc.toml_dump(body)]) + "\n")
        os.replace(tmp, self.path)
