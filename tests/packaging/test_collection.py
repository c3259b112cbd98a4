"""The collection as users receive it: the built tarball, ansible-doc, declared dependencies."""

import glob
import importlib
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
BIN = os.path.dirname(sys.executable)
# Not collection content: must never reach the tarball.
FORBIDDEN_PREFIXES = (".venv/", ".build/", ".git/", ".ci/", "lab/", "tools/", "benchmarks/", "collections/", "tests/output/")
FORBIDDEN_PARTS = ("__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache")


def _env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


def _galaxy():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def tarball_members(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out), ROOT],
        check=True,
        env=_env(),
        capture_output=True,
    )
    (path,) = glob.glob(str(out / "calico_egress-aws-*.tar.gz"))
    with tarfile.open(path) as archive:
        return [member.name for member in archive.getmembers()]


def test_tarball_holds_only_collection_content(tarball_members):
    offenders = [
        name
        for name in tarball_members
        if name.startswith(FORBIDDEN_PREFIXES) or any(part in name.split("/") for part in FORBIDDEN_PARTS)
    ]
    assert offenders == []


def test_tarball_holds_the_collection(tarball_members):
    for required in (
        "MANIFEST.json",
        "FILES.json",
        "README.md",
        "meta/runtime.yml",
        "plugins/module_utils/connect_addressing.py",
    ):
        assert required in tarball_members


def test_tarball_version_matches_galaxy(tmp_path):
    assert _galaxy()["version"] == "0.1.0"


def _filter_names():
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.yml")))


def _module_names():
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


@pytest.mark.parametrize(
    ("kind", "name"), [("filter", name) for name in _filter_names()] + [("module", name) for name in _module_names()]
)
def test_ansible_doc_renders(kind, name):
    result = subprocess.run(
        [os.path.join(BIN, "ansible-doc"), "-t", kind, "calico_egress.aws.%s" % name],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "calico_egress.aws.%s" % name in result.stdout
    assert "EXAMPLES" in result.stdout
    if kind == "module":
        assert "OPTIONS" in result.stdout and "RETURN VALUES" in result.stdout


def test_every_aws_module_is_in_the_aws_action_group():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        group = [entry for entry in yaml.safe_load(handle)["action_groups"]["aws"] if isinstance(entry, str)]
    aws_modules = []
    for name in _module_names():
        with open(os.path.join(ROOT, "plugins", "modules", name + ".py")) as handle:
            source = handle.read()
            if "AnsibleAWSModule(" in source or "run_tgw_module(" in source:
                aws_modules.append(name)
    assert aws_modules and sorted(group) == aws_modules


def _all_filters():
    """Every filter of every plugins/filter/*.py module."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.py")):
        module = importlib.import_module("ansible_collections.calico_egress.aws.plugins.filter." + os.path.basename(path)[:-3])
        names.update(module.FilterModule().filters())
    return sorted(names)


def test_every_filter_has_documentation():
    assert _all_filters() == _filter_names()


def test_dependencies_declared_identically_everywhere():
    declared = _galaxy()["dependencies"]
    with open(os.path.join(ROOT, "requirements.yml")) as handle:
        requirements = {c["name"]: c["version"] for c in yaml.safe_load(handle)["collections"]}
    with open(os.path.join(ROOT, "collections", "requirements.yml")) as handle:
        awx = yaml.safe_load(handle)["collections"]
    assert requirements == declared
    assert {c["name"]: c["version"] for c in awx if c["name"] != "./"} == declared
    assert {"name": "./", "type": "dir"} in awx
