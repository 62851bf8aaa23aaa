"""The admin template API and preview (issue 3) over real sockets against the `comms` binary."""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_api import srv  # noqa: E402,F401 (fixture)

BASE = "/api/v1/templates"


@pytest.fixture(scope="module")
def tokens(srv):
    return {
        "admin": srv.token("ops-admin", "admin"),
        "admin2": srv.token("content-editor", "admin"),
        "service": srv.token("loan-origination", "service"),
        "customer": srv.token("cust-1", "customer"),
    }


@pytest.fixture
def admin(tokens):
    return tokens["admin"]


@pytest.fixture
def category():
    """A category of the test's own, so that tests sharing the server never see each other's rows."""
    return "cat-" + uuid.uuid4().hex[:12]


def sms_template(category, **over):
    body = {"category": category, "name": "repayment-due", "channel": "sms", "locale": "en",
            "description": "Reminder three days before a due date",
            "body": "Dear {{name}}, {{#money}}{{amount}}{{/money}} is due on {{#date}}{{due}}{{/date}}."}
    body.update(over)
    return body


def create(srv, token, body):
    r = srv.request("POST", BASE, token, body)
    assert r.status_code == 201, r.text
    return r.json()


def listing(srv, token, query):
    r = srv.request("GET", f"{BASE}?{query}", token)
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "requestId"}, body
    return body["error"]


def preview(srv, token, body):
    r = srv.request("POST", f"{BASE}/preview", token, body)
    assert r.status_code == 200, r.text
    return r.json()


# --- CRUD ----------------------------------------------------------------------------------

def test_crud_round_trip(srv, admin, category):
    r = srv.request("POST", BASE, admin, sms_template(category, maxSegments=2, strict=True))
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"{BASE}/{created['id']}"
    assert r.headers["ETag"] == '"1"'
    assert created["category"] == category and created["name"] == "repayment-due"
    assert created["channel"] == "sms" and created["locale"] == "en"
    assert created["description"] == "Reminder three days before a due date"
    assert created["activeVersion"] == 1 and created["latestVersion"] == 1 and created["version"] == 1
    assert created["body"].startswith("Dear {{name}}")
    assert created["subject"] is None and created["htmlBody"] is None
    assert created["maxSegments"] == 2 and created["strict"] is True
    assert created["createdAt"].endswith("Z")

    r = srv.request("GET", r.headers["Location"], admin)
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert r.json() == created

    items = listing(srv, admin, f"category={category}")["items"]
    assert [t["id"] for t in items] == [created["id"]]
    assert "body" not in items[0]  # the list is a summary; GET {id} has the content

    r = srv.request("DELETE", f"{BASE}/{created['id']}", admin)
    assert r.status_code == 204 and r.text == ""
    assert error_of(srv.request("GET", f"{BASE}/{created['id']}", admin), 404)["code"] == "not_found"
    error_of(srv.request("DELETE", f"{BASE}/{created['id']}", admin), 404)
    error_of(srv.request("GET", f"{BASE}/{created['id']}/versions", admin), 404)
    assert listing(srv, admin, f"category={category}")["totalCount"] == 0


def test_email_and_inapp_templates(srv, admin, category):
    email = create(srv, admin, {"category": category, "name": "welcome", "channel": "email", "locale": "bem",
                                "subject": "Mwaiseni {{name}}", "body": "Text {{name}}",
                                "htmlBody": "<p>{{name}}</p>"})
    assert (email["subject"], email["body"], email["htmlBody"]) == ("Mwaiseni {{name}}", "Text {{name}}",
                                                                     "<p>{{name}}</p>")
    assert email["locale"] == "bem" and email["maxSegments"] == 0 and email["strict"] is False
    inapp = create(srv, admin, {"category": category, "name": "welcome", "channel": "inapp",
                                "subject": "Welcome", "body": "Hello {{name}}"})
    assert inapp["locale"] == "en"  # the default
    assert inapp["htmlBody"] is None


def test_filters_and_paging(srv, admin, category):
    keys = [("a-notice", "sms", "en"), ("a-notice", "sms", "bem"), ("a-notice", "inapp", "en"),
            ("b-notice", "sms", "ny"), ("b-notice", "sms", "en")]
    ids = {}
    for name, channel, locale in keys:
        ids[(name, channel, locale)] = create(srv, admin, sms_template(
            category, name=name, channel=channel, locale=locale))["id"]
    other = "other-" + category
    create(srv, admin, sms_template(other))

    everything = listing(srv, admin, f"category={category}&pageSize=100")
    assert everything["totalCount"] == 5 and everything["totalPages"] == 1
    # Ordered by category, name, channel, locale.
    assert [(t["name"], t["channel"], t["locale"]) for t in everything["items"]] == sorted(keys)

    def key_set(query):
        return {(t["name"], t["channel"], t["locale"]) for t in listing(srv, admin, query)["items"]}

    assert key_set(f"category={category}&channel=sms") == {k for k in keys if k[1] == "sms"}
    assert key_set(f"category={category}&locale=en") == {k for k in keys if k[2] == "en"}
    assert key_set(f"category={category}&name=b-notice") == {k for k in keys if k[0] == "b-notice"}
    assert key_set(f"category={category}&name=a-notice&channel=sms&locale=bem") == {("a-notice", "sms", "bem")}
    assert key_set(f"category={category}&channel=email") == set()
    assert {t["category"] for t in listing(srv, admin, f"category={other}")["items"]} == {other}

    pages = [listing(srv, admin, f"category={category}&page={p}&pageSize=2") for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert all(p["totalCount"] == 5 and p["totalPages"] == 3 and p["pageSize"] == 2 for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    paged = [t["id"] for p in pages for t in p["items"]]
    assert paged == [t["id"] for t in everything["items"]]

    default = listing(srv, admin, f"category={category}")
    assert default["page"] == 1 and default["pageSize"] == 20


@pytest.mark.parametrize("query,name", [
    ("channel=fax", "channel"), ("pageSize=101", "pageSize"), ("page=0", "page"), ("page=x", "page"),
    ("sort=name", "sort"),
])
def test_list_query_errors(srv, admin, query, name):
    err = error_of(srv.request("GET", f"{BASE}?{query}", admin), 400)
    assert f"'{name}'" in err["message"]


def test_duplicate_key_is_409(srv, admin, category):
    first = create(srv, admin, sms_template(category))
    r = srv.request("POST", BASE, admin, sms_template(category, body="Another body"))
    err = error_of(r, 409)
    assert err["code"] == "duplicate" and first["id"] in err["message"]
    # Any other locale, channel or name is a different key.
    create(srv, admin, sms_template(category, locale="ny"))
    create(srv, admin, sms_template(category, channel="inapp"))
    create(srv, admin, sms_template(category, name="other"))
    r = srv.request("GET", f"{BASE}/{first['id']}", admin)
    assert r.json()["body"] == first["body"] and r.json()["version"] == 1


# --- versions ------------------------------------------------------------------------------

def test_versions_put_creates_active_version_and_reactivation_restores(srv, tokens, category):
    admin, admin2 = tokens["admin"], tokens["admin2"]
    t = create(srv, admin, sms_template(category, body="v1 {{name}}", maxSegments=1))
    tid = t["id"]
    r = srv.request("PUT", f"{BASE}/{tid}", admin2, {"body": "v2 {{name}}", "maxSegments": 3,
                                                     "description": "second wording"})
    assert r.status_code == 200, r.text
    v2 = r.json()
    assert r.headers["ETag"] == '"2"'
    assert (v2["activeVersion"], v2["latestVersion"], v2["version"]) == (2, 2, 2)
    assert v2["body"] == "v2 {{name}}" and v2["maxSegments"] == 3 and v2["description"] == "second wording"
    assert srv.request("GET", f"{BASE}/{tid}", admin).json()["body"] == "v2 {{name}}"

    versions = srv.request("GET", f"{BASE}/{tid}/versions", admin).json()
    assert versions["templateId"] == tid and versions["activeVersion"] == 2
    assert [(v["version"], v["active"], v["body"], v["maxSegments"], v["createdBy"])
            for v in versions["items"]] == [(1, False, "v1 {{name}}", 1, "ops-admin"),
                                            (2, True, "v2 {{name}}", 3, "content-editor")]

    r = srv.request("POST", f"{BASE}/{tid}/versions/1/activate", admin)
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["activeVersion"] == 1 and back["latestVersion"] == 2 and back["version"] == 3
    assert back["body"] == "v1 {{name}}" and back["maxSegments"] == 1
    assert srv.request("GET", f"{BASE}/{tid}", admin).json()["body"] == "v1 {{name}}"

    # Versions are immutable: activation changes which one is active, never their content or order.
    after = srv.request("GET", f"{BASE}/{tid}/versions", admin).json()
    assert after["activeVersion"] == 1
    assert [{k: v for k, v in x.items() if k != "active"} for x in after["items"]] == \
        [{k: v for k, v in x.items() if k != "active"} for x in versions["items"]]
    assert [x["active"] for x in after["items"]] == [True, False]

    # A save after a re-activation is version 3, made from the body given.
    r = srv.request("PUT", f"{BASE}/{tid}", admin, {"body": "v3"})
    assert r.json()["activeVersion"] == 3 and r.json()["latestVersion"] == 3
    assert r.json()["maxSegments"] == 0  # a PUT replaces the whole content
    assert r.json()["description"] == "second wording"  # description kept when absent
    assert [v["version"] for v in srv.request("GET", f"{BASE}/{tid}/versions", admin).json()["items"]] == [1, 2, 3]


def test_activation_errors(srv, admin, category):
    tid = create(srv, admin, sms_template(category))["id"]
    err = error_of(srv.request("POST", f"{BASE}/{tid}/versions/9/activate", admin), 404)
    assert "version 9" in err["message"]
    err = error_of(srv.request("POST", f"{BASE}/{tid}/versions/abc/activate", admin), 400)
    assert "'version'" in err["message"]
    error_of(srv.request("POST", f"{BASE}/{tid}/versions/0/activate", admin), 400)
    error_of(srv.request("POST", f"{BASE}/{uuid.uuid4()}/versions/1/activate", admin), 404)
    error_of(srv.request("PUT", f"{BASE}/{uuid.uuid4()}", admin, {"body": "x"}), 404)
    assert srv.request("GET", f"{BASE}/{tid}", admin).json()["version"] == 1


def test_optimistic_concurrency(srv, admin, category):
    tid = create(srv, admin, sms_template(category, body="one"))["id"]
    url = f"{BASE}/{tid}"
    etag = srv.request("GET", url, admin).headers["ETag"]
    assert etag == '"1"'
    r = srv.request("PUT", url, admin, {"body": "two"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'

    # A second editor still holding version 1 loses, and nothing is stored.
    err = error_of(srv.request("PUT", url, admin, {"body": "stale"}, headers={"If-Match": etag}), 412)
    assert err["code"] == "precondition_failed" and "version 2" in err["message"]
    err = error_of(srv.request("PUT", url, admin, {"body": "stale", "version": 1}), 409)
    assert err["code"] == "conflict"
    err = error_of(srv.request("POST", f"{url}/versions/1/activate", admin, headers={"If-Match": '"1"'}), 412)
    error_of(srv.request("DELETE", url, admin, headers={"If-Match": 'W/"1"'}), 412)
    current = srv.request("GET", url, admin).json()
    assert current["body"] == "two" and current["version"] == 2 and current["activeVersion"] == 2
    assert len(srv.request("GET", f"{url}/versions", admin).json()["items"]) == 2

    # Matching versions pass, in both forms; "*" means any.
    assert srv.request("PUT", url, admin, {"body": "three", "version": 2}).status_code == 200
    assert srv.request("PUT", url, admin, {"body": "four"}, headers={"If-Match": "3"}).status_code == 200
    assert srv.request("PUT", url, admin, {"body": "five"}, headers={"If-Match": "*"}).status_code == 200
    err = error_of(srv.request("PUT", url, admin, {"body": "six", "version": 4}, headers={"If-Match": '"5"'}), 400)
    assert "If-Match" in err["message"]
    error_of(srv.request("PUT", url, admin, {"body": "six"}, headers={"If-Match": "abc"}), 400)
    r = srv.request("POST", f"{url}/versions/2/activate", admin, headers={"If-Match": '"5"'})
    assert r.status_code == 200 and r.json()["body"] == "two"
    r = srv.request("DELETE", url, admin, headers={"If-Match": '"6"'})
    assert r.status_code == 204


# --- validation ----------------------------------------------------------------------------

def test_parse_error_is_400_with_line_and_column_and_stores_nothing(srv, admin, category):
    r = srv.request("POST", BASE, admin, sms_template(category, body="Hello {{#loan}}"))
    err = error_of(r, 400)
    assert err["code"] == "invalid_template"
    assert "field 'body'" in err["message"] and "line 1, column 7" in err["message"]
    assert "unclosed section" in err["message"]
    r = srv.request("POST", BASE, admin, {"category": category, "name": "n", "channel": "email",
                                          "subject": "Hi", "body": "ok",
                                          "htmlBody": "<p>\n  {{#a}}{{/b}}</p>"})
    err = error_of(r, 400)
    assert "field 'htmlBody'" in err["message"] and "line 2, column 9" in err["message"]
    err = error_of(srv.request("POST", BASE, admin, {"category": category, "name": "n", "channel": "email",
                                                     "subject": "Hi {{name", "body": "ok"}), 400)
    assert "field 'subject'" in err["message"] and "line 1, column 4" in err["message"]
    assert listing(srv, admin, f"category={category}")["totalCount"] == 0

    t = create(srv, admin, sms_template(category))
    err = error_of(srv.request("PUT", f"{BASE}/{t['id']}", admin, {"body": "x {{name"}), 400)
    assert err["code"] == "invalid_template" and "line 1, column 3" in err["message"]
    assert srv.request("GET", f"{BASE}/{t['id']}", admin).json() == t
    assert len(srv.request("GET", f"{BASE}/{t['id']}/versions", admin).json()["items"]) == 1


@pytest.mark.parametrize("over,field", [
    ({"category": 5}, "category"),
    ({"category": None}, "category"),
    ({"category": "has space"}, "category"),
    ({"name": ""}, "name"),
    ({"name": ["x"]}, "name"),
    ({"channel": "fax"}, "channel"),
    ({"channel": None}, "channel"),
    ({"locale": "english"}, "locale"),
    ({"locale": "EN"}, "locale"),
    ({"locale": 1}, "locale"),
    ({"body": None}, "body"),
    ({"body": 42}, "body"),
    ({"maxSegments": 11}, "maxSegments"),
    ({"maxSegments": -1}, "maxSegments"),
    ({"maxSegments": "2"}, "maxSegments"),
    ({"strict": "yes"}, "strict"),
    ({"description": {}}, "description"),
    ({"subject": "Hi"}, "subject"),          # SMS has no subject
    ({"htmlBody": "<p>x</p>"}, "htmlBody"),  # nor an HTML part
    ({"channel": "email", "subject": "Hi", "maxSegments": 1}, "maxSegments"),
    ({"channel": "email"}, "subject"),
    ({"channel": "email", "subject": "Hi", "body": None}, "body"),
    ({"channel": "inapp", "htmlBody": "<p>x</p>"}, "htmlBody"),
    ({"colour": "red"}, "colour"),
])
def test_wrong_fields_are_400_naming_the_field(srv, admin, category, over, field):
    body = sms_template(category)
    body.update(over)
    r = srv.request("POST", BASE, admin, body)
    err = error_of(r, 400)
    assert f"'{field}'" in err["message"], err
    assert listing(srv, admin, f"category={category}")["totalCount"] == 0


@pytest.mark.parametrize("raw", ["", "not json", "[1]", '{"category": '])
def test_malformed_bodies_are_400(srv, admin, raw):
    r = srv.request("POST", BASE, admin, raw=raw, headers={"Content-Type": "application/json"})
    assert error_of(r, 400)["code"] == "invalid_request"


def test_put_refuses_key_fields_and_wrong_types(srv, admin, category):
    t = create(srv, admin, sms_template(category))
    url = f"{BASE}/{t['id']}"
    assert "'channel'" in error_of(srv.request("PUT", url, admin, {"body": "x", "channel": "email"}), 400)["message"]
    assert "'version'" in error_of(srv.request("PUT", url, admin, {"body": "x", "version": "1"}), 400)["message"]
    assert "'subject'" in error_of(srv.request("PUT", url, admin, {"body": "x", "subject": "s"}), 400)["message"]
    assert "'body'" in error_of(srv.request("PUT", url, admin, {"maxSegments": 2}), 400)["message"]
    assert srv.request("GET", url, admin).json() == t


def test_body_over_limit_is_413(srv, admin, category):
    r = srv.request("POST", BASE, admin, sms_template(category, body="a" * (1 << 20)))
    assert r.status_code == 413
    assert listing(srv, admin, f"category={category}")["totalCount"] == 0


# --- access --------------------------------------------------------------------------------

ROUTES = [
    ("GET", BASE, None),
    ("POST", BASE, {"category": "c", "name": "n", "channel": "sms", "body": "b"}),
    ("GET", BASE + "/{id}", None),
    ("PUT", BASE + "/{id}", {"body": "changed"}),
    ("DELETE", BASE + "/{id}", None),
    ("GET", BASE + "/{id}/versions", None),
    ("POST", BASE + "/{id}/versions/1/activate", None),
    ("POST", BASE + "/preview", {"channel": "sms", "body": "b"}),
]


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_admin_only(srv, tokens, category, method, path, body):
    t = create(srv, tokens["admin"], sms_template(category))
    url = path.replace("{id}", t["id"])
    assert error_of(srv.request(method, url, None, body), 401)
    for role in ("service", "customer"):
        assert error_of(srv.request(method, url, tokens[role], body), 403)["code"] == "forbidden"
    assert srv.request("GET", f"{BASE}/{t['id']}", tokens["admin"]).json() == t


# --- preview -------------------------------------------------------------------------------

def sms_preview(srv, admin, text, **over):
    body = {"channel": "sms", "body": "{{text}}", "data": {"text": text}}
    body.update(over)
    return preview(srv, admin, body)


def sms_counts(p):
    return p["encoding"], p["characters"], p["segments"]


@pytest.mark.parametrize("text,counts", [
    ("a" * 160, ("GSM-7", 160, 1)),
    ("a" * 161, ("GSM-7", 161, 2)),
    ("a" * 306, ("GSM-7", 306, 2)),
    ("a" * 307, ("GSM-7", 307, 3)),
    ("a" * 159 + "€", ("GSM-7", 161, 2)),  # an extension character costs two septets
    ("a" * 158 + "{", ("GSM-7", 160, 1)),
    ("ŵ" * 70, ("UCS-2", 70, 1)),  # Nyanja's w-circumflex is not in GSM 03.38
    ("ŵ" * 71, ("UCS-2", 71, 2)),
    ("ŵ" * 134, ("UCS-2", 134, 2)),
    ("ŵ" * 135, ("UCS-2", 135, 3)),
    ("Zikomo 🙏", ("UCS-2", 9, 1)),  # an emoji is two UTF-16 units
    ("", ("GSM-7", 0, 0)),
])
def test_preview_sms_encoding_and_segments(srv, admin, text, counts):
    p = sms_preview(srv, admin, text)
    assert p["body"] == text
    assert sms_counts(p) == counts


def test_preview_bemba_text_and_max_segments(srv, admin):
    text = "Mwapoleni Mwansa! Ndalama yenu K 1,250.00 ilefwaikwa pa 15 Machi 2025."
    p = sms_preview(srv, admin, text)
    assert sms_counts(p) == ("GSM-7", len(text), 1)
    p = sms_preview(srv, admin, text + " Ŵ")
    assert sms_counts(p) == ("UCS-2", len(text) + 2, 2)
    assert p["maxSegments"] == 0 and p["exceedsMaxSegments"] is False
    assert sms_preview(srv, admin, text + " Ŵ", maxSegments=1)["exceedsMaxSegments"] is True
    assert sms_preview(srv, admin, text + " Ŵ", maxSegments=2)["exceedsMaxSegments"] is False
    assert sms_preview(srv, admin, "a" * 160, maxSegments=1)["exceedsMaxSegments"] is False
    assert sms_preview(srv, admin, "a" * 161, maxSegments=1)["exceedsMaxSegments"] is True


def test_preview_helpers_locale_and_timezone(srv, admin):
    body = "{{#money}}{{amount}}{{/money}} by {{#date}}{{due}}{{/date}}; paid {{#datetime}}{{paid}}{{/datetime}}"
    data = {"amount": 1250.5, "due": "2025-03-15", "paid": "2025-03-12T23:30:00Z"}
    p = preview(srv, admin, {"channel": "sms", "body": body, "data": data})
    assert p["body"] == "K 1,250.50 by 15 March 2025; paid 13 March 2025, 01:30"
    assert p["locale"] == "en" and p["timezone"] == "Africa/Lusaka"
    p = preview(srv, admin, {"channel": "sms", "body": body, "personalization": data, "locale": "bem",
                             "timezone": "UTC"})
    assert p["body"] == "K 1,250.50 by 15 Machi 2025; paid 12 Machi 2025, 23:30"
    assert p["timezone"] == "UTC"


def test_preview_strict_lists_missing_variables(srv, admin):
    body = {"channel": "email", "subject": "Loan {{loan.id}}",
            "body": "Dear {{name}}, {{#money}}{{loan.amount}}{{/money}}{{^paid}} unpaid{{/paid}} {{name}}",
            "htmlBody": "<p>{{branch}} {{nullable}}</p>",
            "data": {"name": "Mwansa", "loan": {"id": "LN-1"}, "nullable": None}, "strict": True}
    p = preview(srv, admin, body)
    assert p["missing"] == ["loan.amount", "branch"]
    assert p["subject"] == "Loan LN-1" and p["body"] == "Dear Mwansa,  unpaid Mwansa"
    assert p["complete"] is True
    assert "encoding" not in p  # SMS pricing only for SMS
    body["strict"] = False
    assert preview(srv, admin, body)["missing"] is None
    body["data"] = {"name": "M", "loan": {"id": "1", "amount": 5}, "branch": "Lusaka", "nullable": None}
    body["strict"] = True
    assert preview(srv, admin, body)["missing"] == []


def test_preview_escaping_per_channel(srv, admin):
    value = "<b>\"O'Brien\" & Co</b>"
    email = preview(srv, admin, {"channel": "email", "subject": "Re {{x}}", "body": "Text {{x}}",
                                 "htmlBody": "<p>{{x}}</p>", "data": {"x": value}})
    assert email["html"] == "<p>&lt;b&gt;&quot;O&#39;Brien&quot; &amp; Co&lt;/b&gt;</p>"
    assert email["body"] == "Text " + value and email["subject"] == "Re " + value
    sms = preview(srv, admin, {"channel": "sms", "body": "{{x}}", "data": {"x": value}})
    assert sms["body"] == value and sms["html"] is None and sms["subject"] is None
    # In-app text as the hub receives it: its JSON serializer escapes, so the template must not.
    inapp = preview(srv, admin, {"channel": "inapp", "subject": "{{x}}", "body": "{{x}}\n", "data": {"x": value}})
    assert inapp["body"] == value + "\n" and inapp["subject"] == value


def test_preview_stored_template_by_id_and_version(srv, admin, category):
    t = create(srv, admin, sms_template(category, body="v1 {{name}}", strict=True))
    srv.request("PUT", f"{BASE}/{t['id']}", admin, {"body": "v2 {{name}} {{loan}}", "maxSegments": 1})
    p = preview(srv, admin, {"templateId": t["id"], "data": {"name": "Mwansa"}})
    assert (p["templateId"], p["version"], p["body"]) == (t["id"], 2, "v2 Mwansa ")
    assert p["missing"] is None and p["maxSegments"] == 1  # v2 is not strict
    p = preview(srv, admin, {"templateId": t["id"], "version": 1, "data": {}})
    assert (p["version"], p["body"], p["missing"]) == (1, "v1 ", ["name"])
    err = error_of(srv.request("POST", f"{BASE}/preview", admin, {"templateId": t["id"], "version": 3}), 404)
    assert "version 3" in err["message"]
    error_of(srv.request("POST", f"{BASE}/preview", admin, {"templateId": str(uuid.uuid4())}), 404)
    err = error_of(srv.request("POST", f"{BASE}/preview", admin, {"templateId": t["id"], "body": "x"}), 400)
    assert "'body'" in err["message"]


@pytest.mark.parametrize("body,field", [
    ({"channel": "sms", "body": "x", "data": [1]}, "data"),
    ({"channel": "sms", "body": "x", "personalization": "a"}, "personalization"),
    ({"channel": "sms", "body": "x", "data": {}, "personalization": {}}, "personalization"),
    ({"channel": "sms", "body": "x", "timezone": "Mars/Olympus"}, "timezone"),
    ({"channel": "sms", "body": "x", "version": 1}, "version"),
    ({"channel": "sms"}, "body"),
    ({"body": "x"}, "channel"),
    ({"channel": "sms", "body": "x", "maxSegments": 11}, "maxSegments"),
    ({"channel": "sms", "body": "x", "extra": 1}, "extra"),
])
def test_preview_input_errors(srv, admin, body, field):
    err = error_of(srv.request("POST", f"{BASE}/preview", admin, body), 400)
    assert f"'{field}'" in err["message"], err


def test_preview_parse_error_names_field_line_and_column(srv, admin):
    err = error_of(srv.request("POST", f"{BASE}/preview", admin,
                               {"channel": "sms", "body": "ok\nDear {{name}, hi"}), 400)
    assert err["code"] == "invalid_template"
    assert "field 'body'" in err["message"] and "line 2, column 6" in err["message"]


# --- the dispatcher sees every change ------------------------------------------------------

def test_dispatcher_renders_the_active_version_after_each_change(srv, admin, category):
    """The template cache (TemplateService) is invalidated by every change made through the API."""
    phone = "+260971234567"

    def send_and_render():
        r = srv.request("POST", "/api/v1/notifications", admin, {
            "recipientId": "tmpl-" + category, "channel": "sms", "to": phone, "templateCategory": category,
            "templateName": "repayment-due", "locale": "en", "personalization": {"name": "Mwansa"}})
        assert r.status_code == 202, r.text
        return srv.wait_status(r.json()["notificationId"], admin, ("Sent", "Delivered", "Failed"))

    # Not there yet: the miss is cached too ("no such template"), and creating must drop it.
    missing = send_and_render()
    assert missing["status"] == "Failed" and "no template" in missing["lastError"]

    tid = create(srv, admin, sms_template(category, body="v1 for {{name}}"))["id"]
    assert send_and_render()["content"] == "v1 for Mwansa"
    assert srv.request("PUT", f"{BASE}/{tid}", admin, {"body": "v2 for {{name}}"}).status_code == 200
    assert send_and_render()["content"] == "v2 for Mwansa"
    assert srv.request("POST", f"{BASE}/{tid}/versions/1/activate", admin).status_code == 200
    assert send_and_render()["content"] == "v1 for Mwansa"
    assert srv.request("DELETE", f"{BASE}/{tid}", admin).status_code == 204
    gone = send_and_render()
    assert gone["status"] == "Failed" and "no template" in gone["lastError"]
