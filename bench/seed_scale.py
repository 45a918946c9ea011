"""`seed_scale --preset county` timed on a throwaway PostgreSQL database, and the city preset projected.

Builds the county preset (521 units, 625 teams, 75,000 volunteers with their encrypted ID numbers, domains
and memberships, 625,000 service records with their audit trail, review flags and the volunteers' totals,
6,250 activities with their sign-ups, and the last thirty days' attendance with the records it made)
and prints the time, the rows per second and the city preset's time projected as eight times the county's
(the city is eight such counties). With `--city` it then builds the other seven counties in the same
database and prints the city preset's real time. Nothing is asserted.
"""

import os
import secrets
import sys
import time

from cryptography.fernet import Fernet

if not os.environ.get("ID_NUMBER_KEYS"):
    # Keys for this run only: the fake numbers are encrypted under them and dropped with the database.
    os.environ["ID_NUMBER_KEYS"] = Fernet.generate_key().decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)

from _tree import throwaway_database

from volunteers import scale


def main():
    with throwaway_database() as connection:
        if connection.vendor != "postgresql":
            print("seed_scale needs PostgreSQL: set DATABASE_URL to a PostgreSQL server; skipped.")
            return
        county = scale.build("county", progress=True)
        rows = county.rows
        rate = rows / county.seconds
        print(f"seed_scale --preset county: {county.seconds:.1f} s for {rows:,} rows ({rate:,.0f} rows/s)")
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in county.phase_seconds.items())
        print(f"  by phase: {phases} (the rest is ANALYZE)")
        print(
            f"city preset, projected (8 × county, not measured): {8 * county.seconds:.0f} s "
            f"= {8 * county.seconds / 60:.1f} min for {scale.expected_rows('city'):,} rows"
        )
        if "--city" in sys.argv:
            started = time.monotonic()
            rest = scale.build("city", progress=True)
            city = county.seconds + (time.monotonic() - started)
            total = rows + rest.rows
            print(
                f"city preset, measured (county, then the other seven counties): {city:.0f} s "
                f"= {city / 60:.1f} min for {total:,} rows ({total / city:,.0f} rows/s)"
            )


if __name__ == "__main__":
    main()
