"""`python -m robollm ...` is the `robollm` command."""

import sys

from robollm.cli import main

sys.exit(main())
