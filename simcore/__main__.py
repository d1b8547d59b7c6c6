"""``python -m simcore`` runs the command-line interface."""

import sys

from simcore.cli import main

sys.exit(main())
