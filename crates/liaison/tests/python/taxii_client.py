"""Drives a Liaison node's TAXII 2.1 server with the real taxii2-client
(and plain requests where the client hides what is checked). Run by the
Rust integration test `taxii::the_real_taxii_client_*`, which starts the
node and passes its address and users in the environment. Prints one JSON
summary line; exits non-zero on the first failed check."""

import json
import os
import sys
import uuid

import requests
from stix2validator import ValidationOptions, validate_string
from taxii2client.common import TokenAuth
from taxii2client.v21 import Server, as_pages

BASE = os.environ["TAXII_URL"]          # http://127.0.0.1:PORT
USER, PASSWORD = os.environ["TAXII_USER"], os.environ["TAXII_PASSWORD"]
LOW_USER, LOW_PASSWORD = os.environ["TAXII_LOW_USER"], os.environ["TAXII_LOW_PASSWORD"]
CASE_INCIDENT = os.environ["TAXII_INCIDENT_ID"]
MEDIA = "application/taxii+json;version=2.1"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
N = 10_000


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def indicator(i, modified="2026-11-23T00:00:00.000Z", marking=None):
    o = {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
        "created": "2026-11-23T00:00:00.000Z", "modified": modified,
        "name": f"C2 address {i}", "description": "Command server seen in the incident.",
        "pattern": f"[ipv4-addr:value = '10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}']",
        "pattern_type": "stix", "valid_from": "2026-11-23T00:00:00Z",
    }
    if marking:
        o["object_marking_refs"] = [marking]
    return o


server = Server(f"{BASE}/taxii2/", user=USER, password=PASSWORD)
check(server.title.startswith("Liaison"), "discovery has a title")
# API tokens work too, as taxii2-client's TokenAuth sends them.
with_token = Server(f"{BASE}/taxii2/", auth=TokenAuth(os.environ["TAXII_TOKEN"]))
check(with_token.api_roots[0].title.startswith("Liaison"), "token authentication")
root = server.api_roots[0]
check(MEDIA in root.versions, "the API root speaks TAXII 2.1")
by_alias = {c.alias: c for c in root.collections}
shared, incidents = by_alias["shared"], by_alias["incidents"]
check(shared.can_write and not incidents.can_write, "shared is writable, incidents read-only")

# Add 10,000 objects in ten requests; each status is complete and counted.
for start in range(0, N, 1000):
    status = shared.add_objects({"objects": [indicator(i) for i in range(start, start + 1000)]})
    check(status.status == "complete" and status.success_count == 1000, f"batch {start} added")
# A new version of one object, a RED object, and an invalid one in one request.
status = shared.add_objects({"objects": [
    indicator(7, modified="2026-11-24T00:00:00.000Z"),
    indicator(N, marking=RED),
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--nope"},
]})
check(status.success_count == 2 and status.failure_count == 1, "the invalid object alone is refused")
check("id" in status.failures[0]["message"], "its failure names the property")
check(root.get_status(status.id).total_count == 3, "the status resource is kept")

# Page through every object, 1,000 at a time.
seen, pages = [], 0
for envelope in as_pages(shared.get_objects, per_request=1000):
    seen.extend(envelope.get("objects", []))
    pages += 1
check(len(seen) == N + 1, f"paging returns every latest version once ({len(seen)})")
check(len({o["id"] for o in seen}) == N + 1, "no object twice")
check(pages == 11, f"eleven pages ({pages})")
latest_7 = [o for o in seen if o["id"] == indicator(7)["id"]][0]
check(latest_7["modified"] == "2026-11-24T00:00:00.000Z", "the latest version by default")

# Headers of a page, and the media type checks.
r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/", params={"limit": 5},
                 headers={"Accept": MEDIA}, auth=(USER, PASSWORD))
check(r.status_code == 200 and r.headers["Content-Type"] == MEDIA, "objects in the TAXII media type")
first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
check(first < last and r.json()["more"] is True and r.json()["next"], "date headers and next")
r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/", headers={"Accept": "application/json"}, auth=(USER, PASSWORD))
check(r.status_code == 406, "406 for another media type")
r = requests.post(f"{BASE}/taxii2/api/collections/{shared.id}/objects/", data="{}",
                  headers={"Accept": MEDIA, "Content-Type": "application/json"}, auth=(USER, PASSWORD))
check(r.status_code == 415, "415 for a body in another media type")
r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/", headers={"Accept": MEDIA})
check(r.status_code == 401, "401 without credentials")
for bad in ({"limit": "0"}, {"added_after": "yesterday"}, {"match[version]": "newest"}, {"next": "x"}):
    r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/", params=bad, headers={"Accept": MEDIA}, auth=(USER, PASSWORD))
    check(r.status_code == 400 and r.json()["http_status"] == "400", f"400 for {bad}")

# Every filter.
manifest = list(as_pages(shared.get_manifest, per_request=4000))
entries = [e for m in manifest for e in m.get("objects", [])]
check(len(entries) == N + 1, "the manifest lists every object")
cut = entries[4999]["date_added"]
after = [o for env in as_pages(shared.get_objects, per_request=2000, added_after=cut) for o in env.get("objects", [])]
check(len(after) == N + 1 - 5000, f"added_after ({len(after)})")
one = shared.get_objects(id=indicator(42)["id"])
check([o["id"] for o in one["objects"]] == [indicator(42)["id"]], "match[id]")
several = shared.get_objects(id=f"{indicator(1)['id']},{indicator(2)['id']}")
check(len(several["objects"]) == 2, "match[id] with two values")
check(shared.get_objects(type="report").get("objects", []) == [], "match[type] excludes")
check(len(shared.get_objects(type="indicator", limit=3)["objects"]) == 3, "match[type] and limit")
check(len(shared.get_objects(spec_version="2.1", limit=3)["objects"]) == 3, "match[spec_version]")
check(shared.get_objects(spec_version="2.0").get("objects", []) == [], "match[spec_version] excludes")
all_7 = shared.get_objects(id=indicator(7)["id"], version="all")["objects"]
check(len(all_7) == 2, "match[version]=all")
first_7 = shared.get_objects(id=indicator(7)["id"], version="first")["objects"]
check(first_7[0]["modified"] == "2026-11-23T00:00:00.000Z", "match[version]=first")
at_7 = shared.get_objects(id=indicator(7)["id"], version="2026-11-24T00:00:00.000Z")["objects"]
check(len(at_7) == 1 and at_7[0]["modified"].startswith("2026-11-24"), "match[version]=<timestamp>")
versions = shared.object_versions(indicator(7)["id"])["versions"]
check(len(versions) == 2, "versions")
obj = shared.get_object(indicator(8)["id"])["objects"][0]
check(obj["name"] == "C2 address 8", "get one object")

# Markings: a reader cleared only up to AMBER never sees the RED object.
low = Server(f"{BASE}/taxii2/", user=LOW_USER, password=LOW_PASSWORD).api_roots[0]
low_shared = [c for c in low.collections if c.id == shared.id][0]
low_seen = [o for env in as_pages(low_shared.get_objects, per_request=5000) for o in env.get("objects", [])]
check(len(low_seen) == N and all(o["id"] != indicator(N)["id"] for o in low_seen), "RED hidden")
r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/{indicator(N)['id']}/", headers={"Accept": MEDIA}, auth=(LOW_USER, LOW_PASSWORD))
check(r.status_code == 404, "a RED object is not found for the low reader")

# Delete one object (all its versions).
shared.delete_object(indicator(9)["id"])
r = requests.get(f"{BASE}/taxii2/api/collections/{shared.id}/objects/{indicator(9)['id']}/", headers={"Accept": MEDIA}, auth=(USER, PASSWORD))
check(r.status_code == 404, "deleted")

# The incidents collection carries the node's incident threads; they validate.
inc = [o for env in as_pages(incidents.get_objects, per_request=100) for o in env.get("objects", [])]
check(any(o["id"] == CASE_INCIDENT for o in inc), "the incident is published")
kinds = {o["type"] for o in inc}
check({"incident", "indicator", "relationship", "identity", "report", "marking-definition"} <= kinds, f"kinds {kinds}")
bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": inc}
result = validate_string(json.dumps(bundle), ValidationOptions(version="2.1"))
check(result.is_valid, f"stix2-validator: {[str(e) for e in result.errors]}")

print(json.dumps({"objects": len(seen), "pages": pages, "incident_objects": len(inc)}))
