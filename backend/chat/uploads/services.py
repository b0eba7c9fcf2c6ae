"""Writes of attachments: storing an upload, the clean-up that removes the
files no message holds (after a day) and those of deleted messages, and the
files of a deleted account."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import Upload
from chat.uploads import images
from chat.uploads.names import clean_name, type_from_name
from chat.uploads.wire import AttachmentDict, attachment_wire

log = logging.getLogger(__name__)

# An upload no message holds may be removed after this long (the contract's 24 hours).
UNHELD_FOR = timedelta(hours=24)


def upload_storage():
    """settings.STORAGES["uploads"]: the filesystem, or S3."""
    return storages["uploads"]


def upload_create(*, user: Any, uploaded: UploadedFile) -> AttachmentDict:
    """Stores the file (re-encoded, with a thumbnail, when it is an image we
    show) and returns its ATTACHMENT. The row is written after the files, so
    a row always has its files; files of a failed write are removed."""
    upload = Upload(uploader_id=user.pk, name=clean_name(uploaded.name))
    picture = images.examine(uploaded.temporary_file_path()) if hasattr(uploaded, "temporary_file_path") else None
    storage = upload_storage()
    stored: list[str] = []
    try:
        upload.content_type = type_from_name(upload.name) if picture is None else picture.content_type
        if picture is not None:
            upload.width, upload.height = picture.width, picture.height
        if picture is None or picture.reencoded is None:
            # The upload itself: the filesystem moves its temporary file, S3 streams it.
            upload.size = uploaded.size
            uploaded.seek(0)
            content = uploaded
        else:
            upload.size = len(picture.reencoded)
            content = ContentFile(picture.reencoded)
        upload.file = storage.save(f"{upload.id}/file", content)
        stored.append(upload.file)
        if picture is not None:
            extension = ".png" if images.thumbnail_type(picture.thumbnail) == "image/png" else ".jpg"
            upload.thumbnail = storage.save(f"{upload.id}/thumbnail{extension}", ContentFile(picture.thumbnail))
            stored.append(upload.thumbnail)
        upload.save(force_insert=True)
    except BaseException:
        _remove(storage, stored)
        raise
    return attachment_wire(id=upload.id, name=upload.name, size=upload.size, content_type=upload.content_type,
                           width=upload.width, height=upload.height)


def _remove(storage, names: list[str]) -> int:
    removed = 0
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
            removed += 1
        except OSError as error:  # noqa: PERF203 - one failed file must not stop the rest
            log.warning("could not remove upload file %s: %s", name, error)
    return removed


@dataclass
class Cleanup:
    unheld: list[str] = field(default_factory=list)  # ids of uploads no message held in time
    of_deleted: list[str] = field(default_factory=list)  # ids of uploads of deleted messages
    files: int = 0


def uploads_cleanup(*, now=None) -> Cleanup:
    """Removes the uploads no message holds that are older than UNHELD_FOR, and
    those of deleted messages: each row, then its files. Idempotent: a second
    run finds nothing."""
    now = now or timezone.now()
    storage = upload_storage()
    result = Cleanup()
    doomed = Q(message__isnull=True, created_at__lt=now - UNHELD_FOR) | Q(message__deleted=True)
    rows = Upload.objects.filter(doomed).values_list("id", "file", "thumbnail", "message_id")
    for upload_id, file_name, thumbnail_name, message_id in list(rows):
        # The row goes first, and only if it is still doomed: a send that took
        # an unheld upload a moment ago keeps it, files and all.
        deleted, _ = Upload.objects.filter(doomed, pk=upload_id).delete()
        if not deleted:
            continue
        result.files += _remove(storage, [file_name, thumbnail_name])
        (result.unheld if message_id is None else result.of_deleted).append(upload_id)
    return result


def user_deleting(sender, instance, **kwargs) -> None:
    """pre_delete of a user: their uploads' rows go with them (CASCADE), so their
    files are noted now and removed once the deletion commits (a rolled-back
    deletion removes nothing). Files the clean-up would never find otherwise."""
    names = [name for pair in Upload.objects.filter(uploader=instance).values_list("file", "thumbnail")
             for name in pair if name]
    if names:
        transaction.on_commit(lambda: _removed_with_account(instance.pk, names))


def _removed_with_account(user_id: int, names: list[str]) -> None:
    removed = _remove(upload_storage(), names)
    log.info("removed %d upload file(s) of deleted user %s", removed, user_id)
