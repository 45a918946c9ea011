"""Trainings, yearly evaluations and the issuer's details, through their services: who may enter them for
whom, and each refusal with its field and message, leaving every row as it was."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from kernel.testing import assert_refused_unchanged
from records import trainings
from records.models import Evaluation, IssuerProfile, Training
from volunteers.models import MembershipStatus, TeamMembership
from volunteers.tests.factories import make_member, make_team, make_volunteer

from .factories import day_at, write_record

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def rows() -> dict:
    return {
        "trainings": list(Training.objects.order_by("pk").values()),
        "evaluations": list(Evaluation.objects.order_by("pk").values()),
        "issuers": list(IssuerProfile.objects.order_by("pk").values()),
    }


def refused(call, /, *, field, message, **kwargs):
    return assert_refused_unchanged(rows, call, field=field, message=message, **kwargs)


def training(actor, volunteer, unit, **changes):
    data = {
        "actor": actor,
        "volunteer": volunteer,
        "unit": unit,
        "title": "应急救护培训",
        "organiser": "县红十字会",
        "date": TODAY() - datetime.timedelta(days=3),
        "hours": Decimal("4"),
    }
    data.update(changes)
    return data


# --- Trainings ---------------------------------------------------------------------------------------


def test_station_staff_record_a_training_of_their_volunteer(tree, people, crew):
    made = trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1))
    assert (made.volunteer, made.unit, made.hours, made.entered_by) == (
        crew.volunteer,
        tree.a1,
        Decimal("4"),
        people.station_a1,
    )


def test_a_training_of_another_townships_unit_is_refused(tree, people, crew):
    refused(
        trainings.training_create,
        **training(people.inst_b, crew.volunteer, tree.a1),
        field="unit",
        message=_("This unit is outside the area you record trainings for."),
    )


def test_a_team_leader_records_no_trainings(tree, people, crew):
    refused(
        trainings.training_create,
        **training(crew.leader.user, crew.volunteer, tree.a1),
        field="unit",
        message=_("This unit is outside the area you record trainings for."),
    )


def test_a_volunteer_outside_the_area_needs_a_service_with_the_unit(tree, people, crew):
    message = _("This volunteer is neither in your area nor served with this unit.")
    refused(
        trainings.training_create,
        **training(people.station_a1, crew.other, tree.a1),
        field="volunteer",
        message=message,
    )
    # Having served with station A1, the volunteer of township B gets A1's training on their record.
    write_record(crew.other, start=day_at(5, 9), unit=tree.a1)
    made = trainings.training_create(**training(people.station_a1, crew.other, tree.a1))
    assert made.volunteer == crew.other
    # A service elsewhere in township A does not do for A2's own trainings of a B volunteer.
    refused(
        trainings.training_create,
        **training(people.inst_a, crew.other, tree.a2, title="消防培训"),
        field="volunteer",
        message=message,
    )


def test_a_training_in_the_future_is_refused(tree, people, crew):
    refused(
        trainings.training_create,
        **training(people.station_a1, crew.volunteer, tree.a1, date=TODAY() + datetime.timedelta(days=1)),
        field="date",
        message=_("A training is recorded once it has taken place."),
    )


@pytest.mark.parametrize("hours", [Decimal("0"), Decimal("-1"), Decimal("200.5"), None, "abc"])
def test_training_hours_out_of_range_are_refused(tree, people, crew, hours):
    refused(
        trainings.training_create,
        **training(people.station_a1, crew.volunteer, tree.a1, hours=hours),
        field="hours",
        message=_("A training lasts more than 0 and at most 200 hours."),
    )


def test_the_same_training_twice_is_refused(tree, people, crew):
    trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1))
    refused(
        trainings.training_create,
        **training(people.inst_a, crew.volunteer, tree.a1),
        field="title",
        message=_("This training is already recorded for this volunteer."),
    )


def test_a_training_without_a_title_is_refused(tree, people, crew):
    blank = str(Training._meta.get_field("title").error_messages["blank"])
    refused(
        trainings.training_create,
        **training(people.station_a1, crew.volunteer, tree.a1, title="  "),
        field="title",
        message=blank,
    )


def test_an_inactive_unit_records_no_training(tree, people, crew):
    tree.a2.is_active = False
    tree.a2.save(update_fields=["is_active"])
    refused(
        trainings.training_create,
        **training(people.inst_a, crew.volunteer, tree.a2),
        field="unit",
        message=_("This unit is no longer active."),
    )


def test_a_training_is_updated_by_its_units_staff_only(tree, people, crew):
    made = trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1))
    updated = trainings.training_update(actor=people.inst_a, training=made, hours=Decimal("6.5"))
    assert Training.objects.get(pk=made.pk).hours == Decimal("6.5") == updated.hours
    refused(
        trainings.training_update,
        actor=people.inst_b,
        training=made,
        hours=Decimal("1"),
        field="unit",
        message=_("This training was recorded by a unit outside the area you record trainings for."),
    )
    refused(
        trainings.training_update,
        actor=people.station_a1,
        training=made,
        date=TODAY() + datetime.timedelta(days=2),
        field="date",
        message=_("A training is recorded once it has taken place."),
    )
    refused(
        trainings.training_update,
        actor=people.station_a1,
        training=made,
        hours=Decimal("0"),
        field="hours",
        message=_("A training lasts more than 0 and at most 200 hours."),
    )


def test_an_update_into_a_duplicate_is_refused(tree, people, crew):
    first = trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1))
    second = trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1, title="消防"))
    refused(
        trainings.training_update,
        actor=people.station_a1,
        training=second,
        title=first.title,
        field="title",
        message=_("This training is already recorded for this volunteer."),
    )


def test_an_update_cannot_move_a_training_to_another_volunteer(tree, people, crew):
    made = trainings.training_create(**training(people.station_a1, crew.volunteer, tree.a1))
    with pytest.raises(TypeError):
        trainings.training_update(actor=people.station_a1, training=made, volunteer=crew.member)


# --- Evaluations -------------------------------------------------------------------------------------


def evaluation(actor, volunteer, team, **changes):
    data = {"actor": actor, "volunteer": volunteer, "team": team, "year": TODAY().year - 1, "grade": "good"}
    data.update(changes)
    return data


def test_the_leader_evaluates_a_member_once_a_year(crew):
    made = trainings.evaluation_save(**evaluation(crew.leader.user, crew.member, crew.team, comment="认真"))
    again = trainings.evaluation_save(
        **evaluation(crew.leader.user, crew.member, crew.team, grade="excellent")
    )
    assert again.pk == made.pk and Evaluation.objects.count() == 1
    stored = Evaluation.objects.get()
    assert (stored.grade, stored.comment, stored.entered_by) == ("excellent", "", crew.leader.user)
    # Another year is another row.
    trainings.evaluation_save(**evaluation(crew.leader.user, crew.member, crew.team, year=TODAY().year))
    assert Evaluation.objects.count() == 2


def test_unit_admins_above_the_team_evaluate_too(people, crew):
    made = trainings.evaluation_save(**evaluation(people.inst_a, crew.member, crew.team))
    assert made.entered_by == people.inst_a


@pytest.mark.parametrize("who", ["inst_b", "member", "other_leader", "viewer"])
def test_outside_the_team_nobody_evaluates(tree, people, crew, who):
    if who == "other_leader":
        other_team = make_team(tree.a1, "甲一村第二服务队")
        actor = make_volunteer(tree.a1, "钱队长", password="Leader2@2026!")
        make_member(other_team, actor, role="leader")
        actor = actor.user
    elif who == "member":
        actor = crew.member.user
    else:
        actor = getattr(people, who)
    refused(
        trainings.evaluation_save,
        **evaluation(actor, crew.volunteer, crew.team),
        field="team",
        message=_("This team is outside the area you evaluate for."),
    )


def test_nobody_evaluates_themselves(people, crew):
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.leader, crew.team),
        field="volunteer",
        message=_("Nobody evaluates themselves."),
    )


def test_only_a_member_now_or_before_is_evaluated(crew):
    message = _("Only an admitted member of the team, now or before, is evaluated by it.")
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.other, crew.team),
        field="volunteer",
        message=message,
    )
    membership = TeamMembership.objects.get(team=crew.team, volunteer=crew.member)
    membership.status = MembershipStatus.PENDING
    membership.save(update_fields=["status"])
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.member, crew.team),
        field="volunteer",
        message=message,
    )
    # A member who has left is evaluated for the years they served.
    membership.status, membership.left_on = MembershipStatus.LEFT, TODAY()
    membership.save(update_fields=["status", "left_on"])
    assert trainings.evaluation_save(**evaluation(crew.leader.user, crew.member, crew.team)).pk


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (datetime.date.today().year + 1, "A year is evaluated once it has begun."),
        (1999, "Give a year from 2000 to 2100."),
        ("2025", "Give a year from 2000 to 2100."),
    ],
)
def test_a_year_out_of_range_is_refused(crew, year, message):
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.member, crew.team, year=year),
        field="year",
        message=_(message),
    )


def test_a_grade_that_is_not_one_is_refused(crew):
    message = Evaluation._meta.get_field("grade").error_messages["invalid_choice"] % {"value": "great"}
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.member, crew.team, grade="great"),
        field="grade",
        message=message,
    )


def test_a_refused_update_leaves_the_years_evaluation_alone(crew):
    trainings.evaluation_save(**evaluation(crew.leader.user, crew.member, crew.team, comment="认真"))
    message = Evaluation._meta.get_field("grade").error_messages["invalid_choice"] % {"value": "great"}
    refused(
        trainings.evaluation_save,
        **evaluation(crew.leader.user, crew.member, crew.team, grade="great"),
        field="grade",
        message=message,
    )


# --- The issuer's details ------------------------------------------------------------------------------


def _png(size=(80, 80)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (200, 0, 0, 255)).save(buffer, format="PNG")
    return SimpleUploadedFile("seal.png", buffer.getvalue(), content_type="image/png")


def issuer(actor, unit, **changes):
    data = {
        "actor": actor,
        "unit": unit,
        "person_in_charge": "王主任",
        "handler": "李干事",
        "contact": "0599-1234567",
    }
    data.update(changes)
    return data


def test_the_issuers_details_are_made_then_changed(tree, people):
    made = trainings.issuer_profile_save(**issuer(people.station_a1, tree.a1, seal=_png()))
    assert made.seal.name.endswith(".png") and made.seal.storage.exists(made.seal.name)
    changed = trainings.issuer_profile_save(**issuer(people.inst_a, tree.a1, handler="赵干事"))
    assert changed.pk == made.pk and IssuerProfile.objects.get().handler == "赵干事"
    assert IssuerProfile.objects.get().seal.name == made.seal.name  # kept when no new seal is given


def test_another_townships_issuer_is_refused(tree, people):
    refused(
        trainings.issuer_profile_save,
        **issuer(people.inst_b, tree.a1),
        field="unit",
        message=_("This unit is outside the area whose certificates you manage."),
    )


def test_a_seal_that_is_not_an_image_is_refused(tree, people):
    fake = SimpleUploadedFile("seal.png", b"not an image at all", content_type="image/png")
    error = assert_refused_unchanged(
        rows,
        trainings.issuer_profile_save,
        **issuer(people.station_a1, tree.a1, seal=fake),
        field="seal",
        message=_refusal_message_of_bad_image(),
    )
    assert error.field == "seal"


def _refusal_message_of_bad_image() -> str:
    from kernel.errors import ApplicationError
    from kernel.images import image_intake

    try:
        image_intake(io.BytesIO(b"not an image at all"), field="seal")
    except ApplicationError as error:
        return str(error.message)
    raise AssertionError("the image intake accepted a non-image")


def test_a_profile_without_the_person_in_charge_is_refused(tree, people):
    blank = str(IssuerProfile._meta.get_field("person_in_charge").error_messages["blank"])
    refused(
        trainings.issuer_profile_save,
        **issuer(people.station_a1, tree.a1, person_in_charge=""),
        field="person_in_charge",
        message=blank,
    )
