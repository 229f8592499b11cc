"""The console in a real browser (Chromium through Selenium), as an operator uses it.

Logs in, finds a quarantined record by its work-order number, previews its replay, ignores it with a
reason, and checks that the page says so. With --screenshots DIR it also takes a screenshot of each
main page (1400 px wide) into DIR. Run by the Swift test ConsoleBrowserTests, or by hand against
`liandong demo`:

    python3 Tests/Browser/console_tour.py --url http://127.0.0.1:9464 --user admin --password … \
        --work-order GD… --screenshots docs/screenshots
"""

import argparse
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def browser(driver_path):
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--lang=zh-CN"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def shoot(driver, folder, name):
    if not folder:
        return
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
    driver.set_window_size(1400, max(800, height))
    driver.save_screenshot(f"{folder}/{name}.png")
    driver.set_window_size(1400, 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--work-order", required=True)
    parser.add_argument("--driver", default="/usr/bin/chromedriver")
    parser.add_argument("--screenshots")
    parser.add_argument("--ignore", action="store_true", help="ignore the record after the preview")
    arguments = parser.parse_args()
    url = arguments.url.rstrip("/")
    driver = browser(arguments.driver)
    try:
        driver.get(url + "/")
        assert "/login" in driver.current_url, "not signed in: the login page first"
        shoot(driver, arguments.screenshots, "login")
        driver.find_element(By.ID, "name").send_keys(arguments.user)
        driver.find_element(By.ID, "password").send_keys(arguments.password)
        driver.find_element(By.ID, "login").click()
        assert driver.find_element(By.ID, "who").text.startswith(arguments.user), "signed in"
        shoot(driver, arguments.screenshots, "overview")

        driver.get(url + "/errors")
        search = driver.find_element(By.ID, "q")
        search.send_keys(arguments.work_order)
        driver.find_element(By.ID, "search").click()
        assert "q=" + arguments.work_order in driver.current_url, "the filter is in the URL"
        shoot(driver, arguments.screenshots, "errors")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.items tbody tr")
        matching = [row for row in rows if arguments.work_order in row.text]
        assert len(matching) == 1, f"one record with {arguments.work_order}, found {len(matching)}"
        matching[0].find_element(By.TAG_NAME, "a").click()
        assert arguments.work_order in driver.find_element(By.ID, "payload").text, "the raw payload, decoded"
        shoot(driver, arguments.screenshots, "error")

        driver.find_element(By.ID, "preview-replay").click()
        assert driver.find_element(By.ID, "result").text, "a replay preview"
        shoot(driver, arguments.screenshots, "replay")
        driver.back()

        if arguments.ignore:
            driver.find_element(By.ID, "ignore-reason").send_keys("浏览器测试：测试工单")
            driver.find_element(By.ID, "ignore").click()
            # The form posts and the page reloads: wait for the new page's status, not the old one's.
            WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: d.find_element(By.ID, "status").text == "ignored", "ignored")

        for page in ("incidents", "deliveries", "streams", "audit", "users"):
            driver.get(f"{url}/{page}")
            shoot(driver, arguments.screenshots, page)
        print("console tour passed")
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"console tour failed: {error}", file=sys.stderr)
        sys.exit(1)
