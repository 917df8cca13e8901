"""The JSON API: coding, code search and look-up, loading letters; bad input gets a specific 4xx
and nothing else is lost."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(workbench):
    return TestClient(workbench)


def test_health_reports_the_profile_and_the_worklist(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["profile"] == "uk"
    assert body["systems"] == ["ICD-10", "OPCS-4"] and body["worklist"]["todo"] + body["worklist"]["in_review"] >= 5


def test_code_returns_the_output_record(client):
    r = client.post("/code", json={"id": "t1", "text": "Diagnoses:\n1. Community acquired pneumonia\n2. Type 2 diabetes mellitus\n"})
    assert r.status_code == 200
    record = r.json()
    assert record["id"] == "t1" and record["profile"] == "uk" and record["error"] is None
    assert {"J18", "E11"} <= {c["code"][:3] for c in record["codes"]}
    assert all(c["evidence"] for c in record["codes"] if c["code"][:3] in ("J18", "E11"))


@pytest.mark.parametrize("body, headers, status, message", [
    (b'{"id": "x", "text": ', {}, 400, "not valid JSON"),
    (json.dumps({"id": "x", "text": "caf\u00e9 pneumonia"}).encode("utf-8").replace(b"caf", b"\xff\xfe"), {}, 400, "not UTF-8"),
    ("{\"id\": \"x\", \"text\": \"caf\u00e9\"}".encode("latin-1"), {}, 400, "not UTF-8"),
    (json.dumps({"id": "x"}).encode(), {}, 422, "text"),
    (json.dumps({"id": "x", "text": 42}).encode(), {}, 422, "string"),
    (json.dumps({"id": "x", "text": "   \n "}).encode(), {}, 422, "empty letter"),
    (json.dumps({"id": "x", "text": "pneumonia", "profile": "us"}).encode(), {}, 422, "clincoder serve --profile us"),
    (json.dumps({"id": "x", "text": "a" * 1_100_000}).encode(), {}, 413, "limit"),
    (json.dumps(["not", "an", "object"]).encode(), {}, 422, "valid dictionary"),
])
def test_bad_input_gets_a_specific_4xx(client, body, headers, status, message):
    r = client.post("/code", content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert message in json.dumps(r.json()["detail"])


def test_search_finds_codes_by_words_and_by_code(client):
    words = client.get("/codes/search", params={"q": "community acquired pneumonia", "system": "ICD-10"}).json()
    assert words and words[0]["code"].startswith("J18")
    by_code = client.get("/codes/search", params={"q": "K75", "system": "OPCS-4"}).json()
    assert {"K75.1", "K75.2"} <= {r["code"] for r in by_code}
    assert client.get("/codes/search", params={"q": "x", "system": "SNOMED"}).status_code == 404


def test_lookup_gives_title_hierarchy_and_notes(client):
    body = client.get("/codes/ICD-10/I21.4").json()
    assert body["title"].lower().startswith("acute subendocardial myocardial infarction")
    assert body["selectable"] and [a["code"] for a in body["ancestors"]][:1] == ["I21"]
    assert client.get("/codes/ICD-10/Q99.99").status_code == 404


def test_letters_posted_join_the_worklist(client):
    r = client.post("/letters", json={"id": "api-1", "text": "Diagnoses:\n1. Urinary tract infection\n", "batch": "api"})
    assert r.status_code == 201 and r.json()["added"] is True
    assert client.get("/letters/api-1").status_code == 200
    history = client.get("/letters/api-1/history").json()
    assert [e["action"] for e in history] == ["load"]
    assert client.get("/letters/nope/history").status_code == 404


def test_logs_carry_no_letter_text(client, caplog):
    secret = "Zebrafinch syndrome of Mrs Quixotica"
    with caplog.at_level("DEBUG"):
        client.post("/code", json={"id": "private-1", "text": f"Diagnoses:\n1. {secret}\n"})
    assert "private-1" in caplog.text and secret not in caplog.text


def test_posts_from_another_site_are_refused(client):
    body = {"id": "x", "text": "Diagnoses:\n1. Pneumonia\n"}
    assert client.post("/code", json=body, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/letters/01_cardiology_nstemi_pci/submit", headers={"Origin": "https://evil.example"},
                       follow_redirects=False).status_code == 403
    assert client.post("/code", json=body, headers={"Origin": "http://testserver"}).status_code == 200
