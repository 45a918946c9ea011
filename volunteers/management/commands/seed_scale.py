"""`manage.py seed_scale --preset county|city`: benchmark-scale data on PostgreSQL (volunteers.scale)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from volunteers import scale


class Command(BaseCommand):
    help = (
        "Build fake benchmark data on PostgreSQL: county = 375 stations, 625 teams, 75,000 volunteers; "
        "city = eight such counties. Rerunning adds only what is missing."
    )

    def add_arguments(self, parser):
        # "tiny" is for the tests and is left out of the help on purpose.
        parser.add_argument("--preset", required=True, choices=list(scale.PRESETS), metavar="{county,city}")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off, or in a database that already holds other counties.",
        )
        parser.add_argument("--processes", type=int, default=None, help="Processes that encrypt ID numbers.")

    def handle(self, *args, preset, force=False, processes=None, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_scale fills the database with hundreds of thousands of fake rows; it runs only with "
                "DEBUG on, or with --force."
            )
        progress = options["verbosity"] > 0
        if progress:
            self.stdout.write(f"Building the {preset} preset ({scale.expected_rows(preset):,} rows) …")
        try:
            result = scale.build(
                preset, progress=progress, force=force, stream=self.stderr, processes=processes
            )
        except scale.ScaleError as error:
            raise CommandError(str(error)) from error
        if result.rows:
            added = ", ".join(f"{count:,} {phase}" for phase, count in result.added.items())
            rate = result.rows / result.seconds if result.seconds else 0
            self.stdout.write(
                self.style.SUCCESS(
                    f"{preset} preset ready in {result.seconds:.1f} s: added {added} ({rate:,.0f} rows/s)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{preset} preset already in place; nothing added ({result.seconds:.1f} s)."
                )
            )
