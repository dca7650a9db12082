"""``python -m labkit.checkpoints``: see :mod:`labkit.checkpoints.regen`."""

import sys

from .regen import main

sys.exit(main())
