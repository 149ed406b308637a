"""The last level's e-mail: plain text, no personal data beyond the digest's, sent once.

`mail_state` goes pending → sent (or failed) on the alert row; a sender claims it with a
compare-and-set lease (mail_owner, mail_until), as the digest's runs do. A crash between
the SMTP hand-over and the record sends it again after the lease (at least once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from server.alerts import payload, rota
from server.alerts.models import Alert
from server.alerts.passclock import PassClock
from server.auth.models import Person
from server.db import phase
from server.digest.delivery import DeliveryError, SmtpConfig, send
from server.extensions import db
from server.translations import translations

log = logging.getLogger("lagesbild.alerts")

LEASE = timedelta(minutes=2)
RETRY = timedelta(minutes=2)
MAX_ATTEMPTS = 5


def _claim(alert_id: int, now: datetime, owner: str) -> bool:
    """Take the alert's pending e-mail under our lease; True only for the one winner."""
    with phase("write"):
        result = db.session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.mail_state == "pending",
                or_(Alert.mail_until.is_(None), Alert.mail_until < now),
            )
            .values(mail_owner=owner, mail_until=now + LEASE, mail_attempts=Alert.mail_attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _record(alert_id: int, owner: str, **values: Any) -> None:
    """Record the e-mail's outcome while we hold its lease."""
    with phase("write"):
        db.session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.mail_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def message(alert: Alert, sender: str, base_url: str) -> EmailMessage:
    """Build the plain e-mail: category, area, time and the link that acknowledges.

    Addressed to nobody in particular: the recipients are only the envelope's, so no
    person of the last level sees the others' addresses.
    """
    lang = payload.language(alert.org_id)
    facts = payload.build(alert, lang)
    words = translations(lang)

    def say(key: str, **values: str) -> str:
        return words.gettext(key).format(**values)

    msg = EmailMessage()
    msg["Subject"] = say("alert.mail.subject", title=facts["title"], body=facts["body"])
    msg["From"] = sender
    msg["To"] = "undisclosed-recipients:;"
    msg["Date"] = format_datetime(alert.opened_at)
    host = urlsplit(base_url).hostname or "lagesbild.invalid"
    msg["Message-ID"] = f"<alert-{alert.id}@{host}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = lang
    msg.set_content(
        "\n".join(
            [
                say("alert.mail.intro"),
                "",
                say("alert.mail.category", category=facts["category_label"]),
                say("alert.mail.area", area=facts["area"]),
                say("alert.mail.time", time=facts["at"].replace("T", " ")[:16]),
                "",
                say("alert.mail.open", url=f"{base_url}{facts['url']}"),
                "",
                say("alert.emergency"),
            ]
        ),
        charset="utf-8",
    )
    return msg


def send_due(now: datetime, owner: str, config: Mapping[str, Any]) -> dict[str, int]:
    """Send every pending last-level e-mail of unacknowledged alerts; return counts."""
    with phase("read"):
        due = list(
            db.session.execute(
                select(Alert.id, Alert.org_id).where(
                    Alert.mail_state == "pending",
                    Alert.acknowledged_at.is_(None),
                    or_(Alert.mail_until.is_(None), Alert.mail_until < now),
                )
            )
        )
    counts: dict[str, int] = {}
    smtp = SmtpConfig.from_config(config)
    clock = PassClock(now)  # each lease runs from its claim, not from the pass's start
    for alert_id, org_id in due:
        moment = clock()
        if not _claim(alert_id, moment, owner):
            continue
        outcome = _send(alert_id, org_id, moment, owner, smtp, str(config.get("BASE_URL") or ""))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _send(
    alert_id: int, org_id: int, now: datetime, owner: str, smtp: SmtpConfig, base_url: str
) -> str:
    """Send one claimed e-mail to the last level's persons; record and return the outcome."""
    with phase("read"):
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        assert alert is not None  # claimed a moment ago
        levels = rota.load(org_id).levels
        ids = levels[-1].person_ids if levels else []
        recipients = list(
            db.session.scalars(
                select(Person.email)
                .where(Person.id.in_(ids), Person.active.is_(True))
                .order_by(Person.email)
            )
        )
    problem = smtp.problem()
    if problem or not recipients:
        reason = problem or "no recipients"
        log.error("alert %s: the last level's e-mail cannot go: %s", alert_id, reason)
        _record(alert_id, owner, mail_state="failed", mail_error=reason[:300], mail_until=None)
        return "failed"
    try:
        send(smtp, message(alert, str(smtp.mail_from), base_url), recipients)
    except DeliveryError as exc:
        attempts = alert.mail_attempts
        final = attempts >= MAX_ATTEMPTS
        log.warning("alert %s: e-mail attempt %s failed: %s", alert_id, attempts, exc)
        _record(
            alert_id,
            owner,
            mail_state="failed" if final else "pending",
            mail_error=str(exc)[:300],
            mail_owner=None,
            mail_until=None if final else now + RETRY,
        )
        return "failed" if final else "retry"
    _record(alert_id, owner, mail_state="sent", mail_until=None, mail_error=None)
    return "sent"
