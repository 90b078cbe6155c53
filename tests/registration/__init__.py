"""The registration pipeline, through register() and register_many()."""
