"""Every public page and every page a signed-in volunteer sees, checked by axe-core in a real browser on
a desktop (1366×768) and a phone (390×844), in the normal look and in 大字版 (large text, higher
contrast): no violation of impact "serious" or "critical", and no sideways scrolling of the page.

The data is the demo county (`manage.py seed_demo`), built once for the module with its own live server:
its volunteer 林晓燕 has sign-ups, records in every status, corrections, trainings and a ready certificate.
Each (viewport, mode, who) gets one browser context, reused by every page it visits.

To check a new page, add a line to PAGES: its name, how to build its URL from the demo data, and who signs
in (None for the public, "volunteer", or "leader"). A URL name that does not resolve yet is skipped.
"""

from __future__ import annotations

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
LARGE_TEXT_KEY = "portal.largeText"  # static/js/large-text.js


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[SimpleNamespace], str | None]  # from the demo data; None: the demo has nothing to show
    login: str | None = None  # None (public), "volunteer" or "leader"


def _at(name: str, *args) -> Callable[[SimpleNamespace], str]:
    return lambda demo: reverse(
        name, args=[getattr(demo, arg) if isinstance(arg, str) else arg for arg in args]
    )


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
    Page("register", _at("volunteers:register")),
    Page("honours", _at("awards:honours")),
    Page("request-new", _at("residents:new")),
    # Pages being built as this was written: each is skipped until its URL name and demo data exist.
    Page("news", _at("news")),
    Page(
        "news-report", lambda demo: demo.news_report_id and reverse("news-detail", args=[demo.news_report_id])
    ),
    Page("request-status", lambda demo: demo.request_status_url),
    # A signed-in volunteer.
    Page("me", _at("volunteers:me"), "volunteer"),
    Page("my-teams", _at("volunteers:my-teams"), "volunteer"),
    Page("team", _at("volunteers:team", "team_id"), "leader"),  # a team's page is its leader's
    Page("transfer", _at("volunteers:transfer"), "volunteer"),
    Page("activities-signed-in", _at("activities:list"), "volunteer"),
    Page("activity-signed-up", _at("activities:detail", "signed_up_activity_id"), "volunteer"),
    Page("my-activities", _at("activities:mine"), "volunteer"),
    Page("inbox", _at("activities:inbox"), "volunteer"),
    Page("my-records", _at("records:mine"), "volunteer"),
    Page("record-new", _at("records:new"), "volunteer"),
    Page("record-corrected", _at("records:record", "corrected_record_id"), "volunteer"),
    Page("record-rejected", _at("records:record", "rejected_record_id"), "volunteer"),
    Page("trainings", _at("records:trainings"), "volunteer"),
    Page("certificates", _at("records:certificates"), "volunteer"),
    # The team leader is a volunteer too: the approval queue with the corrections to decide.
    Page("queue", _at("records:queue"), "leader"),
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
        assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
        # conftest's MD5 hasher holds only inside each test; the demo's one password hash must match it.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", force=True, quiet=True, verbosity=0)
        data = _demo_data()
        data.sessions = {}
        for who, user in (("volunteer", data.volunteer_user), ("leader", data.leader_user)):
            client = Client()
            client.force_login(user)
            data.sessions[who] = client.cookies["sessionid"].value
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        data.server_url = server.url
        try:
            yield data
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            _close_other_sessions()


def _close_other_sessions() -> None:
    # The server thread's connection outlives it (conn_max_age), and would keep the test database
    # from being dropped at the end of the session.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


def _first_published_report_id() -> int | None:
    try:
        from activities.selectors import published_reports
    except ImportError:  # the reports are being built
        return None
    report = published_reports().first()
    return report.pk if report else None


def _demo_request_status_url() -> str | None:
    """The status page of the demo's request whose link the demo prints (residents/demo_data.py)."""
    try:
        from residents import demo_data

        return reverse("residents:status", args=[demo_data.demo_token(demo_data.LINK_RESIDENT)])
    except (ImportError, AttributeError, NoReverseMatch):
        return None


def _demo_data() -> SimpleNamespace:
    from activities.models import Activity, ActivityStatus, Signup, SignupStatus
    from kernel import inbox
    from projects import selectors as project_selectors
    from projects.models import KeyProjectList
    from records import certificates
    from records.demo_data import LEADER_PHONE, VOLUNTEER_PHONE
    from records.models import Certificate, CertificateStatus, RecordStatus, ServiceRecord
    from stations.models import Unit, UnitKind
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
        team_id=membership.team_id if membership else None,
        news_report_id=_first_published_report_id(),
        request_status_url=_demo_request_status_url(),
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
                context.add_cookies(
                    [{"name": "sessionid", "value": demo.sessions[who], "url": demo.server_url}]
                )
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
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in result["violations"] if violation["impact"] in FAILING_IMPACTS]


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
