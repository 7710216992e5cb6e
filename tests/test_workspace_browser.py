"""The workspace in a real browser: Debian's chromium driven by selenium, offline.

One browser and one workspace server (uvicorn on loopback) for the module. Each test logs in
afresh (cookies cleared) and uses its own stories or accounts, so their order does not
matter. Without chromium these tests skip, except under CI, where they fail: `.ci/run`
installs `chromium` and `chromium-driver`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_alerts_support import fixture_offices, load_fixture_stories, office
from test_workspace_support import (
    EMAILS,
    PASSWORD,
    add_accounts,
    serve_workspace,
    workspace_config,
)

from alerts.categories import load_catalog
from alerts.render import render_digest
from alerts.selection import select_for_office
from pantau.core import store
from pantau.core.store import accounts, reviews

CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).parent.parent / "docs" / "workspace.png"
PHONE = (390, 1000)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator:
    binary = chromium_binary()
    if binary is None or not Path(CHROMEDRIVER).exists():
        message = "Debian chromium and chromium-driver are needed for the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run installs them)")
        pytest.skip(message)
    os.environ["SE_OFFLINE"] = "true"  # selenium must not try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=id"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    chrome.set_page_load_timeout(60)  # a loaded CI machine can be slow to start a renderer
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Iterator[dict]:
    db_path = tmp_path_factory.mktemp("browser") / "pantau.db"
    db = store.open_db(db_path)
    clusters = load_fixture_stories(db)
    add_accounts(db)
    db.close()
    with serve_workspace(workspace_config(db_path)) as running:
        yield {"url": running.url, "db_path": db_path, "clusters": clusters}


@pytest.fixture
def db(workspace):
    database = store.open_db(workspace["db_path"])
    yield database
    database.close()


def click_and_wait(driver, element_id: str) -> None:
    """Click a submit button and wait until the next page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(page))


def fill_login(driver, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, "masuk")


def log_in(driver, url: str, email: str, password: str = PASSWORD, path: str = "/findings"):
    driver.delete_all_cookies()
    driver.get(url + path)
    fill_login(driver, email, password)


def listed_ids(driver) -> set[int]:
    return {int(n) for n in re.findall(r'id="cerita-(\d+)"', driver.page_source)}


def test_an_officer_logs_in_and_repeated_failures_lock_the_account(driver, workspace, db):
    accounts.add_account(db, "kunci@bawaslu.example.id", "ri", "sandi-panjang-1", cost=2**10)
    for _ in range(3):
        log_in(driver, workspace["url"], "kunci@bawaslu.example.id", "salah-salah-1")
    assert "dikunci" in driver.page_source
    log_in(driver, workspace["url"], "kunci@bawaslu.example.id", "sandi-panjang-1")
    assert driver.current_url.endswith("/login") and "dikunci" in driver.page_source
    log_in(driver, workspace["url"], EMAILS["ri"])
    assert driver.current_url.endswith("/findings")
    assert "Temuan di wilayah Bawaslu RI" in driver.page_source


def test_two_offices_each_see_only_their_own_area(driver, workspace):
    clusters, url = workspace["clusters"], workspace["url"]
    log_in(driver, url, EMAILS["kabkota-17.08"])
    assert listed_ids(driver) == {clusters["sekda-kepahiang"], clusters["ditolak-kepahiang"]}
    driver.get(f"{url}/findings/{clusters['kades-klaten']}")
    assert "tidak ditemukan" in driver.page_source
    log_in(driver, url, EMAILS["kabkota-33.10"])
    assert listed_ids(driver) == {clusters["kades-klaten"]}
    driver.get(f"{url}/findings/{clusters['sekda-kepahiang']}")
    assert "tidak ditemukan" in driver.page_source


def test_from_the_digest_link_a_dismissal_takes_the_story_out_of_the_next_digest(
    driver, workspace, db
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    clusters, url = workspace["clusters"], workspace["url"]
    bengkulu = office(fixture_offices(), "prov-17")
    before = select_for_office(db, bengkulu, threshold=0.5, max_stories=50)
    digest = render_digest(
        bengkulu,
        before,
        catalog=load_catalog(),
        day=datetime.now(UTC).date(),
        generated_at=datetime.now(UTC),
        review_url=f"{url}/findings",
    )
    link = f"{url}/findings/{clusters['camat-bengkulu']}"
    assert link in digest.text
    driver.delete_all_cookies()
    driver.get(link)
    fill_login(driver, EMAILS["prov-17"], PASSWORD)
    assert driver.current_url == link
    Select(driver.find_element(By.ID, "alasan")).select_by_value("not_asn")
    click_and_wait(driver, "tolak")
    assert "Ditolak" in driver.find_element(By.ID, "riwayat").text
    driver.find_element(By.ID, "catatan").send_keys("Terduga ternyata tenaga honorer.")
    click_and_wait(driver, "simpan-catatan")
    history = driver.find_element(By.ID, "riwayat").text
    assert "Terduga ternyata tenaga honorer." in history and EMAILS["prov-17"] in history
    assert [r.action for r in reviews.history(db, clusters["camat-bengkulu"])] == [
        "dismiss",
        "note",
    ]
    after = select_for_office(db, bengkulu, threshold=0.5, max_stories=50)
    assert {s.cluster_id for s in before.stories} - {s.cluster_id for s in after.stories} == {
        clusters["camat-bengkulu"]
    }


def test_search_finds_a_story_by_the_words_of_its_article(driver, workspace):
    from selenium.webdriver.common.by import By

    log_in(driver, workspace["url"], EMAILS["ri"])
    search = driver.find_element(By.ID, "q")
    search.send_keys("Klaten")
    click_and_wait(driver, "cari")
    assert listed_ids(driver) == {workspace["clusters"]["kades-klaten"]}
    assert driver.find_element(By.ID, "jumlah").text == "1"


def test_the_csv_export_downloads_the_filtered_list(driver, workspace, downloads):
    from selenium.webdriver.common.by import By

    log_in(driver, workspace["url"], EMAILS["prov-17"])
    driver.find_element(By.ID, "unduh-csv").click()
    deadline = time.monotonic() + 30  # a loaded CI machine can be slow to finish a download
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = list(downloads.glob("pantau-prov-17-*.csv"))
        if files:
            break
        time.sleep(0.1)
    assert files, f"no CSV downloaded; the folder holds {sorted(downloads.iterdir())}"
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8-sig"))))
    assert {row["kode_provinsi"] for row in rows} == {"17"}
    assert "Darmawan" in {row["nama_terduga"] for row in rows}


def test_a_phone_width_screenshot_of_the_list_for_the_readme(driver, workspace):
    driver.set_window_size(*PHONE)
    try:
        log_in(driver, workspace["url"], EMAILS["prov-17"], path="/findings?putusan=")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        viewport = driver.execute_script("return window.innerWidth")
        assert width <= viewport, "the page scrolls sideways on a phone"
        SCREENSHOT.parent.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(SCREENSHOT))
    finally:
        driver.set_window_size(1280, 900)
    assert SCREENSHOT.stat().st_size > 10_000
