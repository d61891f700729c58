"""`python -m bot ...` runs the command-line adapter."""

import sys

from bot.adapters.cli import main

if __name__ == "__main__":
    sys.exit(main())
