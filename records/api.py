"""REST endpoints of service records, corrections, review flags, trainings, evaluations and certificates,
and a volunteer's own records and totals.

Every list is scoped by its model's rule (a volunteer also reads their own rows), paginated by cursor and
built from `.values()` rows, so it costs the same queries at 1 row and at 50. Every write calls the
records services, whose refusals answer as a 400 with the field and the message. A decided record is
never changed: the record endpoints offer no PUT, PATCH or DELETE (405). A volunteer is shown by id,
volunteer number and name only.
"""

from __future__ import annotations

from django.db import connection
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api import CursorPagination, FilterBackend, ValuesListMixin, choice_labels, json_datetime
from kernel.errors import ApplicationError
from kernel.schema import with_error_responses
from stations.api_scoping import HeldSubtreeMixin, ScopedReadOnlyViewSet
from volunteers.models import Volunteer

from . import selectors, services
from .filters import (
    CertificateFilter,
    CorrectionFilter,
    EvaluationFilter,
    RecordFlagFilter,
    RecordOrdering,
    ServiceRecordFilter,
    TrainingFilter,
)
from .models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    EvaluationGrade,
    FlagKind,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    Training,
)
from .serializers import (
    BulkOutcomeSerializer,
    CertificateCreateSerializer,
    CertificateSerializer,
    CorrectionAcceptSerializer,
    CorrectionCreateSerializer,
    CorrectionSerializer,
    EvaluationCreateSerializer,
    EvaluationSerializer,
    EvaluationUpdateSerializer,
    MyTotalsSerializer,
    NoteSerializer,
    ReasonSerializer,
    RecordFlagSerializer,
    RecordsDecideSerializer,
    ServiceRecordCreateSerializer,
    ServiceRecordDetailSerializer,
    ServiceRecordSerializer,
    TrainingCreateSerializer,
    TrainingSerializer,
    TrainingUpdateSerializer,
)


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class LatestServiceFirstPagination(CursorPagination):
    ordering = ("-started_at", "-id")


class LatestFlagFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _own_volunteer(user) -> Volunteer | None:
    return Volunteer.objects.of_user(user).first()


class _Writes:
    """What the write endpoints share: input checked by a small serializer, rows found in the caller's
    list (else a 404), the row answered as the list shows it."""

    def read_input(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def listed(self, pk):
        """The object `pk` of the caller's list, or a 404."""
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def row(self, pk, queryset=None) -> dict:
        row = self.values_queryset(self.get_queryset() if queryset is None else queryset).filter(pk=pk)
        found = row.first()
        if found is None:
            raise Http404
        return self.build_rows([found])[0]


# --- Service records ---------------------------------------------------------------------------------

RECORD_FIELDS = {
    "id": "id",
    "volunteer": "volunteer_id",
    "volunteer_number": "volunteer__number",
    "volunteer_name": "volunteer__name",
    "unit": "unit_id",
    "unit_name": "unit__name",
    "team": "team_id",
    "team_name": "team__name",
    "content": "content",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "service_date": "service_date",
    "hours": "hours",
    "source": "source",
    "source_display": "source",
    "status": "status",
    "status_display": "status",
    "evidence_note": "evidence_note",
    "has_evidence_photo": "evidence_photo",
    "submitted_at": "created_at",
    "decided_at": "decided_at",
    "decision_note": "decision_note",
    "supersedes": "supersedes_id",
}
RECORD_LABELS = {"source_display": ("source", RecordSource), "status_display": ("status", RecordStatus)}


RECORD_CONVERTERS = {
    "hours": str,
    "has_evidence_photo": bool,
    "started_at": json_datetime,
    "ended_at": json_datetime,
    "submitted_at": json_datetime,
    "decided_at": json_datetime,
}
EVENT_FIELDS = ("id", "action", "actor_name", "at", "before", "after", "note")
FLAG_BRIEF_FIELDS = ("id", "kind", "detail", "is_open", "created_at", "cleared_at", "note")


def record_marks(ids) -> dict[int, tuple[bool, int | None]]:
    """For the records of a page: whether each has an open review flag, and the record of the correction
    that superseded it (or None); one query for the page, two index probes a record. Read in the list's
    own query they would cost more than the rest of the page: the superseded-by join doubles PostgreSQL's
    planning time, and the ORM takes longer to build the flag's subquery than PostgreSQL to answer it."""
    if not ids:
        return {}
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT record_id, NULL FROM {quote(RecordFlag._meta.db_table)} "
        f"WHERE is_open AND record_id IN ({marks}) "
        "UNION ALL "
        f"SELECT supersedes_id, id FROM {quote(ServiceRecord._meta.db_table)} "
        f"WHERE supersedes_id IN ({marks})"
    )
    found: dict[int, tuple[bool, int | None]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *ids])
        for record_id, superseded_by in cursor.fetchall():
            flagged, newer = found.get(record_id, (False, None))
            found[record_id] = (flagged or superseded_by is None, newer or superseded_by)
    return found


class _RecordRows:
    """The columns of a record row, and the two it takes from other rows (`flagged`, `superseded_by`)."""

    values_fields = RECORD_FIELDS
    labels = RECORD_LABELS
    converters = RECORD_CONVERTERS

    def build_rows(self, rows) -> list[dict]:
        items = super().build_rows(rows)
        marks = record_marks([item["id"] for item in items])
        for item in items:
            item["flagged"], item["superseded_by"] = marks.get(item["id"], (False, None))
        return items


def record_detail(item: dict) -> dict:
    """A record's row with its audit trail and its review flags: two queries more, whatever their size."""
    actions = choice_labels(RecordEvent.Action)
    events = list(selectors.record_events(item["id"]).values(*EVENT_FIELDS))
    for event in events:
        event["action_display"] = actions.get(event["action"], event["action"])
    kinds = choice_labels(FlagKind)
    flags = list(
        RecordFlag.objects.filter(record_id=item["id"])
        .order_by("created_at", "id")
        .values(*FLAG_BRIEF_FIELDS)
    )
    for flag in flags:
        flag["kind_display"] = kinds.get(flag["kind"], flag["kind"])
    return {**item, "events": events, "flags": flags}


@extend_schema_view(
    retrieve=extend_schema(responses=with_error_responses({200: ServiceRecordDetailSerializer}))
)
class ServiceRecordViewSet(HeldSubtreeMixin, _Writes, _RecordRows, ScopedReadOnlyViewSet):
    """Service records (志愿服务记录) the caller sees: of the units in their scope, of the teams they lead,
    and those naming them as organiser; latest service first. A record is entered on a volunteer's behalf
    (POST), approved or rejected, one by one or in bulk; it is never edited or deleted (a correction is
    asked for instead, under /corrections/). The detail holds the audit trail."""

    model = ServiceRecord
    serializer_class = ServiceRecordSerializer
    filterset_class = ServiceRecordFilter
    pagination_class = LatestServiceFirstPagination
    filter_backends = (FilterBackend, RecordOrdering)
    ordering_fields = ("started_at", "id")
    ordering = ("-started_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRecord.objects.none()
        records = self.held_subtree()
        if records is None:
            records = ServiceRecord.objects.visible_to(self.request.user)
        return records.order_by("-started_at", "-pk")

    def retrieve(self, request, *args, **kwargs):
        return Response(record_detail(self.row(kwargs["pk"])))

    def detail_of(self, pk) -> dict:
        return record_detail(self.row(pk))

    @extend_schema(
        request=ServiceRecordCreateSerializer,
        responses=with_error_responses({201: ServiceRecordDetailSerializer}),
    )
    def create(self, request, *args, **kwargs):
        """Enter a service on a volunteer's behalf (staff holding `records.enter` on the unit, or a leader
        of the team): a pending record, approved by someone else."""
        data = self.read_input(ServiceRecordCreateSerializer)
        record = services.record_submit(actor=request.user, **data)
        return Response(self.detail_of(record.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=NoteSerializer, responses=with_error_responses({200: ServiceRecordDetailSerializer})
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a pending record, with an optional note (needed for a flagged record, approved from one
        level above its unit)."""
        record = self.listed(pk)
        data = self.read_input(NoteSerializer)
        services.record_approve(actor=request.user, record=record.pk, note=data["note"])
        return Response(self.detail_of(record.pk))

    @extend_schema(
        request=ReasonSerializer, responses=with_error_responses({200: ServiceRecordDetailSerializer})
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a pending record, with the reason."""
        record = self.listed(pk)
        data = self.read_input(ReasonSerializer)
        services.record_reject(actor=request.user, record=record.pk, reason=data["reason"])
        return Response(self.detail_of(record.pk))

    @extend_schema(
        request=RecordsDecideSerializer, responses=with_error_responses({200: BulkOutcomeSerializer})
    )
    @action(detail=False, methods=["post"])
    def decide(self, request):
        """Approve or reject several records at once, each on its own: `done` lists those decided,
        `refused` each of the others with the reason it was left as it was."""
        data = self.read_input(RecordsDecideSerializer)
        ids = list(dict.fromkeys(data["ids"]))
        listed = set(
            ServiceRecord.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", flat=True)
        )
        outcome = services.records_decide(
            actor=request.user,
            ids=[pk for pk in ids if pk in listed],
            approve=data["decision"] == "approve",
            reason=data["reason"],
            note=data["note"],
        )
        refused = dict(outcome.refused)
        # An id the caller does not see is refused as one that does not exist.
        unknown = gettext("This record no longer exists; reload the page.")
        done = set(outcome.done)
        return Response(
            {
                "done": list(outcome.done),
                "refused": [{"id": pk, "message": refused.get(pk, unknown)} for pk in ids if pk not in done],
            }
        )


class MyServiceRecordViewSet(
    _Writes, _RecordRows, ValuesListMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """The signed-in volunteer's own service records, latest service first, each with its status and
    whether it was superseded by a correction or is flagged. Empty for an account that is no volunteer."""

    serializer_class = ServiceRecordSerializer
    pagination_class = LatestServiceFirstPagination
    filter_backends = ()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRecord.objects.none()
        volunteer = _own_volunteer(self.request.user)
        records = ServiceRecord.objects.of_volunteer(volunteer) if volunteer else ServiceRecord.objects.none()
        return records.order_by("-started_at", "-pk")

    @extend_schema(responses=with_error_responses({200: ServiceRecordDetailSerializer}))
    def retrieve(self, request, *args, **kwargs):
        """One of the volunteer's own records, with its audit trail."""
        return Response(record_detail(self.row(kwargs["pk"])))


class MyServiceTotalsView(APIView):
    """The signed-in volunteer's approved hours, star level and progress to the next, and how many of
    their records wait for approval. 404 for an account that is no volunteer."""

    @extend_schema(responses=with_error_responses({200: MyTotalsSerializer}))
    def get(self, request):
        volunteer = _own_volunteer(request.user)
        if volunteer is None:
            raise Http404
        totals = selectors.my_totals(volunteer)
        stars = totals.stars
        return Response(
            {
                "hours": str(totals.hours),
                "star_level": stars.level,
                "next_level": stars.next_level,
                "next_threshold": stars.next_threshold,
                "hours_to_next": None if stars.hours_to_next is None else str(stars.hours_to_next),
                "percent": stars.percent,
                "pending_count": totals.pending_count,
            }
        )


# --- Corrections -------------------------------------------------------------------------------------


class CorrectionViewSet(_Writes, ScopedReadOnlyViewSet):
    """Requests to correct a decided record (更正): those on records the caller sees, and the caller's
    own as a volunteer; newest first. Asked for by the volunteer or by staff of the organising unit;
    accepted (a new approved record supersedes the old one) or refused, with a reason, by an approver."""

    model = CorrectionRequest
    serializer_class = CorrectionSerializer
    filterset_class = CorrectionFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "record": "record_id",
        "record_content": "record__content",
        "record_service_date": "record__service_date",
        "record_hours": "record__hours",
        "volunteer": "record__volunteer_id",
        "volunteer_number": "record__volunteer__number",
        "volunteer_name": "record__volunteer__name",
        "unit": "record__unit_id",
        "unit_name": "record__unit__name",
        "reason": "reason",
        "content": "content",
        "started_at": "started_at",
        "ended_at": "ended_at",
        "status": "status",
        "status_display": "status",
        "requested_at": "created_at",
        "decided_at": "decided_at",
        "decision_note": "decision_note",
        "new_record": "new_record_id",
    }
    labels = {"status_display": ("status", CorrectionStatus)}
    converters = {"record_hours": str}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CorrectionRequest.objects.none()
        user = self.request.user
        return CorrectionRequest.objects.visible_to(user) | CorrectionRequest.objects.filter(
            record__volunteer__user_id=user.pk
        )

    @extend_schema(
        request=CorrectionCreateSerializer, responses=with_error_responses({201: CorrectionSerializer})
    )
    def create(self, request, *args, **kwargs):
        """Ask for a correction of an approved or rejected record: why, and what is right."""
        data = self.read_input(CorrectionCreateSerializer)
        correction = services.correction_request(actor=request.user, **data)
        return Response(self.row(correction.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CorrectionAcceptSerializer, responses=with_error_responses({200: CorrectionSerializer})
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept: a new approved record (the request's values, or the ones given here) supersedes the
        old one, and the volunteer's total moves by the difference."""
        correction = self.listed(pk)
        data = self.read_input(CorrectionAcceptSerializer)
        services.correction_decide(
            actor=request.user,
            correction=correction,
            accept=True,
            note=data["note"],
            content=data["content"] or None,
            started_at=data["started_at"],
            ended_at=data["ended_at"],
        )
        return Response(self.row(correction.pk))

    @extend_schema(request=NoteSerializer, responses=with_error_responses({200: CorrectionSerializer}))
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse, with the reason (`note`)."""
        correction = self.listed(pk)
        data = self.read_input(NoteSerializer)
        services.correction_decide(actor=request.user, correction=correction, accept=False, note=data["note"])
        return Response(self.row(correction.pk))


# --- Review flags ------------------------------------------------------------------------------------


class RecordFlagViewSet(_Writes, ScopedReadOnlyViewSet):
    """Open review flags on current records the caller sees, newest first: overlaps caught late, days
    over the cap, unusually many hours, approvals through a linked account. A reviewer from one level
    above the record's unit clears a flag with a note."""

    model = RecordFlag
    serializer_class = RecordFlagSerializer
    filterset_class = RecordFlagFilter
    pagination_class = LatestFlagFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "kind": "kind",
        "kind_display": "kind",
        "detail": "detail",
        "created_at": "created_at",
        "is_open": "is_open",
        "record": "record_id",
        "record_content": "record__content",
        "record_service_date": "record__service_date",
        "record_hours": "record__hours",
        "record_status": "record__status",
        "record_status_display": "record__status",
        "volunteer": "record__volunteer_id",
        "volunteer_number": "record__volunteer__number",
        "volunteer_name": "record__volunteer__name",
        "unit": "record__unit_id",
        "unit_name": "record__unit__name",
        "other_record": "other_record_id",
    }
    labels = {"kind_display": ("kind", FlagKind), "record_status_display": ("record_status", RecordStatus)}
    converters = {"record_hours": str}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RecordFlag.objects.none()
        return selectors.flags_to_review(self.request.user)

    @extend_schema(request=NoteSerializer, responses=with_error_responses({200: RecordFlagSerializer}))
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        """Clear a flag: the record was looked at and found right, as the note says."""
        visible = RecordFlag.objects.visible_to(request.user)
        flag = visible.filter(pk=pk).first()
        if flag is None:
            raise Http404
        data = self.read_input(NoteSerializer)
        services.flag_clear(actor=request.user, flag=flag, note=data["note"])
        return Response(self.row(flag.pk, visible))


# --- Trainings and evaluations -------------------------------------------------------------------------


class _OwnRowsToo:
    """Staff read the rows their scope holds; a volunteer also reads their own."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        user = self.request.user
        return self.model.objects.visible_to(user) | self.model.objects.filter(volunteer__user_id=user.pk)


class TrainingViewSet(_Writes, _OwnRowsToo, ScopedReadOnlyViewSet):
    """Trainings volunteers attended (条例 art. 19), recorded by staff of the unit that ran them; a
    volunteer also reads their own. Newest first. Recorded (POST) and changed (PUT, PATCH) by staff
    holding `records.trainings` on the unit; never deleted."""

    model = Training
    serializer_class = TrainingSerializer
    filterset_class = TrainingFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "unit": "unit_id",
        "unit_name": "unit__name",
        "title": "title",
        "organiser": "organiser",
        "date": "date",
        "hours": "hours",
    }
    converters = {"hours": str}

    @extend_schema(
        request=TrainingCreateSerializer, responses=with_error_responses({201: TrainingSerializer})
    )
    def create(self, request, *args, **kwargs):
        from .trainings import training_create

        data = self.read_input(TrainingCreateSerializer)
        training = training_create(actor=request.user, **data)
        return Response(self.row(training.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TrainingUpdateSerializer, responses=with_error_responses({200: TrainingSerializer})
    )
    def update(self, request, *args, **kwargs):
        return self._update(kwargs["pk"], partial=False)

    @extend_schema(
        request=TrainingUpdateSerializer, responses=with_error_responses({200: TrainingSerializer})
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(kwargs["pk"], partial=True)

    def _update(self, pk, *, partial: bool):
        from .trainings import training_update

        training = self.listed(pk)
        data = self.read_input(TrainingUpdateSerializer, partial=partial)
        training_update(actor=self.request.user, training=training, **data)
        return Response(self.row(training.pk))


class EvaluationViewSet(_Writes, _OwnRowsToo, ScopedReadOnlyViewSet):
    """Yearly evaluations of volunteers by their teams (评价): those of the teams the caller's units hold
    or the caller leads, and a volunteer's own; newest year first. Given (POST) and changed (PUT, PATCH)
    by the team's unit admins and leaders; one per volunteer, team and year; never deleted."""

    model = Evaluation
    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "team": "team_id",
        "team_name": "team__name",
        "year": "year",
        "grade": "grade",
        "grade_display": "grade",
        "comment": "comment",
        "updated_at": "updated_at",
    }
    labels = {"grade_display": ("grade", EvaluationGrade)}

    @extend_schema(
        request=EvaluationCreateSerializer, responses=with_error_responses({201: EvaluationSerializer})
    )
    def create(self, request, *args, **kwargs):
        """The team's evaluation of a member for a year; a second one for the same year changes the
        first."""
        from .trainings import evaluation_save

        data = self.read_input(EvaluationCreateSerializer)
        evaluation = evaluation_save(actor=request.user, **data)
        return Response(self.row(evaluation.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EvaluationUpdateSerializer, responses=with_error_responses({200: EvaluationSerializer})
    )
    def update(self, request, *args, **kwargs):
        return self._update(kwargs["pk"], partial=False)

    @extend_schema(
        request=EvaluationUpdateSerializer, responses=with_error_responses({200: EvaluationSerializer})
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(kwargs["pk"], partial=True)

    def _update(self, pk, *, partial: bool):
        from .trainings import evaluation_save

        found = self.listed(pk)
        evaluation = Evaluation.objects.select_related("volunteer", "team").get(pk=found.pk)
        data = self.read_input(EvaluationUpdateSerializer, partial=partial)
        evaluation_save(
            actor=self.request.user,
            volunteer=evaluation.volunteer,
            team=evaluation.team,
            year=evaluation.year,
            grade=data.get("grade", evaluation.grade),
            comment=data.get("comment", evaluation.comment) if partial else data["comment"],
        )
        return Response(self.row(evaluation.pk))


# --- Certificates --------------------------------------------------------------------------------------


class CertificateViewSet(_Writes, _OwnRowsToo, ScopedReadOnlyViewSet):
    """Service certificates (志愿服务证明): those the caller's units issue, and a volunteer's own; newest
    first. Asked for (POST) by the volunteer or by staff for them; made in the background (`status`
    becomes ready); revoked by the issuer's staff with a reason."""

    model = Certificate
    serializer_class = CertificateSerializer
    filterset_class = CertificateFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "number": "number",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "issuer": "issuer_id",
        "issuer_name": "issuer__name",
        "period_from": "period_from",
        "period_to": "period_to",
        "status": "status",
        "status_display": "status",
        "total_hours": "total_hours",
        "requested_at": "created_at",
        "issued_at": "issued_at",
        "revoked_at": "revoked_at",
        "revoke_reason": "revoke_reason",
    }
    labels = {"status_display": ("status", CertificateStatus)}
    converters = {"total_hours": str}
    hidden_values = ("pdf",)

    def row_transform(self):
        issued = {CertificateStatus.READY, CertificateStatus.REVOKED}

        def download(row, item):
            ready = row["pdf"] and row["status"] in issued
            item["download_url"] = (
                reverse("records:certificate-download", args=[row["id"]]) if ready else None
            )

        return download

    @extend_schema(
        request=CertificateCreateSerializer, responses=with_error_responses({201: CertificateSerializer})
    )
    def create(self, request, *args, **kwargs):
        """Ask for a certificate of the service recorded by a unit (`issuer`), for a period or all of it;
        without `volunteer`, for oneself."""
        from .certificates import certificate_request

        data = self.read_input(CertificateCreateSerializer)
        volunteer = data.get("volunteer") or _own_volunteer(request.user)
        if volunteer is None:
            raise ApplicationError(gettext("Choose the volunteer."), field="volunteer")
        certificate = certificate_request(
            actor=request.user,
            volunteer=volunteer,
            issuer=data["issuer"],
            period_from=data["period_from"],
            period_to=data["period_to"],
        )
        return Response(self.row(certificate.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=with_error_responses({200: CertificateSerializer}))
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke an issued certificate, with the reason: its verification page then says revoked."""
        from .certificates import certificate_revoke

        certificate = self.listed(pk)
        data = self.read_input(ReasonSerializer)
        certificate_revoke(actor=request.user, certificate=certificate, reason=data["reason"])
        return Response(self.row(certificate.pk))
