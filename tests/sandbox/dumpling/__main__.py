"""`dumpling`: python -m tests.sandbox.dumpling [flags]."""
import sys

from tests.sandbox.dumpling.dump import main

if __name__ == "__main__":
    sys.exit(main())
