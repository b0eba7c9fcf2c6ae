"""Account reads."""

from .models import UsernameSkeleton
from .skeletons import username_skeleton


def username_lookalike(username: str):
    """The user whose name looks like `username` (the same skeleton, so the same
    name in another case too), or None. One lookup in a unique index."""
    found = UsernameSkeleton.objects.select_related("user").filter(skeleton=username_skeleton(username)).first()
    return found.user if found is not None else None
