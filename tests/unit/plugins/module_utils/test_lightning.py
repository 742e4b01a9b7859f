"""lightning.py: tidb-lightning.toml from the module's options, and what Lightning's output means."""
import os
import tomllib

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.tools import lightning
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import CommandResult

CSV_OPTIONS = ("separator", "delimiter", "terminator", "header", "null", "backslash_escape", "trim_last_separator",
               "not_null")


def params(**overrides):
    values = dict(backend="local", sorted_kv_dir=None, csv=None, check_requirements=False, conflict_strategy=None,
                  no_schema=False, filter=None, login_host="10.0.0.5", login_port=4000, login_user="root",
                  login_password="s3cret", checksum="required", analyze="optional", ca_cert=None, client_cert=None,
                  client_key=None)
    values.update(overrides)
    return values


def parsed(sections):
    return tomllib.loads(lightning.render_toml(sections))


# -- render_toml -------------------------------------------------------------------------

def test_render_toml_types_and_escapes_parse_back():
    tricky = 'p"a\\ss\nwo\trd\r\'x\x01'
    sections = {
        "lightning": {"level": "info", "check-requirements": False, "region-concurrency": 8, "skipped": None},
        "mydumper": {"data-source-dir": "/data/in", "filter": ["*.*", "!mysql.*"], "no-schema": True},
        "mydumper.csv": {"separator": ",", "delimiter": '"', "terminator": "\r\n", "null": "\\N", "header": True},
        "tidb": {"password": tricky, "host": "h\u00e9te", "port": 4000},
        "empty": {"nothing": None},
    }
    assert parsed(sections) == {
        "lightning": {"level": "info", "check-requirements": False, "region-concurrency": 8},
        "mydumper": {"data-source-dir": "/data/in", "filter": ["*.*", "!mysql.*"], "no-schema": True,
                     "csv": {"separator": ",", "delimiter": '"', "terminator": "\r\n", "null": "\\N",
                             "header": True}},
        "tidb": {"password": tricky, "host": "h\u00e9te", "port": 4000},
    }


def test_render_toml_bool_is_not_an_int():
    text = lightning.render_toml({"s": {"flag": True, "number": 1}})
    assert "flag = true" in text and "number = 1" in text


def test_render_toml_characters_outside_the_bmp():
    assert parsed({"tidb": {"password": "pw\U0001F600"}}) == {"tidb": {"password": "pw\U0001F600"}}


# -- lightning_config --------------------------------------------------------------------

def test_local_backend_config(tmp_path):
    job = str(tmp_path / "import-1")
    config = parsed(lightning.lightning_config(params(), job, "/data/in", pd_addr="pd:2379", status_port=10080))
    assert config["tikv-importer"] == {"backend": "local", "sorted-kv-dir": os.path.join(job, "sorted-kv")}
    assert config["checkpoint"] == {"enable": True, "driver": "file",
                                    "dsn": os.path.join(job, "tidb_lightning_checkpoint.pb")}
    assert config["lightning"] == {"level": "info", "file": os.path.join(job, "tidb-lightning.log"),
                                   "check-requirements": False}
    assert config["tidb"] == {"host": "10.0.0.5", "port": 4000, "user": "root", "password": "s3cret",
                              "status-port": 10080, "pd-addr": "pd:2379"}
    assert config["mydumper"] == {"data-source-dir": "/data/in"}
    assert config["post-restore"] == {"checksum": "required", "analyze": "optional"}
    assert "conflict" not in config
    assert "security" not in config["tidb"]


def test_tidb_backend_has_no_sorted_kv_dir_and_given_dir_wins(tmp_path):
    config = lightning.lightning_config(params(backend="tidb", login_password=None), str(tmp_path), "/d")
    assert config["tikv-importer"]["sorted-kv-dir"] is None
    assert parsed(config)["tikv-importer"] == {"backend": "tidb"}
    assert parsed(config)["tidb"]["password"] == ""
    config = lightning.lightning_config(params(sorted_kv_dir="/fast/ssd"), str(tmp_path), "/d")
    assert parsed(config)["tikv-importer"]["sorted-kv-dir"] == "/fast/ssd"


def test_csv_keys_filter_and_conflict(tmp_path):
    csv = dict.fromkeys(CSV_OPTIONS)  # Ansible fills unset suboptions with None
    csv.update(separator="|", delimiter="'", header=True, null="NULL", backslash_escape=False,
               trim_last_separator=True, not_null=False, terminator="\n")
    config = parsed(lightning.lightning_config(
        params(csv=csv, filter=["db1.*"], no_schema=True, conflict_strategy="replace", check_requirements=True),
        str(tmp_path), "s3://b/in?endpoint=http://minio:9000"))
    assert config["mydumper"]["csv"] == {"separator": "|", "delimiter": "'", "terminator": "\n", "header": True,
                                         "null": "NULL", "backslash-escape": False, "trim-last-separator": True,
                                         "not-null": False}
    assert config["mydumper"]["filter"] == ["db1.*"] and config["mydumper"]["no-schema"] is True
    assert config["mydumper"]["data-source-dir"] == "s3://b/in?endpoint=http://minio:9000"
    assert config["conflict"] == {"strategy": "replace"}
    assert config["lightning"]["check-requirements"] is True


def test_unset_csv_options_are_left_out(tmp_path):
    csv = dict.fromkeys(CSV_OPTIONS)
    csv["header"] = False
    config = parsed(lightning.lightning_config(params(csv=csv), str(tmp_path), "/d"))
    assert config["mydumper"]["csv"] == {"header": False}


def test_tls_section_only_when_set(tmp_path):
    config = parsed(lightning.lightning_config(params(ca_cert="/tls/ca.pem", client_key="/tls/k.pem"),
                                               str(tmp_path), "/d"))
    assert config["tidb"]["security"] == {"ca-path": "/tls/ca.pem", "key-path": "/tls/k.pem"}
    assert "tidb.security" not in lightning.lightning_config(params(), str(tmp_path), "/d")


# -- outcome -----------------------------------------------------------------------------

def test_outcome_success():
    assert lightning.outcome(CommandResult("tidb-lightning", 0, "tidb lightning exit successfully\n", ""), "") is None


def test_outcome_cancelled():
    with pytest.raises(TidbOpsError) as info:
        lightning.outcome(CommandResult("tidb-lightning", 0, "tidb lightning canceled\n", ""), "")
    assert info.value.code == "IMPORT_FAILED"
    assert "cancelled" in info.value.msg and "resume" in info.value.msg


def test_outcome_error_line_from_stderr():
    stderr = ("Verbose debug logs will be written to /work/tidb-lightning.log\n"
              "tidb lightning encountered error: [Lightning:PreCheck:ErrCheckTableEmpty]table(s) [`db`.`t`] are "
              "not empty\n")
    with pytest.raises(TidbOpsError) as info:
        lightning.outcome(CommandResult("tidb-lightning", 1, "", stderr), "")
    assert info.value.code == "IMPORT_FAILED"
    assert info.value.details["rc"] == 1
    assert info.value.msg.endswith("tidb lightning encountered error: [Lightning:PreCheck:ErrCheckTableEmpty]"
                                   "table(s) [`db`.`t`] are not empty")
    assert "Verbose" not in info.value.msg


def test_outcome_error_from_the_log_when_output_says_nothing():
    log = ("[2026/03/01] [INFO] [lightning.go:1] [\"start\"]\n"
           "[2026/03/01] [ERROR] [restore.go:2] [\"restore all tables data failed\"] [error=\"disk full\"]\n")
    with pytest.raises(TidbOpsError) as info:
        lightning.outcome(CommandResult("tidb-lightning", 1, "", ""), log)
    assert info.value.code == "IMPORT_FAILED"
    assert "disk full" in info.value.msg


def test_whether_the_last_run_in_the_log_finished():
    first = '[2026/12/03 10:00:00.000 +00:00] [INFO] [main.go:106] ["tidb lightning exit"] [finished=false]\n'
    second = '[2026/12/03 10:05:00.000 +00:00] [INFO] [main.go:106] ["tidb lightning exit"] [finished=true]\n'
    assert lightning.finished_in_log(first) is False
    assert lightning.finished_in_log(first + second) is True
    assert lightning.finished_in_log(second + first) is False
    assert lightning.finished_in_log('[INFO] ["the whole procedure completed"]\n') is None
    assert lightning.finished_in_log("") is None


def test_a_table_failed_in_the_checkpoint_says_what_to_run():
    text = ("Error: [Lightning:PreCheck:ErrPreCheckFailed]tidb-lightning pre-check failed: TiDB Lightning has "
            "failed last time. To prevent data loss, this run will stop now, `shop`.`items` failed in step(written), "
            "please run command ./tidb-lightning-ctl --checkpoint-error-destroy='`shop`.`items`' --config=...,You may "
            "also run `./tidb-lightning-ctl --checkpoint-error-destroy=all --config=...` to start from scratch,For "
            "details of this failure, read the log file from the PREVIOUS run\n")
    with pytest.raises(TidbOpsError) as caught:
        lightning.outcome(CommandResult("tidb-lightning --config x", 1, "", text), "", "/w/tidb_lightning_checkpoint.pb")
    error = caught.value
    assert error.code == "IMPORT_CHECKPOINT_FAILED" and error.details["failed_tables"] == ["`shop`.`items`"]
    assert "--checkpoint-error-destroy='`shop`.`items`'" in error.msg and 'dsn = "/w/tidb_lightning_checkpoint.pb"' in error.msg
