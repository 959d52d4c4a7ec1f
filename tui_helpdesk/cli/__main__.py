"""`python -m tui_helpdesk.cli`: the same program as the `helpdesk` script."""

import sys

from tui_helpdesk.cli import main

sys.exit(main())
