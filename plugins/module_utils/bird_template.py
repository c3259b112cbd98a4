# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal patch of a calico-node confd BIRD template for TGW Connect peers (pure logic).

Calico Enterprise renders a BGP peer it considers directly connected with ``direct;`` / ``gateway direct;``
and may enable BFD on it. A TGW Connect peer (.2/.3 of the tunnel's /29) looks directly connected but is
not: the TGW runs eBGP multihop with TTL 2, recursive next hops and no BFD. The patch adds, in front of
every per-peer template branch that can emit ``direct;``, ``gateway direct;`` or ``bfd on;``, a branch taken
for peers in 169.254.0.0/16 (every TGW Connect BGP address lives there) that emits
``multihop 2;`` + ``gateway recursive;`` (or nothing, for a BFD-only branch). Nothing else changes: the
output equals the input byte for byte outside the inserted text.

The anchor (a ``{{if ...}}`` inside a ``protocol bgp ... {`` block with a ``neighbor {{<ip>}}`` line, whose
body emits one of those statements) is looked for, never guessed: when it is missing the patch is refused
with a message naming the calico-node version, so nothing is published that BIRD might not parse or that
silently does not take effect. Open-source templates since v3.25 already render every peer as multihop and
need no patch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MARKER = "calico_egress.aws: TGW Connect peer"
TEMPLATE_KEY = "bird.cfg.template"
_ACTION_RE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_PROTOCOL_RE = re.compile(r"^protocol bgp [^\n]*\{[^\n]*$", re.MULTILINE)
_BLOCK_END_RE = re.compile(r"^\}", re.MULTILINE)
_NEIGHBOR_RE = re.compile(r"^\s*neighbor\s+\{\{-?\s*([^{}\s]+)\s*-?\}\}", re.MULTILINE)
_DIRECT_RE = re.compile(r"^\s*(direct|gateway\s+direct)\s*;", re.MULTILINE)
_BFD_RE = re.compile(r"^\s*bfd(\s+on)?\s*;", re.MULTILINE)
_OPENERS = ("if", "range", "with", "define", "block")


class BirdTemplateError(ValueError):
    """The template cannot be patched safely; the message says why and names the calico-node version."""


def _keyword(action):
    body = action[2:-2].strip()
    body = body.lstrip("-").strip()
    if body.startswith("/*"):
        return "comment", body
    word = body.split(None, 1)[0] if body else ""
    return word, body


def _if_blocks(text, start, end):
    """Top-level {{if}} blocks between start and end: (action_start, action_end, block_end) offsets."""
    blocks = []
    depth = 0
    current = None
    for match in _ACTION_RE.finditer(text, start, end):
        word, _body = _keyword(match.group(0))
        if word in _OPENERS:
            if depth == 0 and word == "if":
                current = [match.start(), match.end()]
            depth += 1
        elif word == "end":
            if depth == 0:
                return blocks  # an {{end}} of an enclosing block: stop at the boundary we were given
            depth -= 1
            if depth == 0 and current is not None:
                blocks.append((current[0], current[1], match.end()))
                current = None
    return blocks


def _tgw_test(ip_expr):
    return '(and (eq (index (split %s ".") 0) "169") (eq (index (split %s ".") 1) "254"))' % (ip_expr, ip_expr)


def _patched_if(action, ip_expr, session_type):
    """Rewrite '{{- if COND}}' as a TGW branch followed by '{{- else if COND}}'."""
    inner = action[2:-2]
    left_trim = inner.startswith("-")
    inner = inner[1:] if left_trim else inner
    cond = inner.strip()[len("if") :]
    opener = "{{- " if left_trim else "{{"
    head = "%sif %s}}{{/* %s: multihop TTL 2, recursive next hop, no direct, no BFD */}}" % (opener, _tgw_test(ip_expr), MARKER)
    body = "\n  multihop 2;\n  gateway recursive;" if session_type else ""
    # cond keeps its own spacing and any right trim marker ("COND -").
    return head + body + "\n{{- else if" + cond + "}}"


def find_anchors(text):
    """Every patchable branch: list of dicts (protocol line, ip expression, action span, session_type)."""
    anchors = []
    for proto in _PROTOCOL_RE.finditer(text):
        end_match = _BLOCK_END_RE.search(text, proto.end())
        block_end = end_match.start() if end_match else len(text)
        neighbor = _NEIGHBOR_RE.search(text, proto.end(), block_end)
        if not neighbor:
            continue
        for act_start, act_end, if_end in _if_blocks(text, proto.end(), block_end):
            body = text[act_end:if_end]
            session_type = bool(_DIRECT_RE.search(body))
            if session_type or _BFD_RE.search(body):
                anchors.append(
                    {
                        "protocol": proto.group(0).strip(),
                        "ip_expression": neighbor.group(1),
                        "start": act_start,
                        "end": act_end,
                        "session_type": session_type,
                    }
                )
    return anchors


def patch_bird_template(text, calico_node_version=None, name=TEMPLATE_KEY):
    """Return {'template', 'changed', 'patched', 'reason'}; raise BirdTemplateError when the anchor is missing."""
    version = calico_node_version or "unknown version"
    if not isinstance(text, str) or not text.strip():
        raise BirdTemplateError("%s of calico-node %s is empty: nothing to patch, refusing to publish" % (name, version))
    if MARKER in text:
        return {"template": text, "changed": False, "patched": [], "reason": "already patched (%s)" % MARKER}
    anchors = find_anchors(text)
    if not any(anchor["session_type"] for anchor in anchors):
        raise BirdTemplateError(
            "%s of calico-node %s: patch anchor not found (no per-peer '{{if ...}}' branch emitting 'direct;' or "
            "'gateway direct;' inside a 'protocol bgp ... {' block with a 'neighbor {{...}}' line). Refusing to publish "
            "a bird-templates ConfigMap that might not force multihop for the TGW peers. Read the template of this exact "
            "calico-node version and adapt the patch; open-source Calico >= 3.25 needs no patch." % (name, version)
        )
    pieces = []
    cursor = 0
    patched = []
    for anchor in sorted(anchors, key=lambda item: item["start"]):
        pieces.append(text[cursor : anchor["start"]])
        pieces.append(_patched_if(text[anchor["start"] : anchor["end"]], anchor["ip_expression"], anchor["session_type"]))
        cursor = anchor["end"]
        patched.append("%s (%s)" % (anchor["protocol"], "multihop branch" if anchor["session_type"] else "no BFD"))
    pieces.append(text[cursor:])
    return {"template": "".join(pieces), "changed": True, "patched": patched, "reason": "patched %d branch(es)" % len(patched)}
