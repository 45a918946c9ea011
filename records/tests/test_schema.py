"""The OpenAPI schema of the records endpoints is generated without a warning or an error: every field's type
is known, every choice set named once, every operation annotated (records/api.py)."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

RECORD_PATHS = (
    "/api/v1/service-records/",
    "/api/v1/corrections/",
    "/api/v1/record-flags/",
    "/api/v1/trainings/",
    "/api/v1/evaluations/",
    "/api/v1/certificates/",
    "/api/v1/me/service-records/",
    "/api/v1/me/service-totals/",
)


@pytest.fixture
def generated():
    """The schema, with what the generator complained about while making it."""
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    complaints = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, complaints


def test_the_schema_is_generated_without_warnings(generated):
    schema, complaints = generated
    assert complaints == []
    for path in RECORD_PATHS:
        assert path in schema["paths"], path


def test_the_generator_does_complain_when_something_is_unknown():
    """The check above can fail: a serializer field of no known type is a warning."""
    from drf_spectacular.openapi import AutoSchema
    from rest_framework import serializers

    class Opaque(serializers.Field):
        pass

    class Shape(serializers.Serializer):
        opaque = Opaque()

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        AutoSchema()._map_serializer_field(Shape().fields["opaque"], "response")
    assert GENERATOR_STATS._warn_cache
    GENERATOR_STATS.reset()


def test_record_enums_have_their_own_names(generated):
    schema, _complaints = generated
    names = set(schema["components"]["schemas"])
    assert {"RecordStatusEnum", "FlagKindEnum", "CorrectionStatusEnum", "CertificateStatusEnum"} <= names
