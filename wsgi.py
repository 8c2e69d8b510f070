"""The only module-level app, for gunicorn and ``flask --app wsgi``."""

from joblog_app import create_app

app = create_app()
