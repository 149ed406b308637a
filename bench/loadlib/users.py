"""The simulated users: phones at shift end, phones in steady traffic, a coordinator.

Importing this module imports locust, which patches the standard library for gevent; only
the load runner's process may import it.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

import gevent
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

from bench.loadlib import phone, plan
from bench.loadlib.coordinator import CookieSession, browse_workspace, log_in
from bench.loadlib.photos import PhotoFile
from bench.loadlib.plan import DevicePlan
from bench.loadlib.stats import Recorder

Think = tuple[float, float]  # seconds between two sync passes: (min, max)


class Progress:
    """How many users finished their work; the runner stops when all have."""

    def __init__(self) -> None:
        """Start at zero."""
        self.finished = 0


def shift_user(
    plans: list[DevicePlan], recorder: Recorder, think: Think, progress: Progress
) -> type[FastHttpUser]:
    """Return a user class whose instances each run one device's plan once, then stop."""
    queue = deque(plans)

    class ShiftPhone(FastHttpUser):
        """A phone that syncs its shift's reports and photos in a few passes."""

        wait_time = constant(0)

        def on_start(self) -> None:
            """Take the next device's plan; a user locust starts beyond the plans stops at once.

            Locust may start a user again in place of one that stopped when its plan was done;
            every plan runs exactly once, so such a user has nothing to do.
            """
            if not queue:
                raise StopUser()
            self.device = queue.popleft()

        @task
        def shift(self) -> None:
            """Run the plan pass by pass, thinking between passes; then stop, whatever happened.

            A task that raised would be started again by locust with the same user; the plan
            must run once, so the user counts as finished and stops (the error is counted).
            """
            device = self.device
            rnd = random.Random(device.token)
            cursor = None
            left = device.reports
            try:
                for i, sync_pass in enumerate(device.passes):
                    if i:
                        gevent.sleep(rnd.uniform(*think))
                    for photo in sync_pass.photos:
                        phone.upload_photo(self.client, device.token, photo, recorder)
                    phone.push(self.client, device.token, sync_pass.reports, recorder)
                    left -= len(sync_pass.reports)
                    cursor = phone.pull(self.client, device.token, cursor, left)
            finally:
                progress.finished += 1
            raise StopUser()

    return ShiftPhone


def soak_phone_user(
    tokens: list[str], photos: list[PhotoFile], recorder: Recorder, think: Think, photo_share: float
) -> type[FastHttpUser]:
    """Return a user class for steady field traffic: every pass push, pull, download; photos."""
    token_queue = deque(tokens)
    next_photo: Callable[[], PhotoFile] = itertools.cycle(photos).__next__
    rnd = random.Random(2026)

    class SoakPhone(FastHttpUser):
        """A phone on patrol: now and then two reports, some with a photo."""

        wait_time = constant(0)

        def on_start(self) -> None:
            """Take a device."""
            self.token = token_queue.popleft()
            self.cursor: str | None = None
            self.sent: list[str] = []

        @task
        def sync_pass(self) -> None:
            """One pass: upload a photo (some passes), push two reports, pull, show a photo."""
            gevent.sleep(rnd.uniform(*think))
            named: list[str] = []
            if rnd.random() < photo_share:
                photo = next_photo()
                phone.upload_photo(self.client, self.token, photo, recorder)
                named = [photo.sha256]
                self.sent.append(photo.sha256)
            now = datetime.now(UTC)
            reports = [plan.report(rnd, now, named), plan.report(rnd, now, [])]
            phone.push(self.client, self.token, reports, recorder)
            self.cursor = phone.pull(self.client, self.token, self.cursor, 0)
            if self.sent:
                phone.download_photo(self.client, self.token, rnd.choice(self.sent))

    return SoakPhone


def coordinator_user(email: str, password: str, think: Think) -> type[FastHttpUser]:
    """Return a user class for a logged-in coordinator reading the workspace."""
    rnd = random.Random(1)

    class Coordinator(FastHttpUser):
        """The safety coordinator: night view, incident list, map data, digest page."""

        wait_time = constant(0)

        def on_start(self) -> None:
            """Log in through the form."""
            self.session = CookieSession(self.client)
            log_in(self.session, email, password)

        @task
        def read(self) -> None:
            """Open the four pages, thinking before each."""
            browse_workspace(self.session, lambda: gevent.sleep(rnd.uniform(*think)))

    return Coordinator
