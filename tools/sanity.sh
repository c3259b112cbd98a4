#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, offline but for PyPI (see CONTRIBUTING.md).
# Extra arguments go to ansible-test (e.g. --test pylint).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python}

# ansible-test bootstraps pip in its venvs with a script from a host we cannot reach; put our
# ensurepip-based stand-in where it looks, for the pip version this ansible-test pins.
pip_version=$("$python" - <<'PY'
import re, ansible_test._internal.python_requirements as reqs
print(re.search(r"pip='([0-9.]+)'", open(reqs.__file__).read()).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$root/tools/get_pip_offline.py" "$cache"

dest=$("$python" "$root/tools/collection-copy.py" "$root/.build/sanity")
# Collections we depend on must sit in the same ansible_collections tree (import and ansible-doc tests).
"$python" - "$root/.build/sanity/ansible_collections" <<'PY'
import os, shutil, sys
import ansible_collections.amazon.aws as amazon_aws
target = os.path.join(sys.argv[1], "amazon", "aws")
shutil.rmtree(target, ignore_errors=True)
shutil.copytree(list(amazon_aws.__path__)[0], target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
PY
cd "$dest"
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# pip's per-package notes about this machine's empty local mirrors drown the test output.
ansible-test sanity --venv --python "$version" --color no "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory"
