"""Re-encrypt every stored ID number under the newest key of ID_NUMBER_KEYS, and optionally re-hash them
after a change of ID_NUMBER_HASH_KEY. Runs in batches, shows progress, and is safe to run again."""

import sys

from django.core.management.base import BaseCommand
from django.db import transaction

from volunteers import crypto
from volunteers.models import Volunteer

BATCH = 2000


class Command(BaseCommand):
    help = "Re-encrypt ID numbers under the newest ID_NUMBER_KEYS key (and re-hash with --rehash-from)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rehash-from",
            metavar="OLD_HASH_KEY",
            default="",
            help="The previous ID_NUMBER_HASH_KEY: rows hashed with it are re-hashed with the current one.",
        )

    def handle(self, *args, rehash_from="", **options):
        total = Volunteer.objects.count()
        done = last_id = changed = 0
        while True:
            with transaction.atomic():
                rows = list(
                    Volunteer.objects.select_for_update()
                    .filter(pk__gt=last_id)
                    .order_by("pk")
                    .values_list("pk", "id_type", "id_number_encrypted", "id_number_hash")[:BATCH]
                )
                if not rows:
                    break
                updates = []
                for pk, id_type, token, old_hash in rows:
                    number = crypto.decrypt(token)
                    new_hash = old_hash
                    if rehash_from and old_hash == crypto.id_hash(id_type, number, key=rehash_from):
                        new_hash = crypto.id_hash(id_type, number)
                    updates.append(
                        Volunteer(pk=pk, id_number_encrypted=crypto.rotate(token), id_number_hash=new_hash)
                    )
                    changed += new_hash != old_hash
                Volunteer.objects.bulk_update(updates, ["id_number_encrypted", "id_number_hash"])
            last_id = rows[-1][0]
            done += len(rows)
            sys.stderr.write(f"\r{done}/{total} ID numbers re-encrypted")
        sys.stderr.write("\n")
        self.stdout.write(f"{done} ID numbers re-encrypted under the newest key; {changed} re-hashed.")
