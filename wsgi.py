"""The only module-level app, for gunicorn and ``flask --app wsgi``.

Configuration that the app cannot run without is reported in one line, not a traceback.
"""

import sys

from joblog_app import create_app
from joblog_app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"joblog: {exc} (see docs/operations.md; for a development checkout: "
             "export JOBLOG_ENV_NAME=development)")
