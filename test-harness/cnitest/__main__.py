"""`python3 test-harness/cnitest ...` (see cli.py)."""
import os
import sys

sys.dont_write_bytecode = True
# the kit's directory must not shadow the standard library (profile, ...): import it as a package
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from cnitest.cli import main  # noqa: E402

sys.exit(main())
