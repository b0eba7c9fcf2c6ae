"""Account writes, checked by Django's own validators."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction


def user_wire(user) -> dict:
    """The USER shape of the wire contract."""
    return {"id": user.pk, "username": user.get_username()}


def user_create(*, username: str, password: str):
    """Creates a user; raises ValidationError with a message list per field.

    Usernames are unique regardless of case, as in Django's UserCreationForm,
    so "Alice" cannot pose as "alice" in a room.
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
        if User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
            errors["username"] = [field.error_messages["unique"]]
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            return User._default_manager.create_user(username=username, password=password)
    except IntegrityError:
        # Someone took the name between the check and the insert.
        raise ValidationError({"username": [field.error_messages["unique"]]}) from None


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
