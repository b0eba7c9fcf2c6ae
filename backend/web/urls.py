from django.urls import path, re_path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Every other page path is the SPA's; the app routes it in the browser.
    re_path(r"^(?!api/|ws/|static/|admin/).*$", views.shell, name="shell"),
]
