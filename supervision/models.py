"""What the scheduled jobs keep in the database: which process runs them (a lease), how each
job last went, and the e-mails waiting to be sent (an outbox: a mail is a row written in the
transaction that decided it, sent later by the job runner, never by a request or a station)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRunnerLease(models.Model):
    """The one process that runs the scheduled jobs now: the holder renews it every few
    seconds; a lease not renewed for ``JOBS_LEASE_SECONDS`` may be taken by another."""

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    holder = models.CharField(_("holder"), max_length=128, blank=True)
    renewed_at = models.DateTimeField(_("renewed at"))

    class Meta:
        verbose_name = _("job runner lease")
        verbose_name_plural = _("job runner leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'}"


class JobState(models.Model):
    """How a scheduled job last went."""

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    last_holder = models.CharField(_("last run by"), max_length=128, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name


class OutgoingEmail(models.Model):
    """An e-mail to send: sent by the job runner, retried with a growing delay when the mail
    server refuses or is away."""

    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    from_email = models.CharField(_("from"), max_length=254)
    recipients = models.JSONField(_("recipients"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outgoing_email_due",
            )
        ]

    def __str__(self) -> str:
        return self.subject
