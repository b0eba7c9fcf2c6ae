from django.urls import path, re_path

from . import views

urlpatterns = [
    path("session", views.session, name="api-session"),
    path("users", views.users, name="api-users"),
    path("password", views.password, name="api-password"),
    # Everything else under /api/ is a JSON 404, never the SPA shell.
    re_path(r"^.*$", views.not_found),
]
