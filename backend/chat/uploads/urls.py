from django.urls import path, re_path

from . import views

urlpatterns = [
    path("uploads", views.uploads, name="api-uploads"),
    # <id>/<name>: the name is the file's (or `thumbnail`); only the id selects.
    re_path(r"^uploads/(?P<upload_id>[A-Za-z0-9_-]{1,24})/(?P<name>[^/]+)$", views.upload_file, name="api-upload-file"),
]
