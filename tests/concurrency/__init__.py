"""Concurrency through real servers: gunicorn (sync, gthread) and `flask run`, with a worker."""
