"""Language choice: Chinese unless the user picked another language with the switcher."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language, get_supported_language_variant


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
