"""Import every model so Alembic and the app see the whole schema."""

from server.auth.models import Person
from server.categories.models import Category
from server.devices.models import Device, EnrolmentCode
from server.meta.models import MetaValue
from server.orgs.models import ChangeCounter, Organisation
from server.photos.models import Photo
from server.reports.models import Report, ReportComment, Tombstone

__all__ = [
    "Category",
    "ChangeCounter",
    "Device",
    "EnrolmentCode",
    "MetaValue",
    "Organisation",
    "Person",
    "Photo",
    "Report",
    "ReportComment",
    "Tombstone",
]
