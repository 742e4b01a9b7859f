"""`tidb-lightning`: python -m tests.sandbox.lightning [flags]."""
import sys

from tests.sandbox.lightning.cli import main

if __name__ == "__main__":
    sys.exit(main())
