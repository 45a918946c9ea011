"""Loaded by pytest before anything reads the settings: `-p kernel.tests.secret_key_plugin` in pyproject.toml.

With DEBUG off the settings refuse to start without SECRET_KEY. A test run gets a random key made here, at
run time, so no key is ever committed; it lives in os.environ, so the worker and manage.py processes that
tests start share it. pytest-django reads the settings while conftest.py files load, which is too late to
set it there.
"""

import os
import secrets

if not os.environ.get("SECRET_KEY", "").strip() and not os.environ.get("SECRET_KEY_FILE", "").strip():
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)

# The keys that protect ID numbers (volunteers.crypto): made per run too, shared with the processes
# that tests start.
if not os.environ.get("ID_NUMBER_KEYS", "").strip():
    import base64

    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)


# Under pytest-xdist (`make test` runs two workers) each worker gets Redis databases and a VAR_DIR of its
# own: two workers never share a broker queue, a cache or the embedded broker's folders. The databases are
# pytest-django's, one per worker. The worker processes that tests start inherit these.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit():
    import re
    from pathlib import Path

    _index = int(_worker[2:])
    for _name in ("REDIS_URL", "REDIS_CACHE_URL"):
        _url = os.environ.get(_name, "")
        _match = re.fullmatch(r"(rediss?://[^/]+)(?:/(\d*))?", _url)
        if _match and _index:
            # Two numbers a worker (the cache takes the one after the broker's), counted down from the
            # run's own so they stay among Redis's sixteen.
            _number = int(_match[2] or 0)
            _number = _number - 2 * _index if _number >= 2 * _index else _number + 2 * _index
            os.environ[_name] = f"{_match[1]}/{_number}"
    _base = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    os.environ["VAR_DIR"] = str(_base / f"xdist-{_worker}")
