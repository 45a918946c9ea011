"""REST plumbing shared by every app: pagination and the error format."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    """Our ApplicationError and Django's ValidationError become a 400 with field messages, never a 500."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
