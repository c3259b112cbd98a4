"""Stand-in for the pip bootstrap script ansible-test downloads from a host this machine cannot reach.

ansible-test runs it with pip's install options; we bootstrap pip from the standard library
(ensurepip) and then let that pip install the same packages from PyPI.
"""

import subprocess
import sys

DROPPED = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in DROPPED]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
