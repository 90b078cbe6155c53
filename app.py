"""The WSGI entry point: what `flask --app app` and gunicorn (`app:app`) load."""

from leadsite import create_app

app = create_app()
