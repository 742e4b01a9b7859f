"""The changefeed's sink: options checked as TiCDC checks them, the URI built with the password quoted,
compared with what TiCDC shows (password masked); the API version chosen by the server's version."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.cdc import sink
from ansible_collections.tidbops.manager.plugins.module_utils.cdc.api import CdcClient, version_tuple
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

SINK = dict(scheme="mysql", host="10.0.2.5", port=4000, user="cdc writer", password="p@ss:w/rd?&")


@pytest.mark.parametrize("options", [{"worker-count": 0}, {"max-txn-row": "0"}, {"worker-count": 1025},
                                     {"max-txn-row": "many"}, {"password": "x"}, {"sasl-password": "x"},
                                     {"secret-key": "x"}])
def test_what_ticdc_refuses_and_credentials_are_refused(options):
    with pytest.raises(TidbOpsError) as err:
        sink.check_options(options)
    assert err.value.code == "CDC_SINK_INVALID"


def test_options_become_text_and_tls_paths_are_no_credentials():
    assert sink.check_options({"worker-count": 16, "safe-mode": True, "ssl-key": "/etc/k.pem"}) == {
        "worker-count": "16", "safe-mode": "true", "ssl-key": "/etc/k.pem"}


def test_the_uri_quotes_the_password_and_the_shown_form_masks_it():
    options = {"worker-count": "16"}
    assert sink.uri(SINK, options) == "mysql://cdc%20writer:p%40ss%3Aw%2Frd%3F%26@10.0.2.5:4000/?worker-count=16"
    assert sink.masked(SINK, options) == "mysql://cdc%20writer:xxxxx@10.0.2.5:4000/?worker-count=16"
    assert sink.uri(dict(SINK, host="::1", password=""), {}) == "mysql://cdc%20writer:@[::1]:4000/"


def test_differences_ignore_the_password_ticdc_hides():
    options = {"worker-count": "16"}
    shown = "mysql://cdc%20writer:xxxxx@10.0.2.5:4000/?worker-count=16"
    assert sink.differences(SINK, options, shown) == []
    assert sink.differences(dict(SINK, port=4001), options, shown) == ["address"]
    assert sink.differences(SINK, {"worker-count": "8"}, shown) == ["options"]
    assert sink.differences(dict(SINK, scheme="tidb", user="other"), options, shown) == ["scheme", "user"]


@pytest.mark.parametrize("version,api", [("v6.5.9", "v1"), ("v6.6.0", "v2"), ("v8.5.1", "v2"), ("v5.2.2", "v1"),
                                         ("", "v1")])
def test_v2_only_from_the_version_with_every_route(version, api):
    client = CdcClient(["http://127.0.0.1:1"])
    client._status = {"version": version}
    assert client.api == api


def test_versions_read():
    assert version_tuple("v7.5.1-20240101") == (7, 5, 1) and version_tuple("nightly") == (0, 0, 0)
