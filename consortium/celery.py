import functools
import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consortium.settings")

logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """Every task's ``delay_on_commit`` sends after the commit and never raises into the request that committed:
    when the broker does not answer (after the short ``task_publish_retry_policy``) the error is logged and the
    committed decision stands. Work whose message is lost this way is found again by its app's sweep (documents:
    ``certification.tasks.documents_sweep``) or re-run from the log."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self.send_or_log, *args, **kwargs))

    def send_or_log(self, *args, **kwargs) -> None:
        try:
            self.apply_async(args, kwargs, **self.send_options)
        except OperationalError as exc:
            logger.error("The broker is unreachable: %s%r not sent%s (%s)", self.name, args, self.when_not_sent, exc)

    #: Options for the send after commit (a task nobody waits for sets ``ignore_result``).
    send_options: dict = {}
    #: What becomes of the work when the send fails, for the log.
    when_not_sent = ""


app = Celery("jointcred", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
