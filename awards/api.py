"""REST endpoint of the awards: the awards whose giving unit lies in the caller's scope, newest first, by
cursor, built from `.values()` rows (the same queries at 1 row and at 50). A volunteer's name and number are
shown as the public pages show them: whole only with the volunteer's consent."""

from __future__ import annotations

from kernel.api import CursorPagination, FilterBackend
from stations.api_scoping import ScopedReadOnlyViewSet

from .filters import AwardFilter
from .models import Award
from .selectors import volunteer_public_label
from .serializers import AwardSerializer


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class AwardViewSet(ScopedReadOnlyViewSet):
    """Awards (表彰) given by the units of the caller's scope, revoked ones included (`revoked=false` to
    leave them out). Given and revoked in the admin."""

    model = Award
    serializer_class = AwardSerializer
    filterset_class = AwardFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "year": "year",
        "kind": "kind_id",
        "kind_name": "kind__name",
        "recipient_type": "kind__recipient_type",
        "volunteer": "volunteer_id",
        "team": "team_id",
        "project": "project_id",
        "unit": "unit_id",
        "recipient_name": "team__name",  # filled in by row_transform
        "volunteer_number": "volunteer_id",  # filled in by row_transform
        "citation": "citation",
        "giving_unit": "giving_unit_id",
        "giving_unit_name": "giving_unit__name",
        "created_at": "created_at",
        "revoked_at": "revoked_at",
        "revoke_reason": "revoke_reason",
    }
    hidden_values = (
        "volunteer__name",
        "volunteer__number",
        "volunteer__public_name",
        "project__name",
        "unit__name",
    )

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    def row_transform(self):
        def transform(row, item):
            item["volunteer_number"] = None
            if row["volunteer_id"] is not None:
                name, number = volunteer_public_label(
                    row["volunteer__name"], row["volunteer__number"], row["volunteer__public_name"]
                )
                item["recipient_name"], item["volunteer_number"] = name, number or None
            elif row["project_id"] is not None:
                item["recipient_name"] = row["project__name"]
            elif row["unit_id"] is not None:
                item["recipient_name"] = row["unit__name"]

        return transform
