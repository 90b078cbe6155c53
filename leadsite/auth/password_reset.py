"""Forgot password: `/forgot-password` emails a reset link, `/reset-password/<token>` uses it."""
