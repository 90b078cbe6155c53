"""Dialects: the request and response shapes of the systems leadsite replaces, onto `register()`."""
