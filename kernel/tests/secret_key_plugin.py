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
