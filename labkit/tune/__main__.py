"""``python -m labkit.tune …``: a tuning worker, the same as ``labkit tune …``."""

import sys

from .command import main

sys.exit(main())
