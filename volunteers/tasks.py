"""Tasks of the volunteers app. Task names are public: renaming one strands messages already queued.

The import tasks check and write a whole file (100,000 rows take minutes), so their time limits are
raised well above the project's default; each claims its job, so a task delivered twice does nothing
the second time.
"""

from celery import shared_task

IMPORT_LIMITS = {"acks_late": True, "time_limit": 3600, "soft_time_limit": 3300}


@shared_task(name="volunteers.import_check", **IMPORT_LIMITS)
def import_check(job_id: int) -> str | None:
    from .imports import job_check

    job = job_check(job_id)
    return job.status if job else None


@shared_task(name="volunteers.import_run", **IMPORT_LIMITS)
def import_run(job_id: int) -> str | None:
    from .imports import job_run

    job = job_run(job_id)
    return job.status if job else None
