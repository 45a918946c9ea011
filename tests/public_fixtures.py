"""What the public site's tests share: a county with an upcoming activity, a draft, a finished activity
with a published report and photos, an unpublished report, a brand project and two awarded volunteers."""

import datetime
import io
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from activities.models import ActivityReport, ActivityReportPhoto
from activities.tests.factories import at, make_activity, write_activity
from awards.tests.factories import give
from projects import services as projects
from projects.models import ProjectStatus
from volunteers.models import Volunteer
from volunteers.tests.factories import make_volunteer, next_id_number, next_phone


def jpeg(name="photo.jpg", size=(64, 48), color=(200, 40, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def published_report(activity, text="为村里老人义诊，测量血压。", people_served=86, photos=1, when=None):
    report = ActivityReport.objects.create(
        activity=activity,
        text=text,
        people_served=people_served,
        published_at=when or timezone.now(),
    )
    for position in range(photos):
        ActivityReportPhoto.objects.create(
            report=report,
            image=jpeg(f"p{position}.jpg", (640, 480)),
            thumbnail=jpeg(f"t{position}.jpg"),
            caption=f"现场照片{position + 1}",
            position=position,
        )
    return report


def public_site(tree):
    now = timezone.now()
    organiser = make_volunteer(tree.a1, "周组织").user
    upcoming = make_activity(tree.a1, "重阳节敬老志愿服务", start=at(days=3), organisers=[organiser])
    draft = make_activity(
        tree.a1, "尚未发布的草稿活动", start=at(days=4), publish=False, organisers=[organiser]
    )
    held = write_activity(
        tree.a1,
        start=now - datetime.timedelta(days=3),
        status="finished",
        title="乡村义诊进万家",
        published_at=now - datetime.timedelta(days=10),
        finished_at=now - datetime.timedelta(days=2),
    )
    held_unpublished = write_activity(
        tree.b1, start=now - datetime.timedelta(days=4), status="finished", title="乙村环境整治"
    )
    report = published_report(held, photos=2)
    hidden = ActivityReport.objects.create(
        activity=held_unpublished, text="尚未发布的报告内容", people_served=5
    )
    brand = projects.project_create(actor=None, unit=tree.center, name="红马甲理论宣讲", is_brand=True)
    projects.project_transition(actor=None, project=brand, to=ProjectStatus.PUBLISHED)
    ids, phones = [next_id_number(), next_id_number()], [next_phone(), next_phone()]
    shown = make_volunteer(tree.a1, "林小明", id_number=ids[0], phone=phones[0])
    masked = make_volunteer(tree.b1, "王大力", id_number=ids[1], phone=phones[1])
    Volunteer.objects.filter(pk=shown.pk).update(public_name=True)
    give("最美志愿者", giving_unit=tree.center, volunteer=shown, year=now.year)
    give("最美志愿者", giving_unit=tree.center, volunteer=masked, year=now.year)
    return SimpleNamespace(
        upcoming=upcoming,
        draft=draft,
        held=held,
        report=report,
        hidden=hidden,
        brand=brand,
        shown=Volunteer.objects.get(pk=shown.pk),
        masked=masked,
        secrets=[*ids, *phones, shown.id_number_masked, masked.id_number_masked, masked.name],
    )
