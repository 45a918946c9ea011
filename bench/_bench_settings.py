"""Settings of the gunicorn that the HTTP benches start: the real ones, with the baseline views mounted too.

Not run by `make bench` (a leading underscore); the bench puts bench/ on gunicorn's Python path.
"""

from practice_center.settings import *  # noqa: F403

ROOT_URLCONF = "_bench_urls"

# One connection per worker for the whole run, not renewed every 60 s: the bench reads the CPU time of each
# worker's database backend, and a backend replaced mid-run would take its share of a run with it.
DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405
