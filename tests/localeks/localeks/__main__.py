"""``python -m localeks``: see server.py for the command line."""

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
