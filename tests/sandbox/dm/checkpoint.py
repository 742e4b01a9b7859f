"""The task's metadata in the downstream's meta schema, as DM keeps it: `<task>_syncer_checkpoint`
(one global row per source with the binlog position, plus exit_safe_binlog_* up to which
safe mode stays on) and `<task>_loader_checkpoint` (one row per loaded table here, per dump
file in DM). Resume reads them; delete (unless keep_meta) and start with remove_meta drop
them with the other tables DM drops (removeMetaData in dm/master/server.go).
"""
import pymysql

META_SUFFIXES = ("_loader_checkpoint", "_lightning_checkpoint", "_syncer_checkpoint", "_syncer_sharding_meta",
                 "_onlineddl")


def qname(*parts):
    return ".".join("`%s`" % p.replace("`", "``") for p in parts)


def ensure(cur, meta_schema, task):
    cur.execute("CREATE DATABASE IF NOT EXISTS %s" % qname(meta_schema))
    cur.execute(
        "CREATE TABLE IF NOT EXISTS %s ("
        " id VARCHAR(32) NOT NULL, cp_schema VARCHAR(128) NOT NULL, cp_table VARCHAR(128) NOT NULL,"
        " binlog_name VARCHAR(128), binlog_pos INT UNSIGNED, binlog_gtid TEXT,"
        " exit_safe_binlog_name VARCHAR(128) DEFAULT '', exit_safe_binlog_pos INT UNSIGNED DEFAULT 0,"
        " exit_safe_binlog_gtid TEXT, table_info JSON NOT NULL, is_global BOOLEAN,"
        " create_time timestamp DEFAULT CURRENT_TIMESTAMP,"
        " update_time timestamp DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
        " UNIQUE KEY uk_id_schema_table (id, cp_schema, cp_table))" % qname(meta_schema, task + "_syncer_checkpoint"))
    cur.execute(
        "CREATE TABLE IF NOT EXISTS %s ("
        " id CHAR(32) NOT NULL, filename VARCHAR(255) NOT NULL, cp_schema VARCHAR(128) NOT NULL,"
        " cp_table VARCHAR(128) NOT NULL, `offset` BIGINT NOT NULL, end_pos BIGINT NOT NULL,"
        " create_time timestamp DEFAULT CURRENT_TIMESTAMP,"
        " update_time timestamp DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
        " UNIQUE KEY uk_id_f (id, filename))" % qname(meta_schema, task + "_loader_checkpoint"))


def read_global(cur, meta_schema, task, source):
    """(binlog_name, binlog_pos, exit_safe_name, exit_safe_pos) or None."""
    try:
        cur.execute("SELECT binlog_name, binlog_pos, exit_safe_binlog_name, exit_safe_binlog_pos FROM %s"
                    " WHERE id = %%s AND is_global = 1" % qname(meta_schema, task + "_syncer_checkpoint"), (source,))
    except pymysql.err.ProgrammingError as exc:
        if exc.args[0] in (1049, 1146):
            return None
        raise
    row = cur.fetchone()
    return tuple(row) if row else None


def save_global(cur, meta_schema, task, source, name, pos, safe_name="", safe_pos=0):
    cur.execute(
        "INSERT INTO %s (id, cp_schema, cp_table, binlog_name, binlog_pos, binlog_gtid, exit_safe_binlog_name,"
        " exit_safe_binlog_pos, exit_safe_binlog_gtid, table_info, is_global)"
        " VALUES (%%s, '', '', %%s, %%s, '', %%s, %%s, '', '{}', 1)"
        " ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos),"
        " exit_safe_binlog_name = VALUES(exit_safe_binlog_name), exit_safe_binlog_pos = VALUES(exit_safe_binlog_pos)"
        % qname(meta_schema, task + "_syncer_checkpoint"), (source, name, pos, safe_name, safe_pos))


def loaded_tables(cur, meta_schema, task, source):
    """({(schema, table): rows} of tables whose load finished, snapshot position or None).

    The row with filename 'metadata' holds the position of the first dump's snapshot
    (cp_schema = binlog name, offset = position), as dumpling's metadata file does for DM.
    """
    try:
        cur.execute("SELECT filename, cp_schema, cp_table, end_pos FROM %s WHERE id = %%s"
                    % qname(meta_schema, task + "_loader_checkpoint"), (source,))
    except pymysql.err.ProgrammingError as exc:
        if exc.args[0] in (1049, 1146):
            return {}, None
        raise
    tables, snapshot = {}, None
    for filename, schema, table, end_pos in cur.fetchall():
        if filename == "metadata":
            snapshot = (schema, int(end_pos))
        else:
            tables[(schema, table)] = int(end_pos)
    return tables, snapshot


def save_loaded(cur, meta_schema, task, source, filename, schema, table, rows):
    cur.execute("REPLACE INTO %s (id, filename, cp_schema, cp_table, `offset`, end_pos) VALUES (%%s, %%s, %%s, %%s, %%s, %%s)"
                % qname(meta_schema, task + "_loader_checkpoint"), (source, filename, schema, table, rows, rows))


def remove(conn, meta_schema, task):
    with conn.cursor() as cur:
        for suffix in META_SUFFIXES:
            cur.execute("DROP TABLE IF EXISTS %s" % qname(meta_schema, task + suffix))
