"""Request-level guards and the language choice."""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language, get_supported_language_variant
from django.utils.translation import gettext as _


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Pages ignore the browser's Accept-Language (staff machines often say English while the office
    works in Chinese); the cookie set by the switcher decides. API clients may ask by Accept-Language."""

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        if not language or not check_for_language(language):
            language = settings.LANGUAGE_CODE
        try:
            language = get_supported_language_variant(language)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class RejectNulMiddleware:
    """A NUL character in a path, query, cookie or credential is never meaningful, and PostgreSQL refuses
    it inside a query (a 500 deep in a lookup, a session or a token check): answer 400 at the door."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return HttpResponseBadRequest(_("The request contains a NUL character."))
        return self.get_response(request)


def _has_nul(request) -> bool:
    texts = [request.path, request.META.get("HTTP_AUTHORIZATION", "")]
    texts += [text for key, values in request.GET.lists() for text in (key, *values)]
    texts += [text for item in request.COOKIES.items() for text in item]
    return any("\x00" in text for text in texts)
