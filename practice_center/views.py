"""Portal-level pages that read every app: the home page, the news (activity reports published by staff),
the Atom feed, the sitemap and robots.txt. No login; every page is a fixed number of queries, and the news
pages are kept for visitors in the page cache under the name the activities services drop
(activities.services.NEWS_PAGE) when a report is published, changed or taken down; the home page and the
feed, which show activities too, also under the public activity list's (LIST_PAGE)."""

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from activities.selectors import public_activities, published_report, published_reports
from activities.services import LIST_PAGE, NEWS_PAGE
from kernel import pagecache
from projects.models import Project
from stations.selectors import county_name, public_institutes, public_network_totals

from .feeds import PublicFeed
from .sitemaps import SITEMAPS

FAVICON = settings.BASE_DIR / "static" / "img" / "favicon.ico"

HOME_ACTIVITIES = 4
HOME_PROJECTS = 6
HOME_REPORTS = 4
NEWS_PAGE_SIZE = 12
NEWS_CACHED_PAGES = 5


def _residents_request_url() -> str | None:
    """The residents' request form (点单), once that app's page exists."""
    try:
        return reverse("residents:new")
    except NoReverseMatch:
        return None


def _with_cover(reports) -> list:
    """Each report with `cover`, its first photo (the photos are prefetched in order), or None."""
    reports = list(reports)
    for report in reports:
        photos = list(report.photos.all())
        report.cover = photos[0] if photos else None
    return reports


def _home_data() -> dict:
    activities = public_activities()
    upcoming = list(
        activities.rows.filter(pk__in=activities.upcoming.values("pk")[:HOME_ACTIVITIES]).order_by(
            "started_at", "id"
        )
    )
    for activity in upcoming:
        activity.starts = timezone.localtime(activity.started_at).strftime("%m-%d %H:%M")
    brands = list(
        Project.objects.public()
        .brand()
        .open()
        .select_related("unit")
        .only("id", "name", "description", "status", "unit__name")
        .order_by("-id")[:HOME_PROJECTS]
    )
    return {
        "institutes": list(public_institutes()),
        "totals": public_network_totals(),
        "activities": upcoming,
        "brand_projects": brands,
        "reports": _with_cover(published_reports()[:HOME_REPORTS]),
    }


@pagecache.cached_for_visitors((NEWS_PAGE, LIST_PAGE), lambda request: None if request.GET else "home")
def home(request):
    return render(
        request,
        "home.html",
        {
            "home": _home_data(),
            "county_name": county_name(),
            "request_url": _residents_request_url(),
        },
    )


def _news_page_key(request) -> str | None:
    if set(request.GET) - {"page"} or len(request.GET.getlist("page")) > 1:
        return None
    value = request.GET.get("page", "1")
    return f"news:page={value}" if value.isdigit() and 1 <= int(value) <= NEWS_CACHED_PAGES else None


@pagecache.cached_for_visitors(NEWS_PAGE, _news_page_key)
def news_list(request):
    page = Paginator(published_reports(), NEWS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public/news_list.html", {"page": page, "reports": _with_cover(page.object_list)})


@pagecache.cached_for_visitors(
    NEWS_PAGE, lambda request: f"news:{request.resolver_match.kwargs['report_id']}"
)
def news_detail(request, report_id: int):
    report = published_report(report_id)
    if report is None:
        raise Http404
    return render(
        request,
        "public/news_detail.html",
        {"report": report, "photos": list(report.photos.all()), "activity": report.activity},
    )


feed = pagecache.cached_for_visitors((NEWS_PAGE, LIST_PAGE), lambda request: None if request.GET else "feed")(
    PublicFeed()
)


@require_safe
def sitemap_index(request):
    return sitemap_views.index(
        request, SITEMAPS, template_name="public/sitemap_index.xml", sitemap_url_name="sitemap-section"
    )


@require_safe
def sitemap_section(request, section: str):
    return sitemap_views.sitemap(request, SITEMAPS, section=section, template_name="public/sitemap.xml")


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /volunteer/",
        "Disallow: /records/",
        "Disallow: /requests/status/",
        "Disallow: /activities/workbench/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; it changes perhaps once a year.
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=2592000"
    return response
