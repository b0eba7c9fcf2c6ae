from django.urls import path, re_path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # The service worker's scope is the folder it is served from: the root, so it sees every page.
    path("sw.js", views.service_worker, name="service_worker"),
    # Every other page path is the SPA's; the app routes it in the browser.
    re_path(r"^(?!api/|ws/|static/|admin/).*$", views.shell, name="shell"),
]
