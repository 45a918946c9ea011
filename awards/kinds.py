"""The award kinds a county starts with (the data migration and the demo make them), in roll order."""

DEFAULT_KINDS = (
    # (name, recipient type, order)
    ("最美志愿者", "volunteer", 10),
    ("最佳志愿服务组织", "team", 20),
    ("最佳志愿服务项目", "project", 30),
    ("最美志愿服务社区", "unit", 40),
    ("五星志愿者", "volunteer", 50),
)


def ensure_default_kinds(award_kind_model) -> int:
    """Make the default kinds that are missing (found by name); how many were made."""
    made = 0
    for name, recipient_type, order in DEFAULT_KINDS:
        _kind, created = award_kind_model.objects.get_or_create(
            name=name, defaults={"recipient_type": recipient_type, "order": order}
        )
        made += created
    return made
