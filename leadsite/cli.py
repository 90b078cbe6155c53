"""`flask --app app leadsite ...`: create users, build the demo workspace."""

from __future__ import annotations

import json
import secrets
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from leadsite import accounts
from leadsite.demo import ensure_demo_workspace
from leadsite.extensions import db
from leadsite.models import Role, Workspace

leadsite_cli = AppGroup("leadsite", help="leadsite administration.")


@leadsite_cli.command("create-user")
@click.option("--email", required=True, help="The user's sign-in email.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.ADMINISTRATOR.value,
    show_default=True,
)
@click.option(
    "--workspace",
    "workspace_name",
    required=True,
    help="Workspace slug or name; created if it does not exist.",
)
@click.option("--password", help="Leave out to generate one (printed once).")
def create_user(email: str, role: str, workspace_name: str, password: str | None) -> None:
    """Create a user (or reset their password) and give them ROLE in a workspace."""
    workspace = db.session.scalar(db.select(Workspace).filter_by(slug=workspace_name))
    if workspace is None:
        workspace, _ = accounts.get_or_create_workspace(workspace_name)
    password = password or secrets.token_urlsafe(12)
    user = accounts.set_user(email, password)
    accounts.add_member(user, workspace, Role(role))
    db.session.commit()
    click.echo(f"{user.email} is {role} of {workspace.name} ({workspace.slug}).")
    click.echo(f"Password: {password}")


@leadsite_cli.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
@click.option("--reset", is_flag=True, help="Set a new password and API key (`make run RESET=1`).")
def demo(as_json: bool, reset: bool) -> None:
    """Create the demo workspace if missing; print its sign-in details and API key.

    The password and key are kept between runs (in the instance folder, or where the
    DEMO_CREDENTIALS_FILE setting says): restarting signs nobody out and breaks no saved key.
    """
    credentials = Path(
        current_app.config.get("DEMO_CREDENTIALS_FILE")
        or Path(current_app.instance_path, "demo-credentials.json")
    )
    result = ensure_demo_workspace(current_app.config["BASE_URL"], credentials, reset=reset)
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    if result.new_credentials:
        kept = "new ones; older demo keys are revoked"
    else:
        kept = "the same as last run; `make run RESET=1` sets new ones"
    click.echo(
        "\n".join(
            [
                "",
                "  leadsite demo workspace is ready.",
                f"  Sign in:  {result.base_url}/login",
                f"  Email:    {result.email}",
                f"  Password: {result.password}",
                f"  API key:  {result.api_key}",
                f"  Both kept in {result.credentials_file} ({kept})",
                f"  API ref:  {result.origins['api']}",
                f"  Publishable key (web pages on localhost, registers only): "
                f"{result.publishable_key}",
                "",
            ]
        )
    )


@leadsite_cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver one batch and exit.")
def worker(once: bool) -> None:
    """Deliver webhooks and emails and run due journey steps until SIGTERM or SIGINT.

    A signal lets the message in hand finish; nothing is lost either way (leases).
    """
    from leadsite.monitoring import metrics
    from leadsite.outbox import worker as outbox_worker

    if once:
        click.echo(f"{outbox_worker.run_once()} delivered")
        return
    metrics.serve_worker(current_app._get_current_object())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    outbox_worker.run(current_app._get_current_object(), stop)


def init_app(app: Flask) -> None:
    from leadsite.leads.imports.cli import import_command

    leadsite_cli.add_command(import_command)
    app.cli.add_command(leadsite_cli)
