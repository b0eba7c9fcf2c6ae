"""Error pages: JSON under /api/, short plain text elsewhere, never a traceback."""

from django.http import HttpResponse, JsonResponse

_TEXTS = {400: "bad request", 403: "forbidden", 404: "not found", 500: "server error"}


def _answer(request, status: int):
    text = _TEXTS[status]
    if request.path.startswith("/api/"):
        return JsonResponse({"error": text}, status=status)
    return HttpResponse(f"{status} {text}\n", status=status, content_type="text/plain; charset=utf-8")


def bad_request(request, exception=None):
    return _answer(request, 400)


def permission_denied(request, exception=None):
    return _answer(request, 403)


def page_not_found(request, exception=None):
    return _answer(request, 404)


def server_error(request):
    return _answer(request, 500)
