"""leadsite: self-hosted lead registration. `create_app()` builds the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from leadsite import config as settings
from leadsite.extensions import babel, csrf, db, limiter, login_manager, migrate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Views that take the write lock themselves, late, after their read-only work (registration),
# or POST without writing (an origin's "try it" box, which must not hold up registrations).
OWN_WRITE_LOCK = frozenset(
    {
        "api.create_lead",
        "api.create_leads_batch",  # its 500 bodies read and checked before the lock
        "hooks.receive_hook",
        "backoffice.origin_try",
        "api.create_chatbot_lead",
        "api.create_kohomai_journey",
        "vcita.create_vcita_lead",
        "kickofflabs.register_v2",
        "kickofflabs.register_v2_slash",
        "kickofflabs.subscribe_v1",
        "public.registration_page",
        "public.embed_form",
        "public.form_beacon",  # counts in the background: writes nothing itself
        # They try staff-written templates first (`funnel_activities._try_templates_first`),
        # then take the lock and read the membership again (`workspace.members_write_turn`).
        "backoffice.activity_create",
        "backoffice.activity_edit",
        # They render staff-written templates, and the test takes the lock to queue its email
        # (`members_write_turn` too); the previews write nothing.
        "backoffice.activity_email_preview",
        "backoffice.activity_email_preview_html",
        "backoffice.activity_email_test",
    }
)


def _lock_for_writes() -> None:
    from flask import request

    from leadsite.database import begin_write_transaction

    if request.method not in SAFE_METHODS and request.endpoint not in OWN_WRITE_LOCK:
        begin_write_transaction()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then `config` (tests pass theirs here)."""
    app = Flask(
        __name__,
        template_folder=str(settings.ROOT / "templates"),
        static_folder=str(settings.ROOT / "static"),
        instance_path=str(settings.INSTANCE),
    )
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    from leadsite.unread_bodies import ReadUnreadBodies

    app.wsgi_app = ReadUnreadBodies(app.wsgi_app)  # type: ignore[method-assign]
    if proxies := int(app.config.get("TRUSTED_PROXIES") or 0):
        # Behind N reverse proxies: take the client's address and scheme from X-Forwarded-*,
        # so rate limits and recorded IPs are the client's, not the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = settings.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        settings.INSTANCE.mkdir(parents=True, exist_ok=True)
    from leadsite.monitoring import logs, metrics, request_ids

    logs.configure(app)
    request_ids.init_app(app)  # first of the request hooks (see there)

    from leadsite import (
        database,  # noqa: F401  (registers the SQLite connection settings)
        models,  # noqa: F401  (every model, for Alembic and relationships)
    )
    from leadsite.outbox import wake  # noqa: F401  (NOTIFY the workers of work due now)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    from leadsite import outages

    outages.init_app(app)  # before the limiter (see there)
    limiter.init_app(app)
    from leadsite import i18n

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(settings.ROOT / "translations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    app.jinja_env.globals["language"] = i18n.current

    from leadsite import (
        api,
        auth,
        backoffice,
        cli,
        errors,
        health,
        public,
        security,
        templating,
    )
    from leadsite.analytics import counter_writer, rollup_session  # noqa: F401 (its listeners)
    from leadsite.api import docs as api_docs
    from leadsite.api import hooks, ingest_record
    from leadsite.api.dialects import kickofflabs, vcita
    from leadsite.url_words import NotConverter

    app.url_map.converters["not"] = NotConverter
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(backoffice.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(kickofflabs.bp)
    app.register_blueprint(vcita.bp)
    app.register_blueprint(hooks.bp)
    csrf.exempt(api.bp)  # bearer keys, not cookies: no CSRF to guard against
    csrf.exempt(vcita.bp)
    csrf.exempt(public.bp)  # signed tokens bound to the origin or journey, not the session
    csrf.exempt(kickofflabs.bp)  # API keys, or keyless from allowed sites: no session involved
    csrf.exempt(hooks.bp)  # the secret in the URL, not cookies
    errors.init_app(app)
    ingest_record.init_app(app)
    metrics.init_app(app)  # after the ingestion log (see there)
    counter_writer.init_app(app)
    security.init_app(app)
    app.before_request(_lock_for_writes)
    templating.init_app(app)
    cli.init_app(app)
    if app.config["LEADSITE_INLINE_WORKER"] and not app.testing:
        from leadsite.outbox.worker import start_inline

        start_inline(app)
    return app
