"""The Atom feed at /feed/ for the county media center (融媒体中心): the latest reports published as news
and the latest published, running or finished activities. Only what the public pages show: never an
unpublished report, a draft or a cancelled activity."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from activities.models import PUBLISHED_STATUSES, Activity, ActivityReport
from activities.selectors import published_reports
from stations.selectors import county_name

ITEMS_EACH = 30


class PublicFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return _("%(county)s · news and activities") % {"county": county_name()}

    def subtitle(self):
        return _("Reports of the volunteer service and the activities of the county's practice network.")

    def link(self):
        return reverse("news")

    def feed_url(self):
        return reverse("feed")

    def items(self):
        reports = list(published_reports().prefetch_related(None)[:ITEMS_EACH])
        activities = list(
            Activity.objects.filter(status__in=PUBLISHED_STATUSES, published_at__isnull=False)
            .select_related("unit")
            .only(
                "id",
                "title",
                "description",
                "venue",
                "started_at",
                "published_at",
                "updated_at",
                "unit__name",
            )
            .order_by("-id")[:ITEMS_EACH]
        )
        return sorted([*reports, *activities], key=self.item_pubdate, reverse=True)

    def item_title(self, item):
        if isinstance(item, ActivityReport):
            return _("Report: %(title)s") % {"title": item.activity.title}
        return item.title

    def item_description(self, item):
        text = item.text if isinstance(item, ActivityReport) else item.description
        return Truncator(text or "").chars(400)

    def item_link(self, item):
        if isinstance(item, ActivityReport):
            return reverse("news-detail", args=[item.pk])
        return reverse("activities:detail", args=[item.pk])

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)

    def item_author_name(self, item):
        return (item.activity.unit if isinstance(item, ActivityReport) else item.unit).name

    def item_categories(self, item):
        return [_("News") if isinstance(item, ActivityReport) else _("Activity")]
