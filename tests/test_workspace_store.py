"""Accounts, the login lockout and the append-only review history, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from test_alerts_support import load_fixture_stories

from pantau.core.store import accounts, reviews

NOW = datetime(2024, 10, 22, 1, 0, tzinfo=UTC)
POLICY = accounts.Lockout(failures=3, window=timedelta(minutes=15), duration=timedelta(minutes=10))
CHEAP = 2**10


@pytest.fixture
def account(db) -> accounts.Account:
    return accounts.add_account(
        db, "Analis@Bawaslu.example.id", "ri", "sandi-panjang-1", cost=CHEAP
    )


def test_passwords_are_stored_salted_and_only_the_right_one_verifies():
    first, second = (
        accounts.hash_password("sandi-panjang-1", n=CHEAP),
        accounts.hash_password("sandi-panjang-1", n=CHEAP),
    )
    assert first != second and "sandi" not in first
    assert accounts.verify_password("sandi-panjang-1", first)
    assert not accounts.verify_password("sandi-panjang-2", first)
    assert not accounts.verify_password("sandi-panjang-1", "garbage")


def test_addresses_are_case_insensitive_and_unique(db, account):
    assert accounts.log_in(db, "analis@bawaslu.example.id", "sandi-panjang-1", now=NOW).ok
    with pytest.raises(accounts.AccountError, match="exists already"):
        accounts.add_account(db, "ANALIS@bawaslu.example.id", "ri", "sandi-panjang-1", cost=CHEAP)


def test_a_short_password_or_a_bad_address_is_refused(db):
    with pytest.raises(accounts.AccountError, match="at least"):
        accounts.add_account(db, "a@b.example.id", "ri", "pendek", cost=CHEAP)
    with pytest.raises(accounts.AccountError, match="not an e-mail"):
        accounts.add_account(db, "bukan alamat", "ri", "sandi-panjang-1", cost=CHEAP)


def test_repeated_failures_lock_the_address_until_the_lockout_ends(db, account):
    for minute in range(3):
        result = accounts.log_in(
            db, account.email, "salah", now=NOW + timedelta(minutes=minute), policy=POLICY
        )
        assert not result.ok
    assert result.locked_until == NOW + timedelta(minutes=12)
    during = accounts.log_in(
        db, account.email, "sandi-panjang-1", now=NOW + timedelta(minutes=5), policy=POLICY
    )
    assert not during.ok and during.locked_until is not None
    after = accounts.log_in(
        db, account.email, "sandi-panjang-1", now=NOW + timedelta(minutes=13), policy=POLICY
    )
    assert after.ok


def test_a_success_clears_earlier_failures(db, account):
    for minute, password in enumerate(["salah", "salah", "sandi-panjang-1", "salah", "salah"]):
        result = accounts.log_in(
            db, account.email, password, now=NOW + timedelta(minutes=minute), policy=POLICY
        )
    assert result.locked_until is None


def test_an_unknown_address_is_locked_like_a_real_one(db):
    for _ in range(3):
        result = accounts.log_in(db, "siapa@example.id", "salah", now=NOW, policy=POLICY)
    assert result.locked_until is not None


def test_a_new_password_changes_the_session_stamp_and_lifts_the_lockout(db, account):
    for _ in range(3):
        accounts.log_in(db, account.email, "salah", now=datetime.now(UTC), policy=POLICY)
    changed = accounts.set_password(db, account.email, "sandi-baru-panjang", cost=CHEAP)
    assert changed.session_stamp != account.session_stamp
    assert accounts.log_in(db, account.email, "sandi-baru-panjang", policy=POLICY).ok


def test_reviews_cannot_be_changed_or_deleted(db):
    clusters = load_fixture_stories(db)
    reviews.record(db, clusters["kades-klaten"], "confirm", reviewer="a@b.id", office="ri")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("update reviews set status = 'dismissed'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("delete from reviews")


def test_each_action_carries_the_state_it_leaves_the_story_in(db):
    cluster = load_fixture_stories(db)["kades-klaten"]

    def act(action: str, **fields):
        return reviews.record(db, cluster, action, reviewer="a@b.id", office="ri", **fields)

    act("follow_up", follow_up="under_study")
    assert reviews.current_state(db, cluster) == reviews.ReviewState("open", "under_study")
    act("dismiss", reason="advisory_only")
    act("note", note="dicek ulang")
    assert reviews.current_state(db, cluster).status == "dismissed"
    act("confirm")
    state = reviews.current_state(db, cluster)
    assert (state.status, state.follow_up, state.reason) == ("confirmed", "under_study", None)
    with pytest.raises(reviews.ReviewError):
        act("dismiss", reason="bosan")
    with pytest.raises(reviews.ReviewError):
        act("duplicate", duplicate_of=cluster)
    assert len(reviews.history(db, cluster)) == 4


def test_a_review_written_before_the_history_columns_reads_as_a_decision(db):
    cluster = load_fixture_stories(db)["ditolak-kepahiang"]  # stored the old way (status only)
    [old] = reviews.history(db, cluster)
    assert (old.action, old.status) == ("dismiss", "dismissed")
