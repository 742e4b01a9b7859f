"""DM's error values ("terror"): code, class, scope, level, message and workaround.

Facts from pingcap/tiflow dm/_utils/terror_gen/errors_release.txt and dm/pkg/terror: an
error prints as "[code=N:class=C:scope=S:level=L], Message: M[, RawCause: R][, Workaround: W]",
and the OpenAPI layer answers every handler error with HTTP 400 and
{"error_code": N, "error_msg": <that text>}.
"""

# name -> (code, class, scope, level, message format, workaround)
CATALOG = {
    "ErrDBDriverError": (10001, "database", "not-set", "high", "database driver error",
                         "Please check the database connection and the database config in configuration file."),
    "ErrConfigCheckItemNotSupport": (20001, "config", "internal", "medium", "checking item %s is not supported\n%s",
                                     "Please check `ignore-checking-items` config in task configuration file, which can be set "
                                     "including `all`/`dump_privilege`/`replication_privilege`/`version`/`binlog_enable`/"
                                     "`binlog_format`/`binlog_row_image`/`table_schema`/`schema_of_shard_tables`/`auto_increment_ID`."),
    "ErrConfigYamlTransform": (20003, "config", "internal", "medium", "%s",
                               "Please check the configuration file has correct YAML format."),
    "ErrConfigTaskNameEmpty": (20004, "config", "internal", "medium", "task name should not be empty",
                               "Please check the `name` config in task configuration file."),
    "ErrConfigInvalidTimezone": (20008, "config", "internal", "medium", "invalid timezone string: %s",
                                 "Please check the `timezone` config in task configuration file."),
    "ErrConfigInvalidTaskMode": (20020, "config", "internal", "medium",
                                 "please specify right task-mode, support `full`, `incremental`, `all`, `dump`, `load`",
                                 "Please check the `task-mode` config in task configuration file."),
    "ErrConfigMetadataNotSet": (20022, "config", "internal", "medium", "mysql-instance(%s) must set meta for task-mode %s",
                                "Please check the `meta` config in task configuration file."),
    "ErrConfigSourceIDNotFound": (20031, "config", "internal", "medium", "source %s in deployment configuration not found",
                                  "Please use `operate-source create source-config-file-path` to add source."),
    "ErrTaskCheckSyncConfigError": (26005, "task-check", "internal", "medium", "%s: %s\n detail: %s", ""),
    "ErrMasterMasterNameNotExist": (38048, "dm-master", "internal", "low", "dm-master with name %s not exists",
                                    "Please use list-member command to see masters."),
    "ErrMasterStartTask": (38058, "dm-master", "internal", "high", "can not start task: %s reason: %s", ""),
    "ErrWorkerNoStart": (40070, "dm-worker", "internal", "high", "no mysql source is being handled in the worker", ""),
    "ErrWorkerUpdateSubTaskConfig": (40081, "dm-worker", "internal", "high",
                                     "can only update task config for limited fields and this task must in sync unit, "
                                     "current task: %s current unit: %s", ""),
    "ErrSchedulerWorkerNotExist": (46004, "scheduler", "internal", "medium", "dm-worker with name %s not exists", ""),
    "ErrSchedulerWorkerOnline": (46005, "scheduler", "internal", "medium", "dm-worker with name %s is still online",
                                 "Please shut it down first."),
    "ErrSchedulerSourceCfgExist": (46007, "scheduler", "internal", "medium", "source config with ID %s already exists", ""),
    "ErrSchedulerSourceCfgNotExist": (46008, "scheduler", "internal", "medium", "source config with ID %s not exists", ""),
    "ErrSchedulerSourceOpTaskExist": (46010, "dm-master", "internal", "medium",
                                      "source with name %s need to operate has existing tasks %s", "Please `stop-task` first."),
    "ErrSchedulerSubTaskExist": (46014, "scheduler", "internal", "medium", "subtasks with name %s for sources %s already exist",
                                 "Please use `query-status` command to see tasks."),
    "ErrSchedulerTaskNotExist": (46018, "scheduler", "internal", "medium", "task with name %s not exist",
                                 "Please use `query-status` command to see tasks."),
    "ErrSchedulerSourceCfgUpdate": (46025, "scheduler", "internal", "low",
                                    "source %s can only be updated when relay is disabled and no tasks are running for now", ""),
    "ErrSchedulerWorkerNotFree": (46033, "scheduler", "internal", "low", "dm-worker with name %s not free", ""),
    "ErrSchedulerSubTaskCfgUpdate": (46035, "scheduler", "internal", "low",
                                     "subtask with name %s source name %s can only update when no running tasks for now", ""),
    "ErrSchedulerSubTaskNotExist": (46034, "scheduler", "internal", "medium", "subtasks with name %s for sources %s not exist",
                                    "Please create this subtask first."),
    "ErrOpenAPICommonError": (49001, "openapi", "internal", "high",
                              "some unexpected errors have occurred, please check the detailed error message", ""),
}


class DMError(Exception):
    """A terror value; str() is what DM prints and the API returns as error_msg."""

    def __init__(self, name, *args, message=None, raw_cause=None, scope=None, klass=None):
        code, err_class, err_scope, level, fmt, workaround = CATALOG[name]
        self.name = name
        self.code = code
        self.err_class = klass or err_class
        self.scope = scope or err_scope
        self.level = level
        # Generatef replaces the message format but keeps code and workaround.
        self.message = message if message is not None else (fmt % args if args else fmt)
        self.raw_cause = raw_cause
        self.workaround = workaround
        super().__init__(str(self))

    def __str__(self):
        text = "[code=%d:class=%s:scope=%s:level=%s]" % (self.code, self.err_class, self.scope, self.level)
        parts = []
        if self.message:
            parts.append("Message: %s" % self.message)
        if self.raw_cause:
            parts.append("RawCause: %s" % self.raw_cause)
        if parts:
            text += ", " + ", ".join(parts)
        if self.workaround:
            text += ", Workaround: %s" % self.workaround
        return text

    def process_error(self):
        """How a subtask's error reads in SubTaskStatus.error_msg (formatProcessErrors)."""
        text = "[code=%d:class=%s:scope=%s:level=%s], Message: %s" % (
            self.code, self.err_class, self.scope, self.level, self.message)
        if self.raw_cause:
            text += ", RawCause: %s" % self.raw_cause
        if self.workaround:
            text += ", Workaround: %s" % self.workaround
        return text + "."


def go_list(items):
    """fmt's %v of a []string: [a b c]."""
    return "[" + " ".join(items) + "]"


def mysql_cause(exc):
    """go-sql-driver's text of a server error: 'Error 1045 (28000): Access denied ...'."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        code, text = args[0], args[1]
        if code >= 2000:  # client-side (connection) errors: Go prints the dial error
            return "dial tcp: %s" % text
        return "Error %d (%s): %s" % (code, _SQLSTATE.get(code, "HY000"), text)
    return str(exc)


_SQLSTATE = {1045: "28000", 1064: "42000", 1044: "42000", 1049: "42000", 1142: "42000", 1146: "42S02", 1227: "42000"}


def db_error(exc, scope):
    """terror.DBErrorAdapt(err, scope, ErrDBDriverError)."""
    return DMError("ErrDBDriverError", raw_cause=mysql_cause(exc), scope=scope)
