"""POST /api/uploads and GET /api/uploads/<id>/<name> (and /thumbnail).

JSON errors as every /api/ answer; a session is required (401), CSRF is
checked as for every POST. The upload view swaps Django's upload handlers for
receive.LimitedUploadHandler before anything reads the body, which is why it
is csrf_exempt outside and csrf_protect inside: Django's CSRF check reads
request.POST, and so would parse the body with the default handlers.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.views import error, methods
from chat.uploads import receive, selectors, services
from chat.uploads.names import is_inline
from chat.uploads.serving import file_response
from chat.uploads.wire import THUMBNAIL


def _too_large() -> JsonResponse:
    return error(f"The file is larger than {settings.CHAT_UPLOAD_MAX_BYTES} bytes.", 413)


@csrf_exempt
def upload_post(request):
    if not request.user.is_authenticated:
        return error("Log in to upload files.", 401)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > receive.body_limit():
        return _too_large()
    if selectors.pending_bytes(user=request.user) + declared > settings.CHAT_UPLOAD_PENDING_MAX_BYTES:
        return error(
            "Too many files are waiting to be sent: send them in a message (or wait for them to expire) first.", 429
        )
    request.upload_handlers = [receive.LimitedUploadHandler(request)]
    # The CSRF check is the first to read the body (request.POST), so it is
    # where a body that is too large or malformed shows.
    try:
        return csrf_protect(_upload_post)(request)
    except receive.TooLarge:
        return _too_large()
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        return _not_multipart()


def _not_multipart():
    return error('The body must be multipart/form-data with one "file".', 400)


def _upload_post(request):
    uploaded = request.FILES.get(receive.FIELD)
    if uploaded is None:
        return _not_multipart()
    try:
        attachment = services.upload_create(user=request.user, uploaded=uploaded)
    finally:
        uploaded.close()
    return JsonResponse({"upload": attachment}, status=201)


def _not_found():
    return error("not found", 404)


def upload_get(request, upload_id: str, name: str):
    # Anonymous, a stranger and an unknown id all get the same 404.
    if not request.user.is_authenticated:
        return _not_found()
    upload = selectors.upload_readable(user=request.user, upload_id=upload_id)
    if upload is None:
        return _not_found()
    head = request.method == "HEAD"
    if name == THUMBNAIL:
        if not upload.thumbnail:
            return _not_found()
        png = upload.thumbnail.endswith(".png")
        stem = upload.name.rsplit(".", 1)[0] if "." in upload.name else upload.name
        return file_response(storage_name=upload.thumbnail, name=f"{stem}-thumbnail{'.png' if png else '.jpg'}",
                             content_type="image/png" if png else "image/jpeg", inline=True, size=None, head=head,
                             range_header=_range(request))
    return file_response(storage_name=upload.file, name=upload.name, content_type=upload.content_type,
                         inline=upload.is_image and is_inline(upload.content_type), size=upload.size, head=head,
                         range_header=_range(request))


def _range(request) -> str | None:
    # If-Range names a version we cannot check (no ETag, no Last-Modified): the whole file, as RFC 9110 says.
    return None if "HTTP_IF_RANGE" in request.META else request.META.get("HTTP_RANGE")


# The wrapper is what the CSRF middleware sees: exempt there, checked in upload_post.
uploads = csrf_exempt(methods(post=upload_post))
upload_file = methods(get=upload_get, head=upload_get)
