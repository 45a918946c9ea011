"""Admin template tags: the active filters of a change list as removable chips, and change messages of the
history in the reader's language."""

import json

from django import template
from django.contrib.admin.filters import ListFilter
from django.contrib.admin.models import LogEntry
from django.utils.text import get_text_list
from django.utils.translation import get_language, gettext

register = template.Library()


def _selected_choices(spec: ListFilter, cl):
    """The chosen choices of one filter, without its first choice (the "all" one), as (title, link to drop
    it) pairs. Every admin filter lists its choices with `selected` and a `query_string` that toggles it."""
    choices = list(spec.choices(cl))
    chosen = [choice for choice in choices[1:] if choice.get("selected")]
    if not chosen:
        return []
    # The first choice is the filter without any value: its link is the list without this filter.
    remove = choices[0].get("query_string") or cl.get_query_string(remove=spec.expected_parameters())
    return [(choice.get("display"), remove) for choice in chosen]


@register.inclusion_tag("admin/portal_filter_chips.html")
def active_filter_chips(cl):
    chips = []
    for spec in getattr(cl, "filter_specs", []):
        for display, link in _selected_choices(spec, cl):
            chips.append({"title": spec.title, "value": display, "link": link})
    return {"chips": chips, "clear_link": cl.clear_all_filters_qs if chips else ""}


def _field_label(name: str) -> str:
    """A changed field's stored label in the reader's language. Django stores the form label, which is the
    capitalised English verbose name ("Contact person"); the catalogue knows the verbose name itself."""
    translated = gettext(name)
    if translated == name and name[:1].isupper():
        lowered = name[:1].lower() + name[1:]
        candidate = gettext(lowered)
        if candidate != lowered:
            return candidate
    return translated


def _join(items: list[str]) -> str:
    if get_language().startswith("zh"):
        return (
            "、".join(items[:-1]) + gettext("and").strip() + items[-1] if len(items) > 1 else "".join(items)
        )
    return get_text_list(items, gettext("and"))


@register.filter
def portal_change_message(entry: LogEntry) -> str:
    """LogEntry.get_change_message, with field labels translated whatever their case and Chinese lists."""
    raw = entry.change_message
    if not raw or raw[0] != "[":
        return entry.get_change_message()
    try:
        parts = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    messages = []
    for part in parts:
        if "added" in part:
            added = part["added"]
            if added:
                text = gettext("Added {name} “{object}”.").format(
                    name=gettext(added["name"]), object=added["object"]
                )
            else:
                text = gettext("Added.")
        elif "changed" in part:
            changed = part["changed"]
            fields = _join([_field_label(name) for name in changed["fields"]])
            if "name" in changed:
                text = gettext("Changed {fields} for {name} “{object}”.").format(
                    fields=fields, name=gettext(changed["name"]), object=changed["object"]
                )
            else:
                text = gettext("Changed {fields}.").format(fields=fields)
        elif "deleted" in part:
            deleted = part["deleted"]
            text = gettext("Deleted {name} “{object}”.").format(
                name=gettext(deleted["name"]), object=deleted["object"]
            )
        else:
            continue
        messages.append(text[:1].upper() + text[1:])
    return " ".join(messages) or gettext("No fields changed.")
