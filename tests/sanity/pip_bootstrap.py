"""Stand-in for the get-pip script that ansible-test downloads into ~/.ansible/test/cache.

ansible-test creates each sanity test's virtualenv without pip, then runs a get-pip script
fetched from a CI file host that this project's machines cannot reach. This script does the
same job from what is already here: it bootstraps pip from CPython's bundled ensurepip and
then lets that pip install what ansible-test asked for (from the package index).
`make sanity` copies it to the cache path ansible-test looks in.
"""
import subprocess
import sys

# In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own environment,
# which would hide the machine's pip configuration (index, certificates) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
# get-pip.py's own flags; plain pip does not know them.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args))
