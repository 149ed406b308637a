"""Import every model so Alembic and the app see the whole schema."""

from server.actions.models import Action, ActionEvent, ActionIncident, ActionReport
from server.alerts.models import (
    Alert,
    AlertDelivery,
    OnCallLevel,
    OnCallMember,
    OnCallRota,
    PushSubscription,
)
from server.audit.models import AuditEntry
from server.auth.models import LoginFailures, Person, WorkspaceSession
from server.categories.models import Category
from server.devices.models import Device, EnrolmentCode
from server.digest.models import DigestRun, DigestSettings
from server.geography.models import Area, NamedPlace
from server.incidents.models import Incident, IncidentEvent
from server.meta.models import MetaValue
from server.orgs.models import ChangeCounter, GroupingEpoch, Organisation
from server.photos.models import Photo
from server.reports.models import Report, ReportComment, Tombstone
from server.retention.models import PurgeRun
from server.rounds.models import Checkpoint, CheckpointScan, Round, RoundCheckpoint, RoundRun
from server.sharing.models import SharingAgreement
from server.walks.models import Walk

__all__ = [
    "Action",
    "ActionEvent",
    "ActionIncident",
    "ActionReport",
    "Alert",
    "AlertDelivery",
    "Area",
    "AuditEntry",
    "Category",
    "ChangeCounter",
    "Checkpoint",
    "CheckpointScan",
    "Device",
    "DigestRun",
    "DigestSettings",
    "EnrolmentCode",
    "GroupingEpoch",
    "Incident",
    "IncidentEvent",
    "LoginFailures",
    "MetaValue",
    "NamedPlace",
    "OnCallLevel",
    "OnCallMember",
    "OnCallRota",
    "Organisation",
    "Person",
    "Photo",
    "PurgeRun",
    "PushSubscription",
    "Report",
    "ReportComment",
    "Round",
    "RoundCheckpoint",
    "RoundRun",
    "SharingAgreement",
    "Tombstone",
    "Walk",
    "WorkspaceSession",
]
