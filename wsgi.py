"""The only place an app is made at import: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from portal import create_app

app = create_app()
