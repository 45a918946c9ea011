"""People by real name and unit in templates: `{{ user|person_label }}`, after
`{% prefetch_people rows "user" %}` has fetched the roles of every person on the page in one query."""

from django import template

from stations import people

register = template.Library()


@register.filter
def person_label(user) -> str:
    return people.person_label(user)


@register.simple_tag
def prefetch_people(rows, attribute: str = "") -> str:
    """Prefetch the roles of the people at `attribute` of each row (the rows themselves for ""); a page of
    a paginator is read as its rows, which the page keeps for the loop that follows."""
    users = [getattr(row, attribute) if attribute else row for row in rows]
    people.prefetch_people(users)
    return ""
