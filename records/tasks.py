"""Celery tasks of the records app: short wrappers that load by id and call a service. Task names are a
public API."""

from celery import shared_task

from kernel.locks import single_run

from . import certificates, services


@shared_task(name="records.flags_scan", acks_late=True, time_limit=900, soft_time_limit=840)
def flags_scan() -> int:
    """Flag what the checks at submission could not see (services.flags_scan); one run at a time."""
    with single_run("records.flags_scan", stale_after=1800) as got:
        return services.flags_scan() if got else 0


@shared_task(name="records.certificate_issue", acks_late=True, time_limit=300, soft_time_limit=240)
def certificate_issue(certificate_id: int) -> str | None:
    """Number, render and store a requested certificate (certificates.certificate_issue); a second
    delivery of the same message finds it issued and does nothing."""
    certificate = certificates.certificate_issue(certificate_id)
    return certificate.status if certificate else None
