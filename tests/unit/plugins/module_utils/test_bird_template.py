# -*- coding: utf-8 -*-
"""BIRD template patch on fixtures that follow calico-node's confd template structure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import bird_template as bt

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "bird-enterprise-like.cfg.template")


@pytest.fixture
def stock():
    with open(FIXTURE) as handle:
        return handle.read()


def _without_insertions(patched):
    """Undo the patch: drop the inserted TGW branch, turn '{{- else if' back into '{{- if'."""
    pattern = re.compile(
        r"\{\{- if \(and \(eq \(index \(split (?P<ip>[^ ]+) \"\.\"\) 0\) \"169\"\) [^}]*\}\}\{\{/\* "
        + re.escape(bt.MARKER)
        + r"[^}]*\*/\}\}(\n  multihop 2;\n  gateway recursive;)?\n\{\{- else if"
    )
    return pattern.sub("{{- if", patched)


def test_anchor_found_patch_is_minimal(stock):
    result = bt.patch_bird_template(stock, "v3.21.2")
    assert result["changed"]
    assert len(result["patched"]) == 4  # direct + BFD branch in Global_ and Node_ blocks
    assert result["template"].count("multihop 2;\n  gateway recursive;") == 2
    assert _without_insertions(result["template"]) == stock  # byte-identical everywhere else
    assert '(split $data.ip ".")' in result["template"]


def _nesting(text):
    """Opened-minus-closed Go template blocks, and whether the count ever went negative."""
    depth, lowest = 0, 0
    for action in re.findall(r"\{\{.*?\}\}", text, re.DOTALL):
        word = action[2:-2].strip().lstrip("-").strip().split(" ", 1)[0].rstrip("-")
        if word in ("if", "range", "with", "define", "block"):
            depth += 1
        elif word == "end":
            depth -= 1
            lowest = min(lowest, depth)
    return depth, lowest


def test_patched_template_keeps_block_nesting(stock):
    patched = bt.patch_bird_template(stock)["template"]
    assert _nesting(stock) == (0, 0)
    assert _nesting(patched) == (0, 0)
    assert patched.count("{{- else if") == stock.count("{{- else if") + 4


def test_tgw_branch_comes_before_the_direct_and_bfd_branches(stock):
    patched = bt.patch_bird_template(stock)["template"]
    node_block = patched[patched.index("protocol bgp Node_") :]
    assert node_block.index("multihop 2;") < node_block.index("direct;") < node_block.index("bfd on;")
    # The BFD branch gets an empty TGW branch: no BFD towards the TGW.
    bfd_if = node_block[: node_block.index("bfd on;")].rsplit(bt.MARKER, 1)[1]
    assert "multihop 2;" not in bfd_if and "{{- else if and (eq $data.failure_detection_mode" in bfd_if


def test_already_patched_is_unchanged(stock):
    once = bt.patch_bird_template(stock)["template"]
    again = bt.patch_bird_template(once, "v3.21.2")
    assert again["changed"] is False and again["template"] == once and "already patched" in again["reason"]


def test_anchor_missing_is_refused_naming_the_version(stock):
    # Older open-source structure: multihop in the shared template, no per-peer direct branch.
    without_branch = re.sub(r"\{\{- if and \(eq \$data\.bird_gateway_mode.*?\{\{- end\}\}\n", "", stock, flags=re.DOTALL)
    without_branch = without_branch.replace("  bfd on;\n", "")
    assert "direct;" not in without_branch
    with pytest.raises(bt.BirdTemplateError) as error:
        bt.patch_bird_template(without_branch, "v3.22.0-1.0")
    assert "calico-node v3.22.0-1.0" in str(error.value) and "anchor not found" in str(error.value)


def test_bfd_branch_alone_is_not_an_anchor(stock):
    only_bfd = re.sub(r"\{\{- if and \(eq \$data\.bird_gateway_mode.*?\{\{- end\}\}\n", "", stock, flags=re.DOTALL)
    with pytest.raises(bt.BirdTemplateError):
        bt.patch_bird_template(only_bfd, "v3.21.2")


def test_empty_template_is_refused():
    with pytest.raises(bt.BirdTemplateError, match="empty"):
        bt.patch_bird_template("", "v3.21.2")


def test_right_trim_marker_is_kept():
    text = (
        "protocol bgp Node_{{$id}} from bgp_template {\n"
        "  neighbor {{$peer.ip}} as {{$peer.as_num}};\n"
        "{{- if $peer.direct -}}\n  direct;\n{{- end}}\n"
        "}\n"
    )
    patched = bt.patch_bird_template(text)["template"]
    assert "{{- else if $peer.direct -}}" in patched and '(split $peer.ip ".")' in patched
