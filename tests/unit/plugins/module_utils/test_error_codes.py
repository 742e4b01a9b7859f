"""The error-code catalogue and its documentation page stay in step."""
import io

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import (
    ERROR_CODES, TidbOpsError)
from tests.tools.error_codes_doc import DOC_PATH, render


def test_docs_page_matches_catalogue():
    with io.open(DOC_PATH, encoding="utf-8") as handle:
        assert handle.read() == render(), "run: python -m tests.tools.error_codes_doc"


def test_unknown_codes_are_refused():
    with pytest.raises(ValueError):
        TidbOpsError("NO_SUCH_CODE", "x").fail_kwargs()


def test_fail_kwargs_carry_code_and_details():
    error = TidbOpsError("CLUSTER_NOT_FOUND", "cluster c9 does not exist", cluster="c9")
    assert error.fail_kwargs() == {"msg": "cluster c9 does not exist", "error_code": "CLUSTER_NOT_FOUND",
                                   "cluster": "c9"}
    assert all(code.isupper() for code in ERROR_CODES)
