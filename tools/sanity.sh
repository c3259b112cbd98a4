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
# Collections our plugins import (amazon.aws module_utils and doc fragments) must sit beside the copy:
# link them from the `ansible` package installed in the venv.
dependencies=(amazon/aws)
for dependency in "${dependencies[@]}"; do
  found=$("$python" -c 'import ansible_collections, os, sys
print(next(p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, sys.argv[1]))))' "$dependency")
  mkdir -p "$root/.build/sanity/ansible_collections/${dependency%/*}"
  ln -sfn "$found/$dependency" "$root/.build/sanity/ansible_collections/$dependency"
done
cd "$dest"
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# pip's per-package notes about this machine's empty local mirrors drown the test output.
ansible-test sanity --venv --python "$version" --color no "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory"
