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
