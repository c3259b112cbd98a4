"""The in-process module runner behaves like Ansible for a real module (ansible.builtin.ping)."""

from ansible.modules import ping

from tests.support.modules import run_module


def test_runs_module_and_returns_result():
    assert run_module(ping, {"data": "hello"})["ping"] == "hello"


def test_unknown_argument_fails_naming_it():
    result = run_module(ping, {"nope": 1})
    assert result["failed"] is True
    assert "nope" in result["msg"]


def test_check_mode_flag_reaches_module():
    assert run_module(ping, {}, check_mode=True)["ping"] == "pong"
