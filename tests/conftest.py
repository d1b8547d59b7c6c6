"""Test-wide settings: property tests draw the same examples on every run (no flaky CI)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture
def chromium():  # -> selenium WebDriver
    """Debian's headless Chromium through chromedriver and Selenium (1280 x 900 window); skipped
    with a reason where one of them is missing (.ci/run installs them where it can)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver")
    if driver is None or not Path(binary).exists():
        pytest.skip("Chromium or chromedriver missing (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900"):  # fmt: skip
        opts.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="simcore-chromium-") as profile:
        opts.add_argument(f"--user-data-dir={profile}")
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        drv = webdriver.Chrome(service=Service(driver), options=opts)
        try:
            yield drv
        finally:
            drv.quit()
