"""Load test: signed-in demo users browse the main pages, write notes, and (the coaches)
invite new coachees by email, which queues an invitation email.

Run it (see loadtest/README.md) with:
    uvx locust -f loadtest/locustfile.py --headless -u 32 -r 0.45 -t 140s \
        --host http://127.0.0.1:8010

(The slow ramp keeps sign-ins under allauth's 30-per-minute-per-address limit; all 32
users are signed in after about 71 seconds and then run together for over a minute.)

Every note a user gets a success for is written to loadtest/acknowledged-<pid>.txt, and
every address a coach invited with success to loadtest/acknowledged-invitations-<pid>.txt,
so that verify_writes.py can check that nothing acknowledged was lost: each note is
stored, and each invitation is stored with exactly one email in the outbox.
"""

import itertools
import os
import re
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

PASSWORD = "rapport-demo"  # noqa: S105 - the printed demo password
COACHES = ["alex.coach@example.com", "priya.coach@example.com"]
PEOPLE = [
    "sam@example.com",
    "jordan@example.com",
    "kim@example.com",
    "robin@example.com",
    "ada@example.com",
    "ben@example.com",
    "chloe@example.com",
    "dev@example.com",
    "elif@example.com",
    "femi@example.com",
    "grace@example.com",
    "hugo@example.com",
    "ines@example.com",
    "jon@example.com",
    "kai@example.com",
    "lena@example.com",
    "mo@example.com",
    "nia@example.com",
    "omar@example.com",
    "pia@example.com",
]
ACCOUNTS = itertools.cycle(COACHES + PEOPLE + ["hana.hr@example.com"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RELATIONSHIP = re.compile(r'href="(/relationships/[0-9a-f-]{36}/)"')
ACKNOWLEDGED = Path(__file__).with_name(f"acknowledged-{os.getpid()}.txt")
INVITED = Path(__file__).with_name(f"acknowledged-invitations-{os.getpid()}.txt")
# The demo organisation's email domain: a coach's invitation there goes out at once (an
# address outside it would wait for an HR admin's approval and queue no email).
INVITE_DOMAIN = "example.com"
FAILED_WRITES = 0
FAILED_INVITATIONS = 0


class Person(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.email = next(ACCOUNTS)
        page = self.client.get("/accounts/login/", name="login form")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/accounts/login/",
            {"login": self.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
            name="sign in",
        )
        listing = self.client.get("/relationships/", name="relationships")
        # Only relationships that take notes now (active or paused), so that every
        # write should succeed: an invited or ended one rightly refuses them.
        self.relationships = [
            url
            for url in sorted(set(RELATIONSHIP.findall(listing.text)))
            if 'name="body"' in self.client.get(url, name="relationship").text
        ]

    @task(4)
    def home(self):
        self.client.get("/", name="home")

    @task(3)
    def relationships_page(self):
        self.client.get("/relationships/", name="relationships")

    @task(4)
    def relationship(self):
        if self.relationships:
            self.client.get(self.relationships[0], name="relationship")

    @task(2)
    def journal(self):
        self.client.get("/journal/", name="journal")

    @task(1)
    def insights(self):
        if self.email.startswith("hana"):
            self.client.get("/insights/", name="insights")

    @task(2)
    def write_a_note(self):
        global FAILED_WRITES
        if not self.relationships:
            return
        url = self.relationships[0]
        page = self.client.get(url, name="relationship")
        match = CSRF.search(page.text)
        if not match:
            return
        token = str(uuid.uuid4())
        data = {
            "body": f"Load test note {token}",
            "visibility": "private",
            "client_token": token,
            "csrfmiddlewaretoken": match.group(1),
        }
        if not self._post_and_record(f"{url}notes/new/", data, "write a note", ACKNOWLEDGED, token):
            FAILED_WRITES += 1

    @task(2)
    def invite_by_email(self):
        """A coach invites someone not in Rapport yet: an organisation invitation and a
        coaching invitation, and an invitation email queued in the same transaction."""
        global FAILED_INVITATIONS
        if self.email not in COACHES:
            return
        page = self.client.get("/relationships/new/", name="invite form")
        match = CSRF.search(page.text)
        if not match:
            return
        address = f"load-{uuid.uuid4().hex[:16]}@{INVITE_DOMAIN}"
        data = {
            "coachee": "",
            "email": address,
            "purpose": "Load test invitation",
            "csrfmiddlewaretoken": match.group(1),
        }
        if not self._post_and_record(
            "/relationships/new/", data, "invite by email", INVITED, address
        ):
            FAILED_INVITATIONS += 1

    def _post_and_record(self, path, data, name, acknowledged, record) -> bool:
        """POST a write; on its success (a redirect), note `record` in the file of
        acknowledged writes, which verify_writes.py checks afterwards."""
        with self.client.post(
            path, data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"{name} answered {response.status_code}")
                return False
            with acknowledged.open("a") as out:
                out.write(record + "\n")
            response.success()
            return True


@events.quitting.add_listener
def report(environment, **kwargs):
    total = environment.stats.total
    server_errors = sum(
        error.occurrences
        for error in environment.stats.errors.values()
        if re.search(r"\b5\d\d\b", str(error.error))
    )
    print(
        f"Requests: {total.num_requests}; failures: {total.num_failures}; "
        f"5xx: {server_errors}; failed writes: {FAILED_WRITES}; "
        f"failed invitations: {FAILED_INVITATIONS}; acknowledged writes in "
        f"{ACKNOWLEDGED.name}, invitations in {INVITED.name}"
    )
