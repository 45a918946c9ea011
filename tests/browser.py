"""What the browser tests share: the two screens a county office works on, and signing in to the admin."""

from stations.tests.factories import TEST_PASSWORD

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def admin_login(page, live_server, username, password=TEST_PASSWORD):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
