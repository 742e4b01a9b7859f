"""Writes docs/error-codes.md from the catalogue in plugins/module_utils/errors.py.

`python -m tests.tools.error_codes_doc` rewrites the page; a unit test fails when the page
and the catalogue differ, so the page can never go stale.
"""
import os

from tests.conftest import REPO_ROOT  # also puts ansible_collections on sys.path
from ansible_collections.tidbops.manager.plugins.module_utils.errors import ERROR_CODES

DOC_PATH = os.path.join(REPO_ROOT, "docs", "error-codes.md")

HEADER = """# Error codes

Every failure of a tidbops.manager module carries `error_code` next to `msg`. Codes are
stable: match on them in playbooks (`failed_when`, `rescue` conditions), never on the message.
This page is generated from `plugins/module_utils/errors.py`
(`python -m tests.tools.error_codes_doc`).

| code | meaning |
| --- | --- |
"""


def render():
    return HEADER + "".join("| `%s` | %s |\n" % item for item in ERROR_CODES.items())


if __name__ == "__main__":
    with open(DOC_PATH, "w") as handle:
        handle.write(render())
