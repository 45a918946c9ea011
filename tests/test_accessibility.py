"""Every public page and every page a signed-in volunteer sees, checked by axe-core in a real browser on
a desktop (1366×768) and a phone (390×844), in the normal look and in 大字版 (large text, higher
contrast): no violation of impact "serious" or "critical" (nor an ARIA reference to an element missing
from the page, which axe only leaves to review), and no sideways scrolling of the page.

The data is the demo county (`manage.py seed_demo`), built once for the module with its own live server:
its volunteer 林晓燕 has sign-ups, records in every status, corrections, trainings and a ready certificate.
Each (viewport, mode, who) gets one browser context, reused by every page it visits.

To check a new page, add a line to PAGES: its name, how to build its URL from the demo data, and who signs
in (None for the public, "volunteer", "leader", "staff" or "scanner"). A URL name that does not resolve yet
is skipped. A page can name what it must show (`shows`), so a state the demo lost fails instead of passing
on an emptier page; and a submit button to press with nothing filled in (`submit`), to check the page the
form comes back as, with its errors.

Who opens what: the team leader (陈志强) organises the demo's activities, so the workbench, roster, QR
screen and report are his; the month-by-month page (activities:compliance) is a 404 to every volunteer,
team leaders too, and opens for the units' staff only, here the station admin (刘海峰). The check-in scan
is seen by a volunteer accepted for today's activity; only a first scan checks in (and offers to share
the location), so each browser context scans as a volunteer of its own.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import NoReverseMatch, reverse

from tests.browser import VIEWPORTS

# The marker makes pytest-django create the test database; the module's data is committed before any
# test's transaction begins, so the live server (its own connection) sees it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
MODES = ("normal", "large")
FAILING_IMPACTS = {"serious", "critical"}
# axe leaves an ARIA reference to an id missing from the page "to review", as the element might come later;
# on these pages nothing comes later: it is a field whose help text never got its id, and it fails too.
FAILING_REVIEWS = {"aria-valid-attr-value"}
LARGE_TEXT_KEY = "portal.largeText"  # static/js/large-text.js


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[SimpleNamespace], str | None]  # from the demo data; None: the demo has nothing to show
    login: str | None = None  # None (public), "volunteer", "leader", "staff" or "scanner"
    shows: str | None = None  # a selector the page checked must match
    submit: str | None = None  # a button pressed with nothing filled in: the answer is the page checked


def _at(name: str, *args) -> Callable[[SimpleNamespace], str | None]:
    def url(demo) -> str | None:
        values = [getattr(demo, arg) if isinstance(arg, str) else arg for arg in args]
        return None if None in values else reverse(name, args=values)

    return url


def _scan(activity: str) -> Callable[[SimpleNamespace], str]:
    """The link in an activity's QR code, made as the page opens: its token is of the current window."""

    def url(demo) -> str:
        from activities import checkin

        activity_id = getattr(demo, activity)
        return reverse("activities:scan", args=[activity_id, checkin.token_for(activity_id)])

    return url


PAGES = [
    # The public.
    Page("home", _at("home")),
    Page("unit-institute", _at("public-unit", "institute_id")),
    Page("unit-station", _at("public-unit", "station_id")),
    Page("activities", _at("activities:list")),
    Page("activity", _at("activities:detail", "activity_id")),
    Page("projects", _at("projects:list")),
    Page("project", lambda demo: demo.project_id and reverse("projects:detail", args=[demo.project_id])),
    Page("key-list", lambda demo: demo.key_list_id and reverse("projects:key-list", args=[demo.key_list_id])),
    Page("certificate-verify", lambda demo: demo.verify_url),
    Page("login", _at("volunteers:login")),
    Page("login-errors", _at("volunteers:login"), submit="#password-login [type=submit]", shows=".errorlist"),
    Page("register", _at("volunteers:register")),
    Page("register-errors", _at("volunteers:register"), submit="#register", shows=".errorlist"),
    Page("honours", _at("awards:honours")),
    Page("honours-year", _at("awards:year", "honours_year"), shows=".pub-roll"),
    Page("request-new", _at("residents:new")),
    Page("request-new-errors", _at("residents:new"), submit="#submit-request", shows=".rq-error"),
    Page("news", _at("news")),
    Page(
        "news-report", lambda demo: demo.news_report_id and reverse("news-detail", args=[demo.news_report_id])
    ),
    # A resident's private link: waiting for the rating, the rating sent empty, served, and rated.
    Page("request-status", lambda demo: demo.request_status_urls["completed"], shows="#rating-form"),
    Page(
        "request-rating-errors",
        lambda demo: demo.request_status_urls["completed"],
        submit="#submit-rating",
        shows="#rating-form .rq-error",
    ),
    Page("request-serving", lambda demo: demo.request_status_urls["serving"], shows="#activities"),
    Page("request-rated", lambda demo: demo.request_status_urls["rated"], shows="#rating"),
    # A signed-in volunteer.
    Page("me", _at("volunteers:me"), "volunteer"),
    Page("my-teams", _at("volunteers:my-teams"), "volunteer"),
    Page("team", _at("volunteers:team", "team_id"), "leader"),  # a team's page is its leader's
    Page("transfer", _at("volunteers:transfer"), "volunteer"),
    Page("activities-signed-in", _at("activities:list"), "volunteer"),
    Page("activity-signed-up", _at("activities:detail", "signed_up_activity_id"), "volunteer"),
    Page("my-activities", _at("activities:mine"), "volunteer"),
    Page("inbox", _at("activities:inbox"), "volunteer"),
    # The scan page sends the check-in by itself: checked in, offered to share the location; and refused,
    # the code of an activity days away. (Signed out, the scan is the login page.)
    Page("scan-checked-in", _scan("today_activity_id"), "scanner", shows="#location-card"),
    Page("scan-refused", _scan("coming_activity_id"), "volunteer", shows="#scan-refusal"),
    Page("my-records", _at("records:mine"), "volunteer"),
    Page("record-new", _at("records:new"), "volunteer"),
    Page("record-new-errors", _at("records:new"), "volunteer", submit="#submit-record", shows=".errorlist"),
    Page("record-pending", _at("records:record", "pending_record_id"), "volunteer", shows="#withdraw"),
    Page("record-corrected", _at("records:record", "corrected_record_id"), "volunteer"),
    Page("record-rejected", _at("records:record", "rejected_record_id"), "volunteer"),
    Page("trainings", _at("records:trainings"), "volunteer"),
    Page("certificates", _at("records:certificates"), "volunteer"),
    # The team leader is a volunteer too: the approval queue with the corrections to decide, a record to
    # decide (and rejected without a reason), and the workbench of the activities he organises.
    Page("queue", _at("records:queue"), "leader"),
    Page("record-to-decide", _at("records:record", "pending_record_id"), "leader", shows="#approve-form"),
    Page(
        "record-reject-errors",
        _at("records:record", "pending_record_id"),
        "leader",
        submit="#reject",
        shows="#reject-form .errorlist",
    ),
    Page("workbench", _at("activities:workbench"), "leader", shows="#missing-reports .wb-missing"),
    Page("roster", _at("activities:roster", "today_activity_id"), "leader", shows="#roster-rows .wb-person"),
    Page(
        "roster-held",
        _at("activities:roster", "unreported_activity_id"),
        "leader",
        shows="#roster-rows .status-flagged",
    ),
    Page("qr", _at("activities:qr", "today_activity_id"), "leader", shows="#qr-image"),
    Page("report", _at("activities:report", "unreported_activity_id"), "leader", shows="#report-form"),
    Page(
        "report-errors",
        _at("activities:report", "unreported_activity_id"),
        "leader",
        submit="#submit-report",
        shows="#report-form .errorlist",
    ),
    Page(
        "report-written", _at("activities:report", "reported_activity_id"), "leader", shows="#stored-photos"
    ),
    # The units' staff: the month-by-month page, in the portal's look (a 404 to volunteers).
    Page("compliance", _at("activities:compliance"), "staff", shows="#matrix"),
]


# ---- the demo county and its server, once for the module ------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo county in the test database, and a live server on it. Made outside any test's
    transaction (so the server sees it), and flushed when the module is done."""
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        from django.db import connection

        # Never the developer's database: the module flushes what it made.
        name = connection.settings_dict["NAME"]
        assert name == connection.creation._get_test_db_name(), name
        # What the migrations put in (the privacy notice, the award kinds…): the flush at the end takes it
        # with the demo, and the tests after this module on the same worker expect it back.
        migrated = connection.creation.serialize_db_to_string()
        # conftest's MD5 hasher holds only inside each test; the demo's one password hash must match it.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", force=True, quiet=True, verbosity=0)
        data = _demo_data()

        def session_of(user) -> str:
            client = Client()
            client.force_login(user)
            return client.cookies["sessionid"].value

        data.sessions = {
            "volunteer": session_of(data.volunteer_user),
            "leader": session_of(data.leader_user),
            "staff": session_of(data.staff_user),
            "scanner": {
                key: session_of(user) for key, user in zip(_context_keys(), data.scanner_users, strict=True)
            },
        }
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        data.server_url = server.url
        try:
            yield data
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(migrated)
            _close_other_sessions()


def _close_other_sessions() -> None:
    # The server thread's connection outlives it (conn_max_age), and would keep the test database
    # from being dropped at the end of the session.
    from django.db import connection

    if connection.vendor != "postgresql":  # SQLite's test database is in memory, shared by the thread
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


def _context_keys() -> list[tuple[str, str]]:
    return [(viewport, mode) for viewport in VIEWPORTS for mode in MODES]


def _first_published_report_id() -> int | None:
    try:
        from activities.selectors import published_reports
    except ImportError:  # the reports are being built
        return None
    report = published_reports().first()
    return report.pk if report else None


def _demo_request_status_urls() -> dict[str, str]:
    """The private status page of the demo's request left in each status (residents/demo_data.py)."""
    from residents import demo_data

    return {
        status: reverse("residents:status", args=[demo_data.demo_token(resident)])
        for resident, _phone, _code, _need, status in demo_data.REQUESTS
    }


def _scanner_users(activity, count: int) -> list:
    """`count` volunteers accepted for today's activity who have not checked in, one per browser context:
    only a first scan checks in. The demo accepts a few; the rest are other volunteers, accepted here.
    Never the two demo logins, whose pages the other checks look at."""
    from django.db.models import F
    from django.utils import timezone

    from activities.models import Activity, Signup, SignupStatus
    from records.demo_data import LEADER_PHONE, VOLUNTEER_PHONE
    from volunteers.models import Volunteer, VolunteerStatus

    people = (
        Volunteer.objects.filter(status=VolunteerStatus.ACTIVE, user__isnull=False)
        .exclude(phone__in=[VOLUNTEER_PHONE, LEADER_PHONE])
        .select_related("user")
        .order_by("phone")
    )
    waiting = people.filter(signups__activity=activity, signups__status=SignupStatus.ACCEPTED).exclude(
        attendances__activity=activity
    )
    scanners = list(waiting[:count])
    for volunteer in people.exclude(signups__activity=activity)[: count - len(scanners)]:
        Signup.objects.create(
            activity=activity, volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=timezone.now()
        )
        Activity.objects.filter(pk=activity.pk).update(accepted_count=F("accepted_count") + 1)
        scanners.append(volunteer)
    assert len(scanners) == count, f"only {len(scanners)} volunteers to scan {activity.title}"
    return [volunteer.user for volunteer in scanners]


def _demo_data() -> SimpleNamespace:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from activities.demo_data import PAST, TODAY_TITLE
    from activities.models import Activity, ActivityStatus, Signup, SignupStatus
    from awards.selectors import honour_years
    from kernel import inbox
    from projects import selectors as project_selectors
    from projects.models import KeyProjectList
    from records import certificates
    from records.demo_data import LEADER_PHONE, VOLUNTEER_PHONE
    from records.models import Certificate, CertificateStatus, RecordStatus, ServiceRecord
    from stations import demo_data as units_demo
    from stations.models import Role, Unit, UnitKind
    from volunteers.models import MembershipRole, MembershipStatus, TeamMembership, Volunteer

    volunteer = Volunteer.objects.select_related("user").get(phone=VOLUNTEER_PHONE)
    leader = Volunteer.objects.select_related("user").get(phone=LEADER_PHONE)
    institute = (
        Unit.objects.filter(kind=UnitKind.INSTITUTE, children__isnull=False).distinct().order_by("pk").first()
    )
    station = volunteer.home_unit
    signup = (
        Signup.objects.filter(volunteer=volunteer, status=SignupStatus.ACCEPTED).order_by("pk").first()
        or Signup.objects.filter(volunteer=volunteer).order_by("pk").first()
    )
    coming = (
        Signup.objects.filter(
            volunteer=volunteer,
            status=SignupStatus.ACCEPTED,
            activity__started_at__gt=timezone.now() + datetime.timedelta(days=1),
        )
        .order_by("activity__started_at")
        .first()
    )
    activity = (
        Activity.objects.filter(status=ActivityStatus.PUBLISHED).order_by("started_at").first()
        or Activity.objects.order_by("pk").first()
    )
    project = project_selectors.public_projects(domain_id=None).first()
    key_list = KeyProjectList.objects.order_by("pk").first()
    certificate = (
        Certificate.objects.filter(volunteer=volunteer, status=CertificateStatus.READY).order_by("pk").first()
    )
    mine = ServiceRecord.objects.filter(volunteer=volunteer).order_by("pk")
    corrected = mine.filter(corrections__isnull=False).first() or mine.first()
    rejected = mine.filter(status=RecordStatus.REJECTED).first() or mine.first()
    pending = mine.filter(status=RecordStatus.PENDING).first()
    # The leader's: today's activity, the last one held (its report overdue) and one reported with photos.
    led = Activity.objects.filter(organiser_links__user=leader.user).order_by("pk")
    today = led.get(title=TODAY_TITLE)
    unreported = led.filter(title__in=[title for title, *_ in PAST], report__isnull=True).latest("ended_at")
    reported = led.filter(report__photos__isnull=False).distinct().first()
    staff_username = next(a.username for a in units_demo.ACCOUNTS if a.role == Role.STATION_ADMIN)
    years = [row["year"] for row in honour_years()]
    membership = (
        TeamMembership.objects.filter(
            volunteer=leader, role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE
        )
        .order_by("pk")
        .first()
    )
    # The inbox: one read notice and two unread, one of them with a link.
    inbox.notify([volunteer.user], subject="活动时间调整：社区环境整治改到周六上午", body="请按新时间到场。")
    inbox.mark_read(volunteer.user)
    inbox.notify(
        [volunteer.user],
        subject="候补转正：您已报名成功",
        body="有志愿者取消报名，您已从候补转为正式报名。",
        url=reverse("activities:detail", args=[activity.pk]),
    )
    inbox.notify([volunteer.user], subject="服务时长已审核通过", url=reverse("records:mine"))
    return SimpleNamespace(
        volunteer_user=volunteer.user,
        leader_user=leader.user,
        institute_id=institute.pk,
        station_id=station.pk,
        activity_id=activity.pk,
        signed_up_activity_id=(signup.activity_id if signup else activity.pk),
        project_id=project.pk if project else None,
        key_list_id=key_list.pk if key_list else None,
        verify_url=certificates.verify_url(certificate) if certificate else None,
        corrected_record_id=corrected.pk,
        rejected_record_id=rejected.pk,
        pending_record_id=pending.pk if pending else None,
        staff_user=get_user_model().objects.get(username=staff_username),
        scanner_users=_scanner_users(today, len(_context_keys())),
        today_activity_id=today.pk,
        coming_activity_id=coming.activity_id if coming else None,
        unreported_activity_id=unreported.pk,
        reported_activity_id=reported.pk if reported else None,
        # The index shows the latest year whole; the year page is checked with the one before it.
        honours_year=years[1] if len(years) > 1 else (years[0] if years else None),
        team_id=membership.team_id if membership else None,
        news_report_id=_first_published_report_id(),
        request_status_urls=_demo_request_status_urls(),
    )


@pytest.fixture(scope="module")
def contexts(browser, browser_context_args, demo):
    """One browser context per (viewport, mode, who), made when first asked for."""
    made = {}

    def context_for(viewport: str, mode: str, who: str | None):
        key = (viewport, mode, who)
        if key not in made:
            context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS[viewport]})
            if mode == "large":
                # As if the switch had been pressed on an earlier visit.
                context.add_init_script(
                    f"try{{localStorage.setItem({json.dumps(LARGE_TEXT_KEY)},'1')}}catch(e){{}}"
                )
            if who:
                session = demo.sessions[who]
                if isinstance(session, dict):  # one person for each context
                    session = session[viewport, mode]
                context.add_cookies([{"name": "sessionid", "value": session, "url": demo.server_url}])
            made[key] = context
        return made[key]

    yield context_for
    for context in made.values():
        context.close()


def _url(page: Page, demo) -> str:
    try:
        path = page.url(demo)
    except NoReverseMatch as error:
        pytest.skip(f"{page.name}: its URL name does not resolve yet ({error})")
    except AttributeError as error:
        pytest.skip(f"{page.name}: the demo data has nothing for it ({error})")
    if not path:
        pytest.skip(f"{page.name}: no URL for it in the demo data yet")
    return demo.server_url + path


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = []
        for node in violation["nodes"]:
            why = (node.get("failureSummary") or "").strip().splitlines()
            targets.append(" ".join(map(str, node["target"])) + (f" — {why[-1].strip()}" if why else ""))
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    {violation['helpUrl']}\n" + "".join(f"    at {target}\n" for target in targets[:8])
        )
    return "\n".join(lines)


def _axe(tab) -> list[dict]:
    tab.add_script_tag(path=str(AXE_JS))
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations', 'incomplete']})")
    found = result["violations"] + [item for item in result["incomplete"] if item["id"] in FAILING_REVIEWS]
    return [violation for violation in found if violation["impact"] in FAILING_IMPACTS]


# ---- the pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("page_spec", PAGES, ids=[page.name for page in PAGES])
def test_page_has_no_serious_accessibility_violations(page_spec, mode, viewport, demo, contexts, output_path):
    url = _url(page_spec, demo)
    tab = contexts(viewport, mode, page_spec.login).new_page()
    try:
        response = tab.goto(url, wait_until="load")
        assert response is not None and response.status < 400, f"{url}: HTTP {response and response.status}"
        if page_spec.login:
            assert "/volunteer/login/" not in tab.url, f"{page_spec.name}: sent to the login page"
        if page_spec.submit:
            with tab.expect_navigation(wait_until="load") as sent:
                tab.click(page_spec.submit)
            answer = sent.value
            assert answer is not None and answer.status < 400, f"{url}: HTTP {answer and answer.status}"
        if page_spec.shows:
            # A page's own script may send a form (the scan page does): wait for the answer.
            tab.locator(page_spec.shows).first.wait_for(state="attached", timeout=10_000)
            tab.wait_for_load_state("load")
        large = tab.evaluate("document.documentElement.classList.contains('large-text')")
        assert large == (mode == "large")
        root_px = tab.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        assert root_px >= 19.5 if large else root_px < 17, f"root font size {root_px}px in {mode} mode"
        toggle = tab.locator("#large-text-toggle")
        assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == ("true" if large else "false")
        assert tab.locator("main#content").count() == 1

        tab.screenshot(path=f"{output_path}/a11y-{page_spec.name}-{viewport}-{mode}.png", full_page=True)
        widths = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (
            f"{page_spec.name} scrolls sideways: {widths[0]}px wide in {widths[1]}px"
        )
        violations = _axe(tab)
        assert not violations, f"{page_spec.name} ({viewport}, {mode}) at {url}:\n{_describe(violations)}"
    finally:
        tab.close()


# ---- the 大字版 switch itself ----------------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_large_text_switch_is_remembered_and_grows_the_text(viewport, demo, browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS[viewport]})
    try:
        tab = context.new_page()
        tab.goto(f"{demo.server_url}/")
        font_px = "parseFloat(getComputedStyle(document.body).fontSize)"
        normal = tab.evaluate(font_px)
        toggle = tab.locator("#large-text-toggle")
        assert toggle.get_attribute("aria-pressed") == "false"
        assert toggle.evaluate("element => element.tagName") == "BUTTON"
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "true"
        assert tab.evaluate(font_px) >= normal * 1.2

        # Remembered across a page load, on the volunteers' pages too, and applied before first paint:
        # the class is on <html> when the document is first parsed, before any deferred script ran.
        context.add_init_script(
            "document.addEventListener('readystatechange', () => { if (document.readyState === 'interactive')"
            " window.__largeAtParse = document.documentElement.classList.contains('large-text'); });"
        )
        for path in ("/", reverse("activities:list"), reverse("volunteers:login")):
            tab.goto(f"{demo.server_url}{path}")
            assert tab.evaluate("window.__largeAtParse") is True, path
            assert tab.locator("#large-text-toggle").get_attribute("aria-pressed") == "true", path
            assert tab.evaluate(font_px) >= normal * 1.2, path

        # The admin has its own base: not touched.
        tab.goto(f"{demo.server_url}/admin/login/")
        assert tab.evaluate("document.documentElement.classList.contains('large-text')") is False
        assert tab.locator("#large-text-toggle").count() == 0

        # Off again, and remembered off.
        tab.goto(f"{demo.server_url}/")
        tab.locator("#large-text-toggle").click()
        tab.reload()
        assert tab.evaluate("document.documentElement.classList.contains('large-text')") is False
        assert tab.locator("#large-text-toggle").get_attribute("aria-pressed") == "false"
        assert tab.evaluate(font_px) == normal
    finally:
        context.close()


def test_skip_link_leads_to_the_content(demo, browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS["desktop"]})
    try:
        tab = context.new_page()
        for path in ("/", reverse("volunteers:login")):
            tab.goto(f"{demo.server_url}{path}")
            tab.keyboard.press("Tab")
            focused = tab.evaluate(
                "[document.activeElement.className, document.activeElement.getAttribute('href')]"
            )
            assert focused == ["skip-link", "#content"], path
            assert tab.locator(".skip-link").is_visible()
            assert tab.locator('meta[name="description"]').get_attribute("content")
    finally:
        context.close()
