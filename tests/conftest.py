"""Make the repository importable as ansible_collections.tidbops.manager for every test.

The collection lives at the repository root, but Ansible (and its module_utils imports)
expect it under an ``ansible_collections/<namespace>/<name>`` path. A temporary tree with
a symlink gives both pytest and ansible-playbook that layout without copying anything.
"""
import os
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    root = os.environ.get("TIDBOPS_COLLECTIONS_ROOT")
    if not root:
        root = tempfile.mkdtemp(prefix="tidbops-collections-")
        os.environ["TIDBOPS_COLLECTIONS_ROOT"] = root
    link = os.path.join(root, "ansible_collections", "tidbops", "manager")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO_ROOT, link)
    return root


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
