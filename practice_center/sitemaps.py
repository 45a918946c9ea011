"""The public site's sitemap (django.contrib.sitemaps): an index at /sitemap.xml, one section each for the
fixed pages, the activities, the news, the projects and the honour rolls. Each section reads ids and dates
only, newest first, 5,000 to a page."""

from __future__ import annotations

from django.contrib import sitemaps
from django.db.models import Max
from django.urls import reverse

from activities.models import Activity, ActivityReport
from awards.selectors import honour_years
from projects.models import Project


class PublicPages(sitemaps.Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return ["home", "news", "activities:list", "projects:list", "awards:honours"]

    def location(self, item):
        return reverse(item)


class _Rows(sitemaps.Sitemap):
    limit = 5000
    changefreq = "weekly"
    url_name = ""

    def location(self, item):
        return reverse(self.url_name, args=[item.pk])

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # Django's default reads every item for the index; one aggregate does.
        return self.items().order_by().aggregate(latest=Max("updated_at"))["latest"]


class ActivityPages(_Rows):
    url_name = "activities:detail"

    def items(self):
        return Activity.objects.public().only("id", "updated_at").order_by("-id")


class NewsPages(_Rows):
    url_name = "news-detail"

    def items(self):
        return ActivityReport.objects.published().only("id", "updated_at").order_by("-published_at", "-id")


class ProjectPages(_Rows):
    url_name = "projects:detail"

    def items(self):
        return Project.objects.public().only("id", "updated_at").order_by("-id")


class HonourPages(sitemaps.Sitemap):
    changefreq = "monthly"

    def items(self):
        return [row["year"] for row in honour_years()]

    def location(self, item):
        return reverse("awards:year", args=[item])


SITEMAPS = {
    "pages": PublicPages,
    "activities": ActivityPages,
    "news": NewsPages,
    "projects": ProjectPages,
    "honours": HonourPages,
}
