"""The disk full while the server writes a photo.

How the disk is filled: RLIMIT_FSIZE, lowered at run time (prlimit(2)) on the running
gunicorn master and workers. A write past the limit then fails with EFBIG (Python ignores
SIGXFSZ), which is what the photo writer meets on a full disk (ENOSPC) in the same
place: no root, no loop-mounted or tmpfs file system, and nothing else on the machine is
affected. The limit (1.5 MB) lies above the database and log files the server appends to
and below the photo's full-size variant (about 2.5 MB), so only the photo write fails.

The upload must answer a clear 507 `storage_full` JSON error, leave no file under a name
the server serves, keep the report that names the photo, and once space returns (the
limit raised again, without a restart) the phone's retry stores the photo.
"""

from __future__ import annotations

import resource

import pytest

from tests.support.gunicorn import live_group_members
from tests.system.test_faults_photo import (
    assert_absent_or_whole,
    files_of,
    noisy_jpeg,
    photo_rows,
    push_report_naming,
    put_photo,
    sha,
)

pytestmark = pytest.mark.slow

LIMIT = 1_500_000  # bytes a process may write into one file while the "disk" is full


def set_file_limit(pgid: int, soft: int) -> None:
    """Set RLIMIT_FSIZE's soft limit on every live process of the group."""
    for pid in live_group_members(pgid):
        _old_soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


def test_disk_full_answers_507_keeps_the_report_and_the_retry_stores_the_photo(
    system, make_report, device_time
) -> None:
    server = system.gunicorn(workers=2).start()
    org = system.create_org("Fulldisk kommun")
    device = system.enrol(server, org, "Telefon 1")
    data = noisy_jpeg(7)
    digest = sha(data)
    big_files = [p for p in system.data_dir.parent.rglob("*") if p.is_file()]
    assert max(p.stat().st_size for p in big_files) < LIMIT, "a server file is past LIMIT"

    set_file_limit(server.pgid, LIMIT)
    # The report goes through while the disk is full; it names the photo.
    report_id = push_report_naming(server.url, device, make_report, device_time, digest)
    full = put_photo(server.url, device, data)
    assert full.status_code == 507, full.text
    error = full.json()["error"]
    assert error["code"] == "storage_full"
    assert full.headers.get("Retry-After")
    assert photo_rows(system, digest) == 0
    assert files_of(system.data_dir, digest) == [], "a failed write left files behind"
    assert assert_absent_or_whole(server.url, device, data) == "absent"
    assert report_id in system.stored_reports().by_id

    resource_hard = resource.prlimit(server.pgid, resource.RLIMIT_FSIZE)[1]
    set_file_limit(server.pgid, resource_hard)  # space returns; the server keeps running
    retry = put_photo(server.url, device, data)
    assert retry.status_code == 201, retry.text
    assert assert_absent_or_whole(server.url, device, data) == "whole"
    assert photo_rows(system, digest) == 1
    problems = [line for line in server.problems() if '" 507 ' not in line]
    assert not problems, server.log_tail()
