"""The OpenAPI schema says what the API really answers, errors included."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """A refusal: `detail` for authentication, permission and not-found answers; otherwise each
    offending field (or `non_field_errors`) with its messages."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


_ERRORS = {
    400: "Bad input: each offending field (or non_field_errors) with its messages.",
    401: "Not signed in, or the token is not valid.",
    403: "Signed in, but not allowed to do this.",
    404: "No such object within the caller's scope, or a page cursor that is not valid.",
}


def with_error_responses(responses: dict) -> dict:
    """`responses` with the refusals every endpoint can answer; for `extend_schema(responses=…)`, which
    replaces what the schema class would add."""
    responses = dict(responses)
    for code, description in _ERRORS.items():
        responses.setdefault(code, OpenApiResponse(ErrorSerializer, description=description))
    return responses


class PortalAutoSchema(AutoSchema):
    def get_response_serializers(self):
        responses = super().get_response_serializers()
        return with_error_responses(responses if isinstance(responses, dict) else {200: responses})
