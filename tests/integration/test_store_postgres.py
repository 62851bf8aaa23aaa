"""The store unit suite (unit_store) against a real PostgreSQL server.

Every store test is parameterized by backend; without COMMS_TEST_PG_URL the PostgreSQL instances
skip themselves. This test gives them a fresh database on the session's server and checks that they
ran, and passed, rather than skipped.

/usr/bin/python3 -m pytest tests/integration/test_store_postgres.py
(COMMS_TEST_UNIT_STORE names the gtest binary; ctest sets it.)
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Tests that skip on PostgreSQL by design (release_all_claims is a no-op with shared tables).
EXPECTED_PG_SKIPS = {"Backends/ClaimTest.ReleaseAllClaimsReturnsSendingRowsToPending/postgres"}


def unit_store_binary() -> Path:
    named = os.environ.get("COMMS_TEST_UNIT_STORE")
    path = Path(named) if named else REPO / "build" / "unit_store"
    if not path.is_file():
        pytest.fail(f"unit_store binary not found at {path} (set COMMS_TEST_UNIT_STORE)")
    return path


def run_suite(pg_url: str, report: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMMS_TEST_PG_URL": pg_url}
    return subprocess.run([str(unit_store_binary()), f"--gtest_output=xml:{report}"], env=env,
                          capture_output=True, text=True, timeout=900)


def test_store_suite_passes_on_postgres_and_really_ran_there(pg_url, tmp_path):
    report = tmp_path / "unit_store.xml"
    r = run_suite(pg_url, report)
    assert r.returncode == 0, f"unit_store failed:\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"

    ran, skipped = [], []
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        on_pg = name.endswith("/postgres") or case.get("classname") == "PgStoreTest"
        if not on_pg:
            continue
        (skipped if case.find("skipped") is not None or case.get("result") == "skipped" else ran).append(name)

    assert set(skipped) == EXPECTED_PG_SKIPS, f"PostgreSQL tests skipped: {sorted(set(skipped))}"
    parameterized = [n for n in ran if n.endswith("/postgres")]
    specific = [n for n in ran if n.startswith("PgStoreTest.")]
    assert len(parameterized) >= 45, f"only {len(parameterized)} backend-parameterized tests ran on PostgreSQL"
    assert len(specific) >= 8, f"only {len(specific)} PostgreSQL-specific tests ran"
    for required in ("PgStoreTest.TwoStoresClaimingTogetherNeverShareARowAndMissNone",
                     "PgStoreTest.MigrationsRunConcurrentlyFromSeveralStoresEndWithOneLedger",
                     "Backends/GroupCommitTest.AThrowingUnitRollsBackAloneWhileTheRestOfTheBatchCommits/postgres"):
        assert required in ran, f"{required} did not run"


def test_without_a_server_the_postgres_instances_skip_and_say_why(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COMMS_TEST_PG_URL"}
    r = subprocess.run([str(unit_store_binary()), "--gtest_filter=*postgres*:PgStoreTest.*"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:]
    assert "COMMS_TEST_PG_URL is not set" in r.stdout
    assert "[  PASSED  ] 0 tests." in r.stdout
