"""Retention periods per organisation: how long free text, reports, the audit log and the
digest archive are kept, in days (the columns are on `Organisation`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.domain_errors import Invalid
from server.extensions import db
from server.orgs.models import Organisation

# Whole reports go no earlier than a year: every comparison the product draws (the trends
# page's 26 weeks with their 4-week baseline, the monthly lägesbild's four months back, a
# year against the year before) counts rows of the reports table, and the counts of a
# deleted report are gone with it.
MIN_REPORT_DAYS = 365
# The digest archive is also the scheduler's memory of what it sent: a run deleted while
# its catch-up window (31 days for a monthly digest) is open would be created and sent again.
MIN_DIGEST_DAYS = 32
# A sane ceiling (a century): larger numbers are typing mistakes and overflow dates.
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Periods:
    """An organisation's retention periods in days."""

    text_days: int
    report_days: int
    audit_days: int
    digest_days: int

    def as_dict(self) -> dict[str, int]:
        """Return the periods as a plain dict."""
        return asdict(self)

    def summary(self) -> str:
        """Return the periods in one short line (for the audit log and the CLI)."""
        return (
            f"text={self.text_days} report={self.report_days} "
            f"audit={self.audit_days} digest={self.digest_days}"
        )


def periods_of(org: Organisation) -> Periods:
    """Return the organisation's retention periods."""
    return Periods(
        text_days=org.retention_text_days,
        report_days=org.retention_report_days,
        audit_days=org.retention_audit_days,
        digest_days=org.retention_digest_days,
    )


def problems(p: Periods) -> list[str]:
    """Return what is wrong with a set of periods (empty when they are usable)."""
    found = []
    for name, value in p.as_dict().items():
        if not 1 <= value <= MAX_DAYS:
            found.append(f"{name.replace('_', ' ')} must be between 1 and {MAX_DAYS}, got {value}")
    if p.text_days > p.report_days:
        found.append(
            f"text days ({p.text_days}) cannot exceed report days ({p.report_days}): "
            "a deleted report has no text left to keep"
        )
    if p.report_days < MIN_REPORT_DAYS:
        found.append(
            f"report days must be at least {MIN_REPORT_DAYS}: trends and the digest's "
            "comparisons count the reports of the last year"
        )
    if p.digest_days < MIN_DIGEST_DAYS:
        found.append(
            f"digest days must be at least {MIN_DIGEST_DAYS}: the scheduler would send a "
            "monthly digest again whose archived run was deleted"
        )
    return found


def configure(
    org_id: int,
    *,
    text_days: int | None = None,
    report_days: int | None = None,
    audit_days: int | None = None,
    digest_days: int | None = None,
    actor: Actor = CLI,
) -> Periods:
    """Change some of the organisation's periods; nothing is stored if any rule is broken."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise Invalid("not_found", f"no organisation {org_id}")
    current = periods_of(org)
    given = {
        "text_days": text_days,
        "report_days": report_days,
        "audit_days": audit_days,
        "digest_days": digest_days,
    }
    wanted = replace(current, **{k: v for k, v in given.items() if v is not None})
    found = problems(wanted)
    if found:
        db.session.rollback()
        raise Invalid("invalid_retention", "; ".join(found))
    if wanted == current:
        return current
    org.retention_text_days = wanted.text_days
    org.retention_report_days = wanted.report_days
    org.retention_audit_days = wanted.audit_days
    org.retention_digest_days = wanted.digest_days
    audit.add(org_id, "retention.settings", wanted.summary(), actor)
    db.session.commit()
    return wanted
