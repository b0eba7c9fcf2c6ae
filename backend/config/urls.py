from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("chat.uploads.urls")),
    # Last under /api/: its catch-all answers every other path with a JSON 404.
    path("api/", include("accounts.urls")),
    # The one server-rendered page besides the SPA: staff only (Django's own login).
    path("admin/", admin.site.urls),
    path("", include("web.urls")),
]

# JSON under /api/, plain text elsewhere; never Django's HTML or a traceback.
handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"
