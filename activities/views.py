"""The activities' public and volunteer pages (phone-sized): the list and an activity's page (public),
signing up and cancelling, the check-in scan and sharing the location, my activities and the inbox.
Thin: every write is a service of activities.services, every read a selector."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel import inbox, pagecache
from kernel.errors import ApplicationError
from kernel.models import Notification
from volunteers.models import Volunteer
from volunteers.views import volunteer_page

from . import selectors, services
from .forms import ActivityFilterForm
from .models import ActivityStatus, Attendance, SignupStatus

PAGE_SIZE = 50


def _volunteer_of(request) -> Volunteer | None:
    if not request.user.is_authenticated:
        return None
    return Volunteer.objects.of_user(request.user).first()


def _public_or_404(activity_id: int):
    activity = selectors.public_activity(activity_id)
    if activity is None:
        raise Http404
    return activity


def _login_url(next_url: str) -> str:
    return f"{reverse('volunteers:login')}?{urlencode({'next': next_url})}"


def _refusal(request, error: ApplicationError) -> None:
    for message in _messages_of(error):
        messages.error(request, message)


# The list counts at least this many rows each load; past that it shows a lower bound ("1000+").
COUNT_LIMIT = 1000
# The pages counted past the one asked for, so that "Next" is offered as far as there are rows.
PAGES_AHEAD = 10


# The list's pages kept for visitors (kernel.pagecache): the first few of the whole list, where visitors land
# and crawlers follow "Next". A filtered list, or a page further down, is made for its request.
CACHED_PAGES = 10


def _cached_page(request) -> str | None:
    """The page's name in the cache: "page=<n>" for one of the first CACHED_PAGES of the unfiltered list,
    asked for in its plain form; None for any other request."""
    if set(request.GET) - {"page"} or len(request.GET.getlist("page")) > 1:
        return None
    value = request.GET.get("page", "1")
    number = _page_number(value)
    return f"page={number}" if value == str(number) and number <= CACHED_PAGES else None


@pagecache.cached_for_visitors(services.LIST_PAGE, _cached_page)
def activity_list(request):
    form = ActivityFilterForm(request.GET or None)
    number = _page_number(request.GET.get("page"))
    count_limit = max(COUNT_LIMIT, (number + PAGES_AHEAD) * PAGE_SIZE)
    activities = selectors.public_activities(**form.filters(), count_limit=count_limit)
    page = Paginator(activities, PAGE_SIZE).get_page(number)
    # What a row shows, made once per status and per row here rather than by a template filter per row
    # (`get_status_display` and `date` are most of a row's rendering time).
    labels = {value: str(label) for value, label in ActivityStatus.choices}
    for activity in page.object_list:
        activity.status_label = labels[activity.status]
        activity.starts = timezone.localtime(activity.started_at).strftime("%Y-%m-%d %H:%M")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activities/list.html",
        {
            "form": form,
            "page": page,
            "activities": page.object_list,
            "count_exact": activities.count_exact,
            "query": query.urlencode(),
            "nav": "activities",
        },
    )


# The last page asked for that counts further (50,000 rows at most a part); one further is counted to it.
MAX_PAGE = 1000


def _page_number(value) -> int:
    """The page asked for: 1 when not a positive number, at most MAX_PAGE; one past the last is the
    Paginator's to clamp."""
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError, OverflowError):
        return 1


def activity_detail(request, activity_id: int):
    activity = _public_or_404(activity_id)
    volunteer = _volunteer_of(request)
    signup = selectors.signup_of(activity, volunteer) if volunteer is not None else None
    now = timezone.now()
    deadline = services.cancel_deadline(activity)
    active = signup is not None and signup.status != SignupStatus.CANCELLED
    return render(
        request,
        "activities/detail.html",
        {
            "activity": activity,
            "volunteer": volunteer,
            "signup": signup,
            "signed_up": active,
            "refusal": services.signup_refusal(activity, now=now),
            "may_cancel": active and activity.status == ActivityStatus.PUBLISHED and now < deadline,
            "cancel_deadline": deadline,
            "login_url": _login_url(request.get_full_path()),
            "nav": "activities",
        },
    )


@require_POST
@volunteer_page
def signup(request, activity_id: int):
    activity = _public_or_404(activity_id)
    try:
        result = services.signup_create(actor=request.user, activity=activity, volunteer=request.volunteer)
    except ApplicationError as error:
        _refusal(request, error)
    else:
        if result.status == SignupStatus.ACCEPTED:
            messages.success(request, _("You are signed up."))
        else:
            messages.success(request, _("The activity is full: you are on the waitlist."))
    return redirect("activities:detail", activity.pk)


@require_POST
@volunteer_page
def signup_cancel(request, activity_id: int):
    activity = _public_or_404(activity_id)
    signup = selectors.signup_of(activity, request.volunteer)
    if signup is None:
        raise Http404
    try:
        services.signup_cancel(actor=request.user, signup=signup)
    except ApplicationError as error:
        _refusal(request, error)
    else:
        messages.success(request, _("Your sign-up is cancelled."))
    return redirect("activities:detail", activity.pk)


@volunteer_page
def scan(request, activity_id: int, token: str):
    activity = _public_or_404(activity_id)
    context = {"activity": activity, "token": token, "nav": "activities"}
    if request.method != "POST":
        return render(request, "activities/scan.html", {**context, "pending": True})
    try:
        attendance, outcome = services.attendance_scan(actor=request.user, activity=activity, token=token)
    except ApplicationError as error:
        return render(request, "activities/scan.html", {**context, "refusal": "; ".join(_messages_of(error))})
    return render(
        request,
        "activities/scan.html",
        {
            **context,
            "attendance": attendance,
            "outcome": outcome,
            "offer_location": outcome == services.ScanOutcome.CHECKED_IN
            and attendance.location_consented_at is None,
        },
    )


def _messages_of(error: ApplicationError) -> list[str]:
    return [message for _field, message in error.field_errors()]


@require_POST
@volunteer_page
def attendance_location(request, activity_id: int):
    activity = _public_or_404(activity_id)
    attendance = get_object_or_404(Attendance, activity=activity, volunteer=request.volunteer)
    if request.POST.get("consent") != "yes":
        messages.error(request, _("Your location is shared only when you agree to it."))
        return redirect("activities:detail", activity.pk)
    try:
        services.attendance_location_add(
            actor=request.user,
            attendance=attendance,
            latitude=request.POST.get("latitude"),
            longitude=request.POST.get("longitude"),
        )
    except ApplicationError as error:
        _refusal(request, error)
    else:
        messages.success(request, _("Thank you: your location is stored with this check-in only."))
    return redirect("activities:detail", activity.pk)


@volunteer_page
def mine(request):
    now = timezone.now()
    signups = list(selectors.my_signups(request.volunteer))
    for item in signups:
        item.attendance_row = item.attendance if _has_attendance(item) else None
    upcoming = [item for item in signups if item.activity.ended_at > now]
    upcoming.reverse()
    past = [item for item in signups if item.activity.ended_at <= now]
    return render(
        request, "activities/mine.html", {"upcoming": upcoming, "past": past, "nav": "my-activities"}
    )


def _has_attendance(signup) -> bool:
    try:
        return signup.attendance is not None
    except Attendance.DoesNotExist:
        return False


@volunteer_page
def inbox_page(request):
    notifications = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    unread = {row.pk for row in rows if row.read_at is None}
    if unread:
        inbox.mark_read(request.user, ids=unread)
    return render(
        request,
        "activities/inbox.html",
        {"page": page, "notifications": rows, "unread": unread, "nav": "inbox"},
    )
