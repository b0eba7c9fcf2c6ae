"""Account writes, checked by Django's own validators."""

import logging

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import UsernameSkeleton
from .selectors import username_lookalike
from .skeletons import username_skeleton

logger = logging.getLogger(__name__)


def user_wire(user) -> dict:
    """The USER shape of the wire contract."""
    return {"id": user.pk, "username": user.get_username()}


LOOKALIKE = "This username looks too much like an existing one."


def user_create(*, username: str, password: str):
    """Creates a user; raises ValidationError with a message list per field.

    The name is NFKC-normalised (Django's normalize_username). It is refused
    when it looks like a taken one: the same TR39 skeleton, which also makes
    usernames unique regardless of case, as Django's UserCreationForm checks,
    so "Alice" or a Cyrillic "аlice" cannot pose as "alice" in a room.
    """
    User = get_user_model()
    username = User.normalize_username(username)
    field = User._meta.get_field(User.USERNAME_FIELD)
    errors: dict[str, list[str]] = {}

    candidate = User(**{User.USERNAME_FIELD: username})
    try:
        field.clean(username, candidate)
    except ValidationError as error:
        errors["username"] = error.messages
    else:
        existing = username_lookalike(username)
        if existing is not None:
            errors["username"] = [_name_taken(field, existing=existing, username=username)]
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)

    # What UserManager.create_user does, with the password hashed before the
    # transaction, not in it: hashing takes a few hundred milliseconds, and on
    # SQLite the (IMMEDIATE) transaction holds the database's write lock, so
    # every send of every socket waited behind a sign-up.
    candidate.password = make_password(password)
    try:
        with transaction.atomic():
            # post_save stores the skeleton (username_skeleton_save) in this transaction.
            candidate.save(using=User._default_manager.db)
            return candidate
    except IntegrityError:
        # Someone took the name, or a lookalike, between the check and the insert.
        existing = username_lookalike(username)
        raise ValidationError({"username": [_name_taken(field, existing=existing, username=username)]}) from None


def _name_taken(field, *, existing, username: str) -> str:
    if existing is None or existing.get_username().casefold() == username.casefold():
        return field.error_messages["unique"]
    return LOOKALIKE


def username_skeleton_save(*, user) -> None:
    """Stores the skeleton of the user's name; IntegrityError when another
    user's name looks the same."""
    skeleton = username_skeleton(user.get_username())
    if not UsernameSkeleton.objects.filter(user=user).update(skeleton=skeleton):
        UsernameSkeleton.objects.create(user=user, skeleton=skeleton)


def user_saved(sender, instance, created: bool, update_fields=None, raw: bool = False, **kwargs) -> None:
    """post_save of the user model: the stored skeleton follows the name,
    wherever the user is saved (sign-up, createsuperuser, the admin, a shell)."""
    if raw or (update_fields is not None and instance.USERNAME_FIELD not in update_fields):
        return
    if created:
        # A lookalike of a taken name fails the insert; the caller's transaction
        # decides (user_create turns it into a field error).
        username_skeleton_save(user=instance)
        return
    try:
        with transaction.atomic():
            username_skeleton_save(user=instance)
    except IntegrityError:
        # Renamed outside sign-up to a name like another user's: that user's
        # row keeps guarding it, and this one's old name is free again.
        UsernameSkeleton.objects.filter(user=instance).delete()
        logger.warning("user %s was renamed to a lookalike of another user's name", instance.pk)


def password_change(*, user, old_password: str, new_password: str, request=None):
    """Sets a new password; raises ValidationError naming old_password and/or
    new_password. The old one is checked by authenticate(), so a wrong guess
    counts toward the login lock-out as a failed login does: a stolen session
    cannot be used to try passwords unlimited."""
    errors: dict[str, list[str]] = {}
    if authenticate(request, username=user.get_username(), password=old_password) is None:
        errors["old_password"] = ["The current password is not correct."]
    try:
        validate_password(new_password, user=user)
    except ValidationError as error:
        errors["new_password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user
