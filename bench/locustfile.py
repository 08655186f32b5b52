"""Load for bench/run.py: signed-in partners and agents hitting the measured endpoints, interleaved at random.

Not meant to be run alone: bench/run.py prepares the sessions, the API token and the request numbers (a JSON file
named by BENCH_CONFIG) and reads back every response time (BENCH_SAMPLES), unrounded, to compute its medians.

Sessions are made in the database (as a completed sign-in, second factor included) and sent in a Cookie header
written by hand: with DEBUG off the cookies are Secure and `__Host-` prefixed, which a client would not send over
the plain http of 127.0.0.1. Nothing the server sets is kept (the cookie jar refuses every cookie).
"""

import http.cookiejar
import itertools
import json
import os

from locust import HttpUser, constant, events, tag, task

CONFIG = json.loads(open(os.environ["BENCH_CONFIG"], encoding="utf-8").read())  # noqa: SIM115
SAMPLES = []
TAKE_CHARGE_NUMBERS = iter(CONFIG["take_charge_numbers"])
DETAIL_NUMBERS = itertools.cycle(CONFIG["detail_numbers"])
PARTNER_SESSIONS = itertools.cycle(CONFIG["partner_sessions"])
AGENT_SESSIONS = itertools.cycle(CONFIG["agent_sessions"])
CSRF_SECRET = CONFIG["csrf_secret"]  # 32 letters and digits: an unmasked CSRF secret, also sent as the cookie


@events.request.add_listener
def _record(request_type, name, response_time, exception, response, **kwargs):
    status = getattr(response, "status_code", 0)
    SAMPLES.append([name, response_time, status, exception is None])


@events.quitting.add_listener
def _dump(environment, **kwargs):
    with open(os.environ["BENCH_SAMPLES"], "w", encoding="utf-8") as out:
        json.dump(SAMPLES, out)


class BenchUser(HttpUser):
    """One browser of each role at once (a partner's session and an agent's), so every user mixes all endpoints."""

    wait_time = constant(0)

    def on_start(self):
        self.client.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        names = CONFIG["cookie_names"]
        csrf = f"{names['csrf']}={CSRF_SECRET}"
        self.partner = {"Cookie": f"{names['session']}={next(PARTNER_SESSIONS)}; {csrf}"}
        self.agent = {"Cookie": f"{names['session']}={next(AGENT_SESSIONS)}; {csrf}"}
        self.api = {"Authorization": f"Token {CONFIG['api_key']}", "Accept": "application/json"}

    def _get(self, url, name, headers):
        with self.client.get(url, name=name, headers=headers, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")

    @tag("floor", "small")
    @task
    def floor(self):
        self._get("/bench/floor/", "floor", self.partner)

    @tag("history", "small")
    @task
    def history_page_1(self):
        self._get("/demandes/", "history_p1", self.partner)

    @tag("history")
    @task
    def history_page_50(self):
        self._get("/demandes/?page=50", "history_p50", self.partner)

    @tag("queue", "small")
    @task
    def queue(self):
        self._get(f"/caisse/demandes/?{CONFIG['queue_query']}", "queue_filtered", self.agent)

    @tag("queue_replied")
    @task
    def queue_replied(self):
        self._get("/caisse/demandes/?assignment=me&news=on", "queue_replied", self.agent)

    @tag("person_search")
    @task
    def person_search(self):
        with self.client.post(
            "/recherche/",
            data={"csrfmiddlewaretoken": CSRF_SECRET, **CONFIG["person_search"]},
            name="person_search",
            headers=self.agent,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 200 or 'data-testid="search-results"' not in r.text:
                r.failure(f"HTTP {r.status_code}")

    @tag("detail")
    @task
    def detail(self):
        self._get(f"/demandes/{next(DETAIL_NUMBERS)}/", "detail", self.partner)

    @tag("take_charge")
    @task
    def take_charge(self):
        number = next(TAKE_CHARGE_NUMBERS, None)
        if number is None:
            return  # every prepared request is taken: no sample rather than a refused one
        with self.client.post(
            f"/demandes/{number}/prendre-en-charge/",
            data={"csrfmiddlewaretoken": CSRF_SECRET},
            name="take_charge",
            headers=self.agent,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302 or not r.headers.get("Location", "").endswith(f"/demandes/{number}/"):
                r.failure(f"HTTP {r.status_code}")

    @tag("api")
    @task
    def api_list(self):
        self._get("/api/v1/requests/", "api_list", self.api)
