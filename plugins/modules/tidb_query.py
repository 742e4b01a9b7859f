#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_query
short_description: Run SQL statements on a TiDB cluster
version_added: "0.1.0"
description:
  - Runs one or more SQL statements through a TiDB SQL endpoint and returns their results.
  - C(changed) follows what the statements did, not that they ran. A statement that
    writes rows (INSERT, UPDATE, DELETE, REPLACE) changes something only when it affected rows. A
    C(CREATE ... IF NOT EXISTS) or C(DROP ... IF EXISTS) that found nothing to do (the server's
    1007, 1008, 1050, 1051 or 1091 warning) changes nothing. Every other writing statement counts
    as a change.
options:
  query:
    description:
      - The statement to run, or a list of statements to run in order. Use C(%s) placeholders with O(positional_args) or
        C(%(name\)s) with O(named_args) to pass values, so that they are escaped by the driver.
      - When values are passed, a literal C(%) in a statement must be written C(%%).
    type: raw
    required: true
  positional_args:
    description:
      - Values for C(%s) placeholders, applied to every statement of O(query).
    type: list
    elements: raw
  named_args:
    description:
      - Values for C(%(name\)s) placeholders, applied to every statement of O(query).
    type: dict
  single_transaction:
    description:
      - Run every statement in one transaction, rolled back if any fails.
    type: bool
    default: false
extends_documentation_fragment:
  - tidbops.manager.login
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: partial
    details: Read-only statements (SELECT, SHOW, DESCRIBE, EXPLAIN) run; the others do not run and
      count as a change.
  diff_mode:
    support: none
seealso:
  - module: tidbops.manager.tidb_cluster
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Create a table and write rows
  tidbops.manager.tidb_query:
    login_host: 10.0.1.5
    query:
      - CREATE DATABASE IF NOT EXISTS shop
      - CREATE TABLE IF NOT EXISTS shop.items (id INT PRIMARY KEY, name VARCHAR(64))
      - INSERT IGNORE INTO shop.items VALUES (1, 'apple'), (2, 'pear')

- name: Count the rows
  tidbops.manager.tidb_query:
    query: SELECT COUNT(*) AS n FROM shop.items WHERE name = %s
    positional_args: [apple]
  register: counted
'''

RETURN = r'''
query_result:
  description: For each statement, its rows as a list of dicts (empty for statements without rows).
  returned: always
  type: list
  elements: list
  sample: [[{"n": 1}]]
rowcount:
  description: For each statement run, the number of rows it returned or affected.
  returned: always
  type: list
  elements: int
  sample: [1]
executed_queries:
  description: The statements run, as given (placeholders not filled in, so no value leaks).
  returned: always
  type: list
  elements: str
sql_warnings:
  description: For each statement, the warnings the server raised (C(SHOW WARNINGS) rows).
  returned: always
  type: list
  elements: list
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: TIDB_AUTH_FAILED
'''

import datetime
import decimal
import re

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import (
    is_read_only, run_sql, tidb_connect)

ROW_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|LOAD)\b", re.I)
# "database/table/key already exists" or "doesn't exist" notes of IF [NOT] EXISTS statements.
NOTHING_DONE_WARNINGS = (1007, 1008, 1050, 1051, 1091)


def is_change(statement, rowcount, warnings):
    if ROW_WRITES.match(statement):
        return rowcount > 0
    codes = set(w.get("Code") for w in warnings)
    if re.search(r"\bIF\s+(NOT\s+)?EXISTS\b", statement, re.I) and codes & set(NOTHING_DONE_WARNINGS):
        return False
    return True


def statements(query):
    """The statements of the query option: one string (never split on commas, which Ansible's
    list type would do to 'SELECT a, b') or a list of strings."""
    if isinstance(query, str):
        query = [query]
    if not isinstance(query, list) or not query or not all(isinstance(q, str) and q.strip() for q in query):
        raise TidbOpsError("INVALID_ARGUMENT", "query must be a statement or a list of statements")
    return query


def plain(value):
    """Values PyMySQL returns that Ansible's JSON cannot carry, as strings or numbers."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time, datetime.timedelta)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def run(module):
    params = module.params
    args = params["positional_args"] or params["named_args"]
    result = dict(changed=False, query_result=[], rowcount=[], executed_queries=[], sql_warnings=[])
    queries = statements(params["query"])
    connection = tidb_connect(params)
    try:
        if params["single_transaction"]:
            connection.begin()
        for statement in queries:
            if module.check_mode and not is_read_only(statement):
                result["changed"] = True
                continue
            rows, rowcount, warnings = run_sql(connection, statement, args)
            result["executed_queries"].append(statement)
            result["query_result"].append([dict((k, plain(v)) for k, v in row.items())
                                           for row in rows or []])
            result["rowcount"].append(rowcount if rowcount >= 0 else 0)
            result["sql_warnings"].append([dict((k, plain(v)) for k, v in w.items()) for w in warnings])
            if not is_read_only(statement) and is_change(statement, rowcount, warnings):
                result["changed"] = True
        if params["single_transaction"]:
            connection.commit()
    except TidbOpsError as error:
        if params["single_transaction"]:
            connection.rollback()
            result["changed"] = False
        error.details.update(result)  # what ran before the failure
        raise
    finally:
        connection.close()
    return result


def main():
    module = TidbOpsModule(
        dict(
            query=dict(type="raw", required=True),
            positional_args=dict(type="list", elements="raw"),
            named_args=dict(type="dict"),
            single_transaction=dict(type="bool", default=False),
        ),
        blocks=("login",), supports_check_mode=True,
        mutually_exclusive=[["positional_args", "named_args"]])
    module.run(run, module)


if __name__ == "__main__":
    main()
