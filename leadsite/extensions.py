"""Flask extensions, created unbound and initialised in `create_app`."""

import time
from typing import Any

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations deterministic on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Objects stay loaded after commit: views render what they just saved without reloading it.
db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    session_options={"expire_on_commit": False},
)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class SweptMemoryStorage(MemoryStorage):
    """`memory://` as `limits` keeps it, but swept of expired counters at most once a second
    (`RATELIMIT_STORAGE_URI = "leadsite-memory://"`, without Redis).

    `limits`' own starts a timer thread to sweep 10 ms after any hit once the last one has
    ended: about every other API request, at a few hundred a second, and the request waits
    for the thread to start (`Thread.start`), a wait a busy machine makes long. The sweep only
    frees memory: a counter past its expiry already reads as zero (`MemoryStorage.get`)."""

    STORAGE_SCHEME = ["leadsite-memory"]
    SWEEP_EVERY = 1.0  # seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.next_sweep = 0.0
        super().__init__(*args, **kwargs)

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private method
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_EVERY
            super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
