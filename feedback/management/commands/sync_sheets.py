"""manage.py sync_sheets: mirror feedback to the Google Sheet, or pull reviewers' edits back."""
from django.core.management.base import BaseCommand, CommandError

from feedback import sheets


class Command(BaseCommand):
    help = (
        "Send feedback that is new or changed since the last run to the Google Sheet (one "
        "worksheet per kind of character, one for words), or with --pull apply the label (text) "
        "and status edits made in the sheet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
        parser.add_argument("--kind", choices=sheets.TARGETS,
                            help="only this worksheet: a kind's characters, or the words")
        parser.add_argument("--limit", type=int, help="send at most this many rows")
        parser.add_argument("--pull", action="store_true", help="apply reviewers' edits from the sheet")

    def handle(self, *, dry_run, kind, limit, pull, **options):
        targets = [kind] if kind else list(sheets.TARGETS)
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        try:
            with sheets.exclusive_run():
                spreadsheet = None if dry_run and not pull else sheets.open_spreadsheet()
                if pull:
                    result = sheets.pull(spreadsheet, targets, dry_run=dry_run)
                else:
                    result = sheets.push(spreadsheet, targets, limit=limit, dry_run=dry_run)
        except sheets.SyncBusy as error:
            raise CommandError(str(error)) from None
        except sheets.SheetsConfigError as error:
            raise CommandError(f"Google Sheets is not configured: {error}") from None
        except sheets.API_ERRORS as error:
            raise CommandError(
                f"Google Sheets API failed: {sheets.describe(error)}; nothing more was synced "
                "(pending rows stay pending and the next run sends them)"
            ) from None
        self.report(result, dry_run)

    def report(self, result, dry_run):
        for title in sheets.TITLES:
            if result.appended[title] or result.updated[title]:
                self.stdout.write(
                    f"{title}: {result.appended[title]} appended, {result.updated[title]} updated in place"
                )
            if result.pulled[title]:
                verb = "would be applied" if dry_run else "applied"
                self.stdout.write(f"{title}: {result.pulled[title]} reviewer edits {verb}")
        for refusal in result.refused:
            self.stderr.write(f"refused: {refusal}")
        unsent = sum(result.unsent.values())
        if dry_run and unsent:
            for title, count in result.unsent.items():
                self.stdout.write(f"{title}: {count} rows would be sent")
        if result.error:
            sent = sum(result.appended.values()) + sum(result.updated.values())
            raise CommandError(
                f"stopped by the Sheets API ({sheets.describe(result.error)}); {sent} rows synced, {unsent} not synced "
                "(they stay pending and the next run sends them)"
            )
        if not any((result.appended, result.updated, result.pulled, result.unsent, result.refused)):
            self.stdout.write("nothing to sync")
