"""manage.py chat_cleanup: removes uploads no message holds after 24 hours,
and the files of deleted messages (chat/uploads/services.py). Safe to run at
any time and as often as wanted (cron, a systemd timer): a second run finds
nothing to do. Prints what it removed."""

from django.core.management.base import BaseCommand

from chat.uploads.services import uploads_cleanup


class Command(BaseCommand):
    help = "Removes uploads no message holds after 24 hours, and those of deleted messages."

    def handle(self, *args, **options):
        done = uploads_cleanup()
        self.stdout.write(
            f"removed {len(done.unheld)} upload(s) no message held, {len(done.of_deleted)} of deleted messages"
            f" ({done.files} file(s))"
        )
        for upload_id in done.unheld:
            self.stdout.write(f"  unheld {upload_id}")
        for upload_id in done.of_deleted:
            self.stdout.write(f"  deleted message {upload_id}")
