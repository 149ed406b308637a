"""Photo files are readable by the service's group: nginx serves them behind X-Accel-Redirect."""

from __future__ import annotations

import os
import stat

from server.photos.storage import VARIANTS, PhotoStore

SHA = "ab" * 32


def test_stored_photo_files_are_group_readable_and_private_to_others(tmp_path):
    old = os.umask(0o027)  # the systemd unit's UMask
    try:
        PhotoStore(tmp_path).save(3, SHA, {v: b"jpeg bytes" for v in VARIANTS})
    finally:
        os.umask(old)

    for variant in VARIANTS:
        mode = stat.S_IMODE(PhotoStore(tmp_path).path(3, SHA, variant).stat().st_mode)
        assert mode == 0o640, oct(mode)
    directory = PhotoStore(tmp_path).path(3, SHA, "full").parent
    assert stat.S_IMODE(directory.stat().st_mode) & 0o050 == 0o050  # the group may enter
