"""The DM-master's logic behind the OpenAPI (dm/master/openapi_controller.go and the
scheduler): sources bound to workers, tasks as per-source subtasks with an expected stage,
and the checks and error codes DM applies. State lives in memory for the life of the
process; what resume needs (checkpoints) lives downstream.
"""
import copy
import logging
import threading
import zlib

import pymysql

from tests.sandbox.dm import checkpoint, precheck, taskcfg
from tests.sandbox.dm.engine import Subtask, connect_down
from tests.sandbox.dm.errors import DMError, db_error, go_list

LOG = logging.getLogger("dm-standin")
OBFUSCATED = "******"


class NotFound(Exception):
    """GET /sources/{name} of a missing source: a bare 404."""


class Master(object):
    def __init__(self, name, addr, workers):
        self.name = name
        self.addr = addr
        self.workers = [{"name": w, "addr": "127.0.0.1:%d" % (8262 + 100 * i), "source": ""} for i, w in enumerate(workers)]
        self.sources = {}   # name -> {"cfg": source dict (password kept), "relay": bool}
        self.tasks = {}     # name -> {"order": [source], "cfgs": {source: cfg}, "expect": {}, "runners": {}}
        self.lock = threading.RLock()
        self.cluster_id = zlib.crc32(addr.encode()) | (1 << 40)

    # ---- helpers -----------------------------------------------------------------------
    def _worker(self, name):
        return next((w for w in self.workers if w["name"] == name), None)

    def _bound(self, source):
        return next((w for w in self.workers if w["source"] == source), None)

    def _tasks_of(self, source):
        return sorted(t for t, rec in self.tasks.items() if source in rec["cfgs"])

    @staticmethod
    def _check_upstream(cfg):
        """CheckAndAdjustSourceConfig: connect with the account, detect the flavor."""
        try:
            conn = precheck.connect(cfg)
        except pymysql.MySQLError as exc:
            raise db_error(exc, "upstream")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = cur.fetchone()[0]
        if not cfg.get("flavor"):
            cfg["flavor"] = "mariadb" if "mariadb" in version.lower() else "mysql"

    @staticmethod
    def _source_cfg(source):
        cfg = copy.deepcopy(source)
        cfg.setdefault("password", "")
        cfg["purge"] = dict({"interval": 3600, "expires": 0, "remain_space": 15}, **{
            k: v for k, v in (source.get("purge") or {}).items() if v is not None})
        relay = source.get("relay_config") or {}
        cfg["relay_config"] = {"enable_relay": bool(relay.get("enable_relay", False)),
                               "relay_binlog_name": relay.get("relay_binlog_name") or "",
                               "relay_binlog_gtid": relay.get("relay_binlog_gtid") or "",
                               "relay_dir": relay.get("relay_dir") or "relay-dir"}
        return cfg

    def _source_view(self, name, with_status=False):
        """SourceCfgToOpenAPISource: password always obfuscated, security content hidden."""
        cfg = self.sources[name]["cfg"]
        view = {"source_name": name, "host": cfg["host"], "port": cfg["port"], "user": cfg["user"],
                "password": OBFUSCATED, "enable_gtid": cfg["enable_gtid"], "enable": cfg["enable"],
                "purge": dict(cfg["purge"]), "relay_config": dict(cfg["relay_config"])}
        if cfg.get("flavor"):
            view["flavor"] = cfg["flavor"]
        if cfg.get("security"):
            view["security"] = {"cert_allowed_cn": list(cfg["security"].get("cert_allowed_cn") or [])}
        if with_status:
            view["status_list"] = self.source_status(name)["data"]
            view["task_name_list"] = self._tasks_of(name)
        return view

    # ---- sources --------------------------------------------------------------------------
    def create_source(self, req):
        source = req["source"]
        cfg = self._source_cfg(source)
        self._check_upstream(cfg)
        with self.lock:
            name = source["source_name"]
            if name in self.sources:
                raise DMError("ErrSchedulerSourceCfgExist", name)
            worker = None
            if req.get("worker_name"):
                worker = self._worker(req["worker_name"])
                if worker is None:
                    raise DMError("ErrSchedulerWorkerNotExist", req["worker_name"])
                if worker["source"]:
                    raise DMError("ErrSchedulerWorkerNotFree", worker["name"])
            else:
                worker = next((w for w in self.workers if not w["source"]), None)
            self.sources[name] = {"cfg": cfg, "relay": False}
            if worker is not None:
                worker["source"] = name
            if cfg["relay_config"]["enable_relay"]:
                self.enable_relay(name, {})
        return source  # DM answers the request's Source as sent (password included)

    def list_sources(self, with_status, enable_relay):
        with self.lock:
            data = [self._source_view(n, with_status) for n in sorted(self.sources)
                    if enable_relay is None or self.sources[n]["relay"] == enable_relay]
        return {"total": len(data), "data": data}

    def get_source(self, name, with_status):
        with self.lock:
            if name not in self.sources:
                raise NotFound()
            return self._source_view(name, with_status)

    def update_source(self, name, req):
        source = req["source"]
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            old = self.sources[name]["cfg"]
        new = self._source_cfg(source)
        if source.get("password") is None:
            new["password"] = old["password"]  # no password in the request: keep the old one
        self._check_upstream(new)
        with self.lock:
            if self.sources[name]["relay"] or any(self.tasks[t]["expect"].get(name) == "Running"
                                                  for t in self._tasks_of(name)):
                raise DMError("ErrSchedulerSourceCfgUpdate", name)
            self.sources[name]["cfg"] = new
            if new["enable"] != old["enable"] and self._bound(name):
                self._operate_source_tasks(name, "Running" if new["enable"] else "Stopped")
        return source

    def delete_source(self, name, force):
        with self.lock:
            tasks = self._tasks_of(name)
            if force:
                for task in tasks:
                    self._remove_subtask(task, name)
            elif tasks:
                raise DMError("ErrSchedulerSourceOpTaskExist", name, go_list(tasks))
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            del self.sources[name]
            worker = self._bound(name)
            if worker:
                worker["source"] = ""

    def source_status(self, name):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            worker = self._bound(name)
            if worker is None:
                return {"total": 1, "data": [{"source_name": name}]}
            status = {"source_name": name, "worker_name": worker["name"]}
            if self.sources[name]["relay"]:
                cfg = self.sources[name]["cfg"]
                master = self._master_position(cfg)
                status["relay_status"] = {"master_binlog": master, "master_binlog_gtid": "",
                                          "relay_dir": cfg["relay_config"]["relay_dir"], "relay_binlog_gtid": "",
                                          "relay_catch_up_master": True, "stage": "Running"}
            return {"total": 1, "data": [status]}

    @staticmethod
    def _master_position(cfg):
        try:
            conn = precheck.connect(cfg, timeout=2)
            with conn, conn.cursor() as cur:
                cur.execute("SHOW MASTER STATUS")
                row = cur.fetchone()
            return "(%s, %s)" % (row[0], row[1]) if row else ""
        except pymysql.MySQLError:
            return ""

    def _operate_source_tasks(self, name, stage):
        """BatchOperateTaskOnWorker: every task of the source to stage."""
        for task in self._tasks_of(name):
            rec = self.tasks[task]
            rec["expect"][name] = stage
            runner = rec["runners"][name]
            if stage == "Running":
                runner.cfg = rec["cfgs"][name]
                runner.source = self.sources[name]["cfg"]
                runner.start()
            else:
                runner.stop()

    def enable_source(self, name):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            if self._bound(name) is None:
                raise DMError("ErrWorkerNoStart")
            cfg = self.sources[name]["cfg"]
            if cfg["enable"]:
                return
            cfg["enable"] = True
            self._operate_source_tasks(name, "Running")

    def disable_source(self, name):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            cfg = self.sources[name]["cfg"]
            if not cfg["enable"]:
                return
            if self._bound(name) is not None:
                self._operate_source_tasks(name, "Stopped")
            cfg["enable"] = False

    def transfer_source(self, name, worker_name):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            worker = self._worker(worker_name)
            if worker is None:
                raise DMError("ErrSchedulerWorkerNotExist", worker_name)
            if worker["source"] == name:
                return
            if worker["source"]:
                raise DMError("ErrSchedulerWorkerNotFree", worker_name)
            old = self._bound(name)
            if old:
                old["source"] = ""
            worker["source"] = name

    def enable_relay(self, name, req):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            if not req.get("worker_name_list") and self._bound(name) is None:
                raise DMError("ErrWorkerNoStart")
            for worker in req.get("worker_name_list") or []:
                if self._worker(worker) is None:
                    raise DMError("ErrSchedulerWorkerNotExist", worker)
            relay = self.sources[name]["cfg"]["relay_config"]
            for key in ("relay_binlog_name", "relay_binlog_gtid", "relay_dir"):
                if req.get(key) is not None:
                    relay[key] = req[key]
            self.sources[name]["relay"] = True

    def disable_relay(self, name, req):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            if not req.get("worker_name_list") and self._bound(name) is None:
                raise DMError("ErrWorkerNoStart")
            self.sources[name]["relay"] = False

    def purge_relay(self, name, req):
        with self.lock:
            if name not in self.sources or not self.sources[name]["relay"]:
                raise DMError("ErrOpenAPICommonError", message="relay worker for source %s not found, please "
                              "`enable-relay` first" % name)
        del req  # the stand-in keeps no relay log files, so there is nothing to purge

    def source_schemas(self, name, schema=None):
        with self.lock:
            if name not in self.sources:
                raise DMError("ErrSchedulerSourceCfgNotExist", name)
            cfg = dict(self.sources[name]["cfg"])
        try:
            conn = precheck.connect(cfg)
        except pymysql.MySQLError as exc:
            raise db_error(exc, "upstream")
        with conn, conn.cursor() as cur:
            if schema is None:
                cur.execute("SHOW DATABASES")
                return [r[0] for r in cur.fetchall() if r[0].lower() not in precheck.SYSTEM_SCHEMAS]
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                        "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", (schema,))
            return [r[0] for r in cur.fetchall()]

    # ---- tasks ----------------------------------------------------------------------------
    def _prepare(self, task):
        """checkOpenAPITaskBeforeOperate: target reachable, sources known, configs, precheck."""
        taskcfg.adjust_task(task)
        try:
            connect_down(taskcfg.target_db(task)).close()
        except pymysql.MySQLError as exc:
            raise db_error(exc, "downstream")
        with self.lock:
            sources = {}
            for conf in task["source_config"]["source_conf"]:
                if conf["source_name"] not in self.sources:
                    raise DMError("ErrSchedulerSourceCfgNotExist", conf["source_name"])
                sources[conf["source_name"]] = dict(self.sources[conf["source_name"]]["cfg"])
        cfgs = taskcfg.to_subtasks(task, sources)
        return cfgs, precheck.run(cfgs, sources)

    def create_task(self, req):
        task = req["task"]
        cfgs, result = self._prepare(task)
        with self.lock:
            name = task["name"]
            existing = [c["source_id"] for c in cfgs if name in self.tasks and c["source_id"] in self.tasks[name]["cfgs"]]
            if existing:
                raise DMError("ErrSchedulerSubTaskExist", name, go_list(existing))
            rec = self.tasks.setdefault(name, {"order": [], "cfgs": {}, "expect": {}, "runners": {}})
            for cfg in cfgs:
                src = cfg["source_id"]
                rec["order"].append(src)
                rec["cfgs"][src] = cfg
                rec["expect"][src] = "Stopped"
                worker = self._bound(src)
                runner = Subtask(cfg, self.sources[src]["cfg"], worker["name"] if worker else "")
                runner.unit = _current_unit(cfg)
                rec["runners"][src] = runner
        return {"task": task, "check_result": result}

    def update_task(self, req):
        task = req["task"]  # DM updates the task named in the body, whatever the path says
        cfgs, result = self._prepare(task)
        with self.lock:
            name = task["name"]
            rec = self.tasks.get(name)
            if rec is None:
                raise DMError("ErrSchedulerTaskNotExist", name)
            for cfg in cfgs:
                if cfg["source_id"] not in rec["cfgs"]:
                    raise DMError("ErrSchedulerSubTaskNotExist", name, go_list([cfg["source_id"]]))
            # only the first source's expected stage is looked at (pingcap/tiflow#12815)
            if rec["expect"].get(cfgs[0]["source_id"]) == "Running":
                raise DMError("ErrSchedulerSubTaskCfgUpdate", name, cfgs[0]["source_id"])
            for cfg in cfgs:
                src = cfg["source_id"]
                if self._bound(src) is None:
                    raise DMError("ErrSchedulerSubTaskCfgUpdate", message="this source: %s have not bound to worker" % src)
                runner = rec["runners"][src]
                if runner.unit != "Sync":
                    refusal = DMError("ErrWorkerUpdateSubTaskConfig", name, runner.unit)
                else:
                    why = taskcfg.update_refusal(rec["cfgs"][src], cfg)
                    refusal = DMError("ErrWorkerUpdateSubTaskConfig", message=why) if why else None
                if refusal is not None:
                    raise DMError("ErrSchedulerSubTaskCfgUpdate", message="can not update because %s" % refusal)
            for cfg in cfgs:
                rec["cfgs"][cfg["source_id"]] = cfg  # the runners pick it up at their next start
        return {"task": task, "check_result": result}

    def _get(self, name):
        rec = self.tasks.get(name)
        if rec is None:
            raise DMError("ErrSchedulerTaskNotExist", name)
        return rec

    def _task_view(self, name, with_status=False):
        rec = self._get(name)
        view = taskcfg.to_task([rec["cfgs"][s] for s in rec["order"]])
        if with_status:
            view["status_list"] = self._statuses(name)
        return view

    def _statuses(self, name, sources=None):
        rec = self._get(name)
        out = []
        for src in rec["order"]:
            if sources and src not in sources:
                continue
            worker = self._bound(src)
            item = {"name": name, "source_name": src, "worker_name": worker["name"] if worker else ""}
            if worker is None:
                item.update(stage="", unit="", error_msg="source %s is not bound to any worker" % src)
            else:
                item.update(rec["runners"][src].status())
                item["unresolved_ddl_lock_id"] = ""
            out.append(item)
        return out

    def get_task(self, name, with_status):
        with self.lock:
            return self._task_view(name, with_status)

    def task_status(self, name, sources):
        with self.lock:
            data = self._statuses(name, sources)
        return {"total": len(data), "data": data}

    def list_tasks(self, with_status, stage, sources):
        with self.lock:
            data = []
            for name in sorted(self.tasks):
                view = self._task_view(name, with_status or stage is not None)
                if stage is not None and any(s["stage"] != stage for s in view["status_list"]):
                    continue
                names = [c["source_name"] for c in view["source_config"]["source_conf"]]
                if sources is not None and sorted(names) != sorted(set(sources)):
                    continue
                if not with_status:
                    view.pop("status_list", None)
                data.append(view)
        return {"total": len(data), "data": data}

    def delete_task(self, name, force, keep_meta):
        with self.lock:
            rec = self._get(name)
            if not force and any(rec["expect"][s] not in ("Paused", "Stopped") for s in rec["order"]):
                raise DMError("ErrOpenAPICommonError", message="task %s have running subtasks, please stop them or "
                              "delete task with force." % name)
            cfg = rec["cfgs"][rec["order"][0]]
            for src in list(rec["order"]):
                rec["runners"][src].stop()
            if not keep_meta:
                _remove_meta(cfg, log_only=True)
            del self.tasks[name]

    def _remove_subtask(self, name, source):
        rec = self.tasks[name]
        rec["runners"][source].stop()
        for key in ("cfgs", "expect", "runners"):
            rec[key].pop(source, None)
        rec["order"].remove(source)
        if not rec["order"]:
            del self.tasks[name]

    def start_task(self, name, req):
        with self.lock:
            rec = self.tasks.get(name)
            sources = req.get("source_name_list") or (list(rec["order"]) if rec else [])
            chosen = []
            for src in sources:
                if rec is None or src not in rec["cfgs"]:
                    raise DMError("ErrSchedulerSourceCfgNotExist", src)
                cfg = rec["cfgs"][src]
                if cfg["meta"] is None and cfg["mode"] == "incremental" and not req.get("start_time"):
                    raise DMError("ErrConfigMetadataNotSet", src, "incremental")
                if src not in self.sources:
                    raise DMError("ErrSchedulerSourceCfgNotExist", src)
                if not self.sources[src]["cfg"]["enable"]:
                    raise DMError("ErrMasterStartTask", name, "source: %s is not enabled" % src)
                chosen.append(src)
            if not chosen:
                return  # a task that does not exist has no sources: nothing to do, 200
            if req.get("remove_meta"):
                for src in chosen:
                    rec["runners"][src].stop()
                _remove_meta(rec["cfgs"][chosen[0]], log_only=False)
            for src in chosen:
                rec["expect"][src] = "Running"
                runner = rec["runners"][src]
                if req.get("remove_meta") and runner.stage == "Finished":
                    runner.stage = "Stopped"
                runner.cfg = rec["cfgs"][src]
                runner.source = self.sources[src]["cfg"]
                runner.start(req.get("start_time"), req.get("safe_mode_time_duration"))

    def stop_task(self, name, req):
        with self.lock:
            rec = self.tasks.get(name)
            sources = req.get("source_name_list") or (list(rec["order"]) if rec else [])
            runners = []
            for src in sources:
                if rec is not None and src in rec["cfgs"]:
                    rec["expect"][src] = "Stopped"
                    runners.append(rec["runners"][src])
        for runner in runners:
            runner.stop()

    def convert(self, req):
        if req.get("task") is None and req.get("task_config_file") is None:
            # ErrOpenAPICommonError.Generate(msg) on a format without verbs: Go's EXTRA quirk
            raise DMError("ErrOpenAPICommonError", message="some unexpected errors have occurred, please check the detailed "
                          "error message%!(EXTRA string=request body is invalid one of `task` or `task_config_file` "
                          "must be entered.)")
        with self.lock:
            sources = {n: dict(s["cfg"]) for n, s in self.sources.items()}
        if req.get("task_config_file") is not None:
            task, cfgs = taskcfg.yaml_to_task(req["task_config_file"], sources)
            return {"task": task, "task_config_file": taskcfg.subtasks_to_yaml(cfgs)}
        task = req["task"]
        taskcfg.adjust_task(task)
        for conf in task["source_config"]["source_conf"]:
            if conf["source_name"] not in sources:
                raise DMError("ErrConfigSourceIDNotFound", conf["source_name"])
        cfgs = taskcfg.to_subtasks(task, sources)
        return {"task": task, "task_config_file": taskcfg.subtasks_to_yaml(cfgs)}

    # ---- cluster --------------------------------------------------------------------------
    def cluster_info(self):
        return {"cluster_id": self.cluster_id}

    def masters(self):
        return {"total": 1, "data": [{"name": self.name, "alive": True, "leader": True, "addr": self.addr}]}

    def offline_master(self, name):
        if name != self.name:
            raise DMError("ErrMasterMasterNameNotExist", name)
        raise DMError("ErrOpenAPICommonError", message="tidbops sandbox: removing the only dm-master is not emulated")

    def list_workers(self):
        with self.lock:
            data = [{"name": w["name"], "addr": w["addr"], "bound_stage": "bound" if w["source"] else "free",
                     "bound_source_name": w["source"]} for w in self.workers]
        return {"total": len(data), "data": data}

    def offline_worker(self, name):
        if self._worker(name) is None:
            raise DMError("ErrSchedulerWorkerNotExist", name)
        raise DMError("ErrSchedulerWorkerOnline", name)  # the stand-in's workers never go offline

    def shutdown(self):
        with self.lock:
            for rec in self.tasks.values():
                for runner in rec["runners"].values():
                    runner.stop(timeout=5)


def _current_unit(cfg):
    """The unit a new subtask starts in: Sync when a syncer checkpoint exists downstream
    (a task re-created after delete with keep_meta), else the mode's first unit."""
    if cfg["mode"] == "incremental":
        return "Sync"
    try:
        conn = connect_down(cfg["to"], autocommit=True)
    except pymysql.MySQLError:
        return "Dump"
    with conn, conn.cursor() as cur:
        point = checkpoint.read_global(cur, cfg["meta_schema"], cfg["name"], cfg["source_id"])
    return "Sync" if point is not None and cfg["mode"] == "all" else "Dump"


def _remove_meta(cfg, log_only):
    """removeMetaData: drop the task's tables in the meta schema downstream."""
    try:
        conn = connect_down(cfg["to"], autocommit=True)
        with conn:
            checkpoint.remove(conn, cfg["meta_schema"], cfg["name"])
    except pymysql.MySQLError as exc:
        if not log_only:
            err = db_error(exc, "downstream")
            err.message = "while removing metadata: " + err.message
            raise err
        LOG.warning("failed to remove downstream metadata of task %s: %s", cfg["name"], exc)
