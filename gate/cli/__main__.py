"""`python -m gate.cli`: the same as the `gate` command."""
import sys

from gate.cli import main

sys.exit(main())
