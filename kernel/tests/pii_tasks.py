"""A task that only the personal-data tests load into their worker (celery worker --include)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="kernel.tests.log_personal_data")
def log_personal_data(id_number: str, phone: str) -> None:
    """Log an ID number and a phone, then fail with one in the message: the worker's log must hold neither."""
    logger.info("registering %s with %s", id_number, phone)
    raise ValueError(f"{id_number} is already registered")
