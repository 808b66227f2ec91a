"""The `convene` command: accounts from the shell, and the demo roundtable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ROOT

CONVENE = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ENVIRONMENT": "test",
        "SECRET_KEY": "cli-test-secret-0123456789",
        "BASE_URL": "http://convene.test",
    }
    subprocess.run([*CONVENE, "migrate"], env=values, cwd=ROOT, check=True)
    return values


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CONVENE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_create_convener_then_refuse_a_duplicate(env: dict[str, str]) -> None:
    args = ["create-convener", "--email", "Ada@example.org", "--name", "Ada", "--password"]
    created = run(env, *args, "long enough password")
    assert created.returncode == 0, created.stderr
    assert "ada@example.org" in created.stdout
    again = run(env, *args, "long enough password")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = run(
        env, "create-convener", "--email", "b@example.org", "--name", "B", "--password", "short"
    )
    assert short.returncode == 2
    token = run(env, "create-token", "--email", "ada@example.org", "--name", "sync")
    assert token.returncode == 0 and len(token.stdout.strip()) >= 40


def test_demo_prints_the_links_and_loads_a_realistic_roundtable(env: dict[str, str]) -> None:
    import sqlite3

    first = run(env, "demo")
    assert first.returncode == 0, first.stderr
    assert "http://convene.test/sign-in" in first.stdout
    links = [line for line in first.stdout.splitlines() if "/join/" in line]
    assert len(links) == 3
    second = run(env, "demo")
    assert [line for line in second.stdout.splitlines() if "/join/" in line] == links

    db = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert db.execute("SELECT count(*) FROM convening").fetchone() == (1,)
    seats = db.execute("SELECT role, attendance FROM seat").fetchall()
    groups = db.execute("SELECT count(*) FROM stakeholder_group").fetchone()[0]
    assert 18 <= len(seats) <= 24 and groups == 6
    assert sum(1 for role, _ in seats if role == "observer") == 3
    assert sum(1 for _, attendance in seats if attendance == "absent") == 2
    assert {"facilitator", "rapporteur"} <= {role for role, _ in seats}
    items = db.execute("SELECT questions FROM agenda_item").fetchall()
    assert len(items) == 6 and all(q != "[]" for (q,) in items)
