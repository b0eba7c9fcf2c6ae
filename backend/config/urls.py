from django.urls import include, path

urlpatterns = [
    path("api/", include("accounts.urls")),
    path("", include("web.urls")),
]

# JSON under /api/, plain text elsewhere; never Django's HTML or a traceback.
handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"
