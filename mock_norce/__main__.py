"""``python -m mock_norce`` runs the command line."""

import sys

from mock_norce.cli.main import main

sys.exit(main())
