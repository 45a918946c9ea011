"""Form data the admin pages post, shared by the admin tests."""

from stations.models import UnitKind


def unit_form(unit=None, **changes):
    data = {
        "kind": UnitKind.STATION,
        "name": "新建站",
        "code": "NEW-1",
        "parent": "",
        "category": "",
        "address": "",
        "longitude": "",
        "latitude": "",
        "contact_person": "",
        "contact_phone": "",
        "recognition_level": "",
        "highlight": "",
        "is_active": "on",
    }
    if unit is not None:
        data.update(
            kind=unit.kind,
            name=unit.name,
            code=unit.code,
            parent=unit.parent_id or "",
            category=unit.category,
        )
    data.update(changes)
    return data


def inspection_change_data(inspection, **photo):
    results = list(inspection.results.order_by("item__order"))
    data = {
        "inspected_on": "2026-11-02",
        "note": "",
        "results-TOTAL_FORMS": str(len(results)),
        "results-INITIAL_FORMS": str(len(results)),
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "follow_ups-TOTAL_FORMS": "0",
        "follow_ups-INITIAL_FORMS": "0",
    }
    for i, result in enumerate(results):
        data.update({f"results-{i}-id": result.pk, f"results-{i}-inspection": inspection.pk})
    data.update(photo)
    return data
