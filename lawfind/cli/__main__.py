"""``python -m lawfind.cli``: the ``lawfind`` command."""

import sys

from . import main

sys.exit(main())
