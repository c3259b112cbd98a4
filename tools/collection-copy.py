"""Copy the collection's files (what git tracks or would track) to DEST/ansible_collections/calico_egress/aws.

ansible-test needs a real directory with that path (a symlink is refused) under git.
"""

import os
import shutil
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
dest = os.path.join(os.path.abspath(sys.argv[1]), "ansible_collections", "calico_egress", "aws")
files = subprocess.check_output(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root).decode().split("\0")
shutil.rmtree(dest, ignore_errors=True)
for name in sorted(set(filter(None, files))):
    source = os.path.join(root, name)
    if os.path.isfile(source) and not os.path.islink(source):
        os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
        shutil.copy2(source, os.path.join(dest, name))
subprocess.check_call(["git", "init", "-q"], cwd=dest)
subprocess.check_call(["git", "add", "-A"], cwd=dest)
print(dest)
