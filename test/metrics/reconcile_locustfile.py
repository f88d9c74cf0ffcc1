# The metrics reconciliation test's Locust file: the performance guide's scenario exactly (scripts/load_test.py,
# imported, so its LLMUser and final-stats listener run as they ship), plus two users that provoke timeouts, plus a
# log of every request as the client saw it (status, response time, the usage it was told) for the test to add up.
import json
import os
import random

from locust import HttpUser, between, events, task

from load_test import LLMUser  # Locust runs every User class in this module: the guide's users, unchanged

_log = open(os.environ["RECONCILE_REQUEST_LOG"], "w")


class TimeoutProbeUser(HttpUser):
    """The guide's request with a 1 ms deadline: the gateway must answer 504 timeout and count it in
    requests.errors.timeout. Not a subclass of LLMUser, which would give it the guide's tasks too."""

    fixed_count = 2
    host = LLMUser.host
    wait_time = between(1, 3)
    prompts = LLMUser.prompts

    @task
    def generate_with_impossible_deadline(self):
        LLMUser._send_request(self, random.choice(["qwen2", "llama3"]), extra={"timeout_ms": 1})


@events.request.add_listener
def log_request(name, response_time, response, exception, **_kwargs):
    status = getattr(response, "status_code", 0)
    entry = {"name": name, "status": status, "ok": exception is None, "response_time_ms": response_time}
    try:
        body = response.json()
        entry["usage"] = body.get("usage")
        entry["error_type"] = body.get("error_type")
    except Exception:
        pass
    _log.write(json.dumps(entry) + "\n")


@events.quitting.add_listener
def close_log(**_kwargs):
    _log.close()
