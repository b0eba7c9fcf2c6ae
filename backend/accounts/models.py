from django.conf import settings
from django.db import models


class UsernameSkeleton(models.Model):
    """The TR39 skeleton of a user's name (accounts/skeletons.py). Unique: a
    name that looks like a taken one is found with one indexed lookup, and of
    two sign-ups racing for lookalike names the index lets only one in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="username_skeleton"
    )
    skeleton = models.TextField(unique=True)

    def __str__(self) -> str:
        return self.skeleton
