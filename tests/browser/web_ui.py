#!/usr/bin/python3
"""The web interface (issue 13) in a real browser: headless Chromium driven by
chromedriver through Selenium (Debian chromium, chromium-driver,
python3-selenium), against a running ppo-intake whose answers are compared with
`ppo-intake status --json`. tests/integration/test_web_browser.cpp prepares the
campaign (users, mails, one message in triage), starts the daemon and runs this.

One line per check ("ok   ..." / "FAIL ..."); the first failure ends the run
with exit status 1, after a screenshot and the page source of that moment
(failure.png, failure.html in the output folder). Exit status 2: bad arguments.
The names (URLs, fields, HTML hooks) are those of the shared contract of the web
interface: form#login, [data-figure=...], article.triage[data-id] form.assign,
tr[data-uai], article.submission, a.file, form#logout.

Passwords may come from the environment instead of the command line:
PPO_WEB_DRAIO_PASSWORD, PPO_WEB_IEN_PASSWORD.
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SIZES = [(1280, 900), (390, 844)]
XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class CheckFailed(Exception):
    pass


checks_passed = 0


def ok(what):
    global checks_passed
    checks_passed += 1
    print(f"ok   {what}", flush=True)


def check(condition, what, detail=""):
    if not condition:
        print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        raise CheckFailed(what)
    ok(what)


def fail(what):
    print(f"FAIL {what}", flush=True)
    raise CheckFailed(what)


def note(text):
    print(f"note {text}", flush=True)


# --- the reference: ppo-intake status --json --------------------------------------

class Reference:
    def __init__(self, binary, config):
        self.binary, self.config = binary, config

    def status(self):
        r = subprocess.run([self.binary, "-c", self.config, "status", "--json"], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            fail(f"ppo-intake status --json failed ({r.returncode}): {r.stderr.strip()}")
        return json.loads(r.stdout)


def figures_of(status):
    lycees = status["lycees"]
    return {
        "expected": len(lycees),
        "received": sum(1 for l in lycees if l["state"] == "received"),
        "late": sum(1 for l in lycees if l["state"] == "late"),
        "missing": sum(1 for l in lycees if l["state"] == "missing"),
        "triage": len(status["unidentified"]),
    }


def lycee_of(status, uai):
    for l in status["lycees"]:
        if l["uai"] == uai:
            return l
    return None


# --- plain HTTP with the browser's session (status codes Selenium cannot read) -----

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name, "") if self.headers is not None else ""


def http(base, path, cookie="", form=None, timeout=30):
    data = None if form is None else urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if form is None else "POST")
    if cookie:
        req.add_header("Cookie", cookie)
    if form is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers, e.read())


def cookie_header(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def file_path(submission_id, name):
    return f"/files/{submission_id}/{urllib.parse.quote(name, safe='')}"


# --- the browser ---------------------------------------------------------------------

def start_browser(args):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
              "--lang=fr-FR", "--window-size=1280,900", "--hide-scrollbars"]:
        options.add_argument(a)
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    driver.set_page_load_timeout(30)
    driver.set_window_size(*SIZES[0])
    return driver


def path_of(url):
    return urllib.parse.urlsplit(url).path


def wait_path(driver, path, what, timeout=15):
    try:
        WebDriverWait(driver, timeout).until(lambda d: path_of(d.current_url) == path)
    except TimeoutException:
        heading = driver.find_elements(By.CSS_SELECTOR, ".erreur, .error, [role=alert], h1")
        fail(f"{what}: expected to land on {path}, still at {path_of(driver.current_url)} after {timeout} s"
             + (f" (page says: {text_of(heading[0])[:200]})" if heading else ""))


def submit(driver, form):
    """Clicks the form's submit button (the form itself when it has none) and waits
    for the next page."""
    buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit], input[type=submit], button:not([type])")
    if buttons:
        buttons[0].click()
    else:
        form.submit()
    WebDriverWait(driver, 15).until(lambda d: is_gone(form))


def is_gone(element):
    """True once the page holding `element` has been replaced. While the next
    page loads, chromedriver may also answer that the node "does not belong to
    the document": gone too."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in (e.msg or ""):
            return True
        raise


def text_of(element):
    return (element.get_attribute("textContent") or "").replace("\u00a0", " ").replace("\u202f", " ").strip()


def open_page(driver, base, path):
    driver.get(base + path)
    return path_of(driver.current_url)


def login(driver, base, user, password):
    check(open_page(driver, base, "/login") == "/login", f"GET /login shows the login page (as {user})")
    form = driver.find_element(By.CSS_SELECTOR, "form#login")
    check(len(form.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=csrf]")) == 1,
          "the login form carries a hidden csrf field")
    field = form.find_element(By.NAME, "login")
    field.clear()
    field.send_keys(user)
    form.find_element(By.NAME, "password").send_keys(password)
    submit(driver, form)
    wait_path(driver, "/", f"login as {user}")
    ok(f"login as {user} through form#login lands on /")


def logout(driver, base):
    forms = driver.find_elements(By.CSS_SELECTOR, "form#logout")
    check(len(forms) == 1, "the page has form#logout")
    submit(driver, forms[0])
    wait_path(driver, "/login", "logout")
    ok("form#logout leads to /login")


def no_external_assets(driver, base, page):
    """Inline CSS and SVG only: nothing loaded from anywhere but this server."""
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(Array.from(document.querySelectorAll('script[src],link[href],img[src],iframe[src]'))"
        ".map(e => e.src || e.href))")
    foreign = [u for u in urls if u and not u.startswith(base) and not u.startswith("data:")]
    check(not foreign, f"{page}: no external asset", ", ".join(foreign[:5]))


def lycees_listed(driver, base, query=""):
    """The UAIs of table#lycees on /lycees?QUERY, following the pager's
    a[rel=next] links when the list is cut into pages."""
    open_page(driver, base, "/lycees" + query)
    shown, pages = [], 0
    while True:
        pages += 1
        shown += [e.get_attribute("data-uai") for e in driver.find_elements(By.CSS_SELECTOR, "table#lycees tr[data-uai]")]
        following = driver.find_elements(By.CSS_SELECTOR, "a[rel=next]")
        if not following or pages > 100:
            break
        driver.get(following[0].get_attribute("href"))
    check(len(shown) == len(set(shown)), f"/lycees{query}: no lycée listed twice ({pages} page(s))")
    return set(shown)


def check_figures(driver, base, ref, when):
    check(open_page(driver, base, "/") == "/", f"dashboard ({when}) opens")
    expected = figures_of(ref.status())
    for name, value in expected.items():
        elements = driver.find_elements(By.CSS_SELECTOR, f'[data-figure="{name}"]')
        shown = [text_of(e) for e in elements]
        check(elements and all(s == str(value) for s in shown),
              f"dashboard ({when}): {name} = {value} as status --json counts it",
              f"page shows {shown or 'no [data-figure=' + name + '] element'}")
    return expected


def full_page_screenshot(driver, out_dir, name):
    for width, height in SIZES:
        driver.set_window_size(width, height)
        time.sleep(0.2)
        chrome = driver.execute_script("return window.outerHeight - window.innerHeight") or 0
        full = driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        driver.set_window_size(width, max(height, int(full) + int(chrome)))
        time.sleep(0.3)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        if overflow and overflow > 0:
            note(f"{name} at {width} px: the page is {overflow} px wider than the window (horizontal scrolling)")
        path = os.path.join(out_dir, f"{name}-{width}.png")
        check(driver.save_screenshot(path) and os.path.getsize(path) > 0, f"screenshot {path}")
    driver.set_window_size(*SIZES[0])


# --- the scenario ---------------------------------------------------------------------

def run(args, driver):
    base = args.base_url.rstrip("/")
    ref = Reference(args.binary, args.config)
    status = ref.status()
    bassin_uais = {l["uai"] for l in status["lycees"] if l["bassin"] == args.ien_bassin}
    check(bool(bassin_uais), f"status --json has lycées in bassin {args.ien_bassin}")
    check(any(u["id"] == args.triage_id for u in status["unidentified"]),
          f"message {args.triage_id} is in triage before the test")
    check(lycee_of(status, args.assign_uai) is not None, f"lycée {args.assign_uai} is expected")

    # Without a session.
    check(open_page(driver, base, "/") == "/login", "/ without a session redirects to /login")
    r = http(base, "/")
    check(r.status == 303 and path_of(r.header("Location")) == "/login", "GET / without a session: 303 to /login",
          f"{r.status} {r.header('Location')}")
    r = http(base, "/api/status")
    check(r.status == 401, "GET /api/status without a session: 401", str(r.status))

    # A wrong password: the form again, no session.
    open_page(driver, base, "/login")
    form = driver.find_element(By.CSS_SELECTOR, "form#login")
    form.find_element(By.NAME, "login").send_keys(args.draio_login)
    form.find_element(By.NAME, "password").send_keys(args.draio_password + "-wrong")
    submit(driver, form)
    check(path_of(driver.current_url) == "/login" and driver.find_elements(By.CSS_SELECTOR, "form#login"),
          "a wrong password shows the login form again", driver.current_url)
    check(open_page(driver, base, "/") == "/login", "after a wrong password there is no session")

    # The DRAIO.
    login(driver, base, args.draio_login, args.draio_password)
    no_external_assets(driver, base, "dashboard")
    for hook in ["table#by-academie", "table#by-departement", "table#by-bassin", "svg#arrivals", "nav"]:
        check(driver.find_elements(By.CSS_SELECTOR, hook), f"dashboard has {hook}")
    for href in ["/", "/lycees", "/triage", "/outbox"]:
        check(driver.find_elements(By.CSS_SELECTOR, f'nav a[href="{href}"]'), f"nav links to {href} (DRAIO)")
    before = check_figures(driver, base, ref, "before the assignment")
    check(before["triage"] >= 1, "the dashboard counts the message in triage")

    # The lycées list, with a filter.
    check(open_page(driver, base, "/lycees") == "/lycees", "/lycees opens")
    check(driver.find_elements(By.CSS_SELECTOR, "form#filters"), "/lycees has form#filters")
    shown = lycees_listed(driver, base)
    check(shown == {l["uai"] for l in status["lycees"]}, "/lycees lists every expected lycée (DRAIO)",
          f"{len(shown)} shown, {len(status['lycees'])} expected")
    shown = lycees_listed(driver, base, "?state=missing")
    missing = {l["uai"] for l in status["lycees"] if l["state"] == "missing"}
    check(shown == missing, "/lycees?state=missing lists the missing lycées", f"{len(shown)} shown, {len(missing)} missing")
    states = {text_of(e) for e in driver.find_elements(By.CSS_SELECTOR, "table#lycees td.state")}
    check(states == {"manquant"}, "their state reads 'manquant'", str(states))

    # Triage: assign the message from its form.
    check(open_page(driver, base, "/triage") == "/triage", "/triage opens (DRAIO)")
    articles = driver.find_elements(By.CSS_SELECTOR, f'article.triage[data-id="{args.triage_id}"]')
    check(len(articles) == 1, f"/triage shows article.triage[data-id={args.triage_id}]")
    shown = {int(e.get_attribute("data-id")) for e in driver.find_elements(By.CSS_SELECTOR, "article.triage[data-id]")}
    check(shown == {u["id"] for u in status["unidentified"]}, "/triage shows every message of status --json's triage",
          f"{sorted(shown)} vs {sorted(u['id'] for u in status['unidentified'])}")
    os.makedirs(args.out, exist_ok=True)
    full_page_screenshot(driver, args.out, "triage")   # before the assignment: every message
    articles = driver.find_elements(By.CSS_SELECTOR, f'article.triage[data-id="{args.triage_id}"]')
    form = articles[0].find_element(By.CSS_SELECTOR, "form.assign")
    check(path_of(form.get_attribute("action") or "") == f"/triage/{args.triage_id}/assign",
          "form.assign posts to /triage/ID/assign", form.get_attribute("action"))
    check(form.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=csrf]"), "form.assign carries csrf")
    check(articles[0].find_elements(By.CSS_SELECTOR, "form.reject"), "the message has form.reject")
    form.find_element(By.NAME, "uai").send_keys(args.assign_uai)
    submit(driver, form)
    wait_path(driver, "/triage", f"assigning {args.triage_id} to {args.assign_uai}")
    check(not driver.find_elements(By.CSS_SELECTOR, f'article.triage[data-id="{args.triage_id}"]'),
          "after the assignment the message has left the triage page")
    status = ref.status()
    check(all(u["id"] != args.triage_id for u in status["unidentified"]), "status --json: no longer in triage")
    lycee = lycee_of(status, args.assign_uai)
    check(lycee["state"] in ("received", "late"), f"status --json: {args.assign_uai} is received or late",
          lycee["state"])
    manual = [s for s in lycee["submissions"] if s["identified_by"] == "manual"]
    check(any(s["id"] == args.triage_id for s in manual),
          f"status --json: {args.assign_uai} has submission {args.triage_id} identified_by manual",
          json.dumps(lycee["submissions"])[:400])
    check_figures(driver, base, ref, "after the assignment")

    # CSRF: the session cookie without the token, then with a forged one.
    cookie = cookie_header(driver)
    check(bool(cookie), "the browser holds a session cookie")
    victim = next((u["id"] for u in status["unidentified"]), args.triage_id)
    r = http(base, f"/triage/{victim}/reject", cookie, form={})
    check(r.status == 403, f"POST /triage/{victim}/reject without csrf: 403", str(r.status))
    r = http(base, f"/triage/{victim}/reject", cookie, form={"csrf": "forged-token"})
    check(r.status == 403, f"POST /triage/{victim}/reject with a wrong csrf: 403", str(r.status))
    r = http(base, f"/triage/{args.triage_id}/assign", cookie, form={"uai": args.assign_uai})
    check(r.status == 403, "POST /triage/ID/assign without csrf: 403", str(r.status))
    if victim != args.triage_id:
        check(any(u["id"] == victim for u in ref.status()["unidentified"]),
              f"message {victim} is still in triage after the refused POSTs")

    # Exports with the session cookie.
    r = http(base, "/export/status.xlsx", cookie)
    check(r.status == 200, "GET /export/status.xlsx: 200", str(r.status))
    try:
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            sheet = z.read("xl/worksheets/sheet1.xml")
    except (zipfile.BadZipFile, KeyError) as e:
        fail(f"status.xlsx is not a workbook with xl/worksheets/sheet1.xml: {e}")
    rows = ET.fromstring(sheet).findall(f"{XLSX_NS}sheetData/{XLSX_NS}row")
    expected = len(status["lycees"])
    check(len(rows) == 1 + expected, f"status.xlsx: a header row + {expected} rows (one per expected lycée)",
          f"{len(rows)} rows")
    r = http(base, "/export/status.csv", cookie)
    check(r.status == 200, "GET /export/status.csv: 200", str(r.status))
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig")), delimiter=";"))
    check(len(rows) == 1 + expected, f"status.csv: a header row + {expected} rows", f"{len(rows)} rows")

    # A lycée page.
    lycee = lycee_of(status, args.lycee_uai)
    check(open_page(driver, base, f"/lycees/{args.lycee_uai}") == f"/lycees/{args.lycee_uai}",
          f"/lycees/{args.lycee_uai} opens")
    h1 = driver.find_elements(By.TAG_NAME, "h1")
    check(h1 and lycee["name"] in text_of(h1[0]), "its h1 names the lycée", text_of(h1[0]) if h1 else "no h1")
    shown = {int(e.get_attribute("data-id")) for e in driver.find_elements(By.CSS_SELECTOR, "article.submission[data-id]")}
    check(shown == {s["id"] for s in lycee["submissions"]}, "one article.submission per submission",
          f"{sorted(shown)} vs {[s['id'] for s in lycee['submissions']]}")
    links = {urllib.parse.unquote(path_of(e.get_attribute("href")))
             for e in driver.find_elements(By.CSS_SELECTOR, "a.file")}
    wanted = {f"/files/{s['id']}/{f['name']}": (s, f) for s in lycee["submissions"] for f in s["files"]}
    check(set(wanted) <= links, "a.file links to /files/ID/NAME for each file", f"{sorted(links)} vs {sorted(wanted)}")
    for s, f in wanted.values():
        r = http(base, file_path(s["id"], f["name"]), cookie)
        check(r.status == 200 and len(r.body) == f["size"], f"GET /files/{s['id']}/{f['name']} downloads it (DRAIO)",
              f"{r.status}, {len(r.body)} bytes, {f['size']} expected")

    # Screenshots (DRAIO; the triage page's was taken before the assignment).
    for name, path in [("dashboard", "/"), ("lycee", f"/lycees/{args.lycee_uai}"), ("lycees", "/lycees"),
                       ("outbox", "/outbox")]:
        check(open_page(driver, base, path) == path, f"{path} opens for its screenshot")
        full_page_screenshot(driver, args.out, name)

    # Log out: the old cookie is worth nothing.
    open_page(driver, base, "/")
    logout(driver, base)
    r = http(base, "/", cookie)
    check(r.status == 303 and path_of(r.header("Location")) == "/login", "the logged-out session cookie is refused",
          str(r.status))

    # The IEN-IO of one bassin.
    login(driver, base, args.ien_login, args.ien_password)
    cookie = cookie_header(driver)
    check(not driver.find_elements(By.CSS_SELECTOR, 'nav a[href="/triage"]'), "IEN-IO: no triage link in nav")
    shown = lycees_listed(driver, base)
    check(shown == bassin_uais, f"IEN-IO: /lycees lists exactly the {len(bassin_uais)} lycées of bassin {args.ien_bassin}",
          f"extra {sorted(shown - bassin_uais)[:5]}, missing {sorted(bassin_uais - shown)[:5]}")
    r = http(base, "/triage", cookie)
    check(r.status == 403, "IEN-IO: GET /triage is 403", str(r.status))
    token = driver.find_elements(By.CSS_SELECTOR, "form#logout input[name=csrf]")
    check(token, "IEN-IO: form#logout carries the session's csrf")
    r = http(base, f"/triage/{victim}/reject", cookie, form={"csrf": token[0].get_attribute("value")})
    check(r.status == 403, "IEN-IO: POST /triage/ID/reject with a valid csrf is still 403", str(r.status))
    if victim != args.triage_id:
        check(any(u["id"] == victim for u in ref.status()["unidentified"]), f"message {victim} is still in triage")
    r = http(base, "/outbox", cookie)
    check(r.status in (403, 404), "IEN-IO: GET /outbox is refused (403 or 404)", str(r.status))
    others = [(l, s, f) for l in status["lycees"] if l["bassin"] != args.ien_bassin
              for s in l["submissions"] for f in s["files"]]
    check(bool(others), "status --json has a file of another bassin")
    other_lycee, sub, f = others[0]
    r = http(base, file_path(sub["id"], f["name"]), cookie)
    check(r.status in (403, 404), f"IEN-IO: another bassin's file ({other_lycee['uai']}) is 403 or 404", str(r.status))
    r = http(base, f"/lycees/{other_lycee['uai']}", cookie)
    check(r.status == 404, f"IEN-IO: another bassin's lycée page /lycees/{other_lycee['uai']} is 404", str(r.status))
    own = [(s, f) for l in status["lycees"] if l["bassin"] == args.ien_bassin for s in l["submissions"] for f in s["files"]]
    if own:
        s, f = own[0]
        r = http(base, file_path(s["id"], f["name"]), cookie)
        check(r.status == 200 and len(r.body) == f["size"], f"IEN-IO: a file of their bassin downloads ({f['name']})",
              f"{r.status}, {len(r.body)} bytes, {f['size']} expected")
    r = http(base, "/api/status", cookie)
    check(r.status == 200, "IEN-IO: GET /api/status is 200", str(r.status))
    api = json.loads(r.body)
    got = {l["uai"] for l in api["lycees"]}
    check(got == bassin_uais, f"IEN-IO: /api/status has only the lycées of bassin {args.ien_bassin}",
          f"{len(got)} lycées, bassins {sorted({l['bassin'] for l in api['lycees']})}")
    check(not api.get("unidentified"), "IEN-IO: /api/status has no triage list")
    r = http(base, "/export/status.xlsx", cookie)
    with zipfile.ZipFile(io.BytesIO(r.body)) as z:
        rows = ET.fromstring(z.read("xl/worksheets/sheet1.xml")).findall(f"{XLSX_NS}sheetData/{XLSX_NS}row")
    check(len(rows) == 1 + len(bassin_uais), f"IEN-IO: status.xlsx has 1 + {len(bassin_uais)} rows", f"{len(rows)}")
    check(open_page(driver, base, "/") == "/", "IEN-IO: the dashboard opens")
    full_page_screenshot(driver, args.out, "dashboard-ien-io")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--binary", required=True, help="the ppo-intake binary (status --json)")
    p.add_argument("--config", required=True, help="its configuration file")
    p.add_argument("--draio-login", required=True)
    p.add_argument("--draio-password", default=os.environ.get("PPO_WEB_DRAIO_PASSWORD"))
    p.add_argument("--ien-login", required=True)
    p.add_argument("--ien-password", default=os.environ.get("PPO_WEB_IEN_PASSWORD"))
    p.add_argument("--ien-bassin", required=True, help="the IEN-IO's bassin code")
    p.add_argument("--triage-id", type=int, required=True, help="the message in triage to assign")
    p.add_argument("--assign-uai", required=True, help="the lycée to assign it to")
    p.add_argument("--lycee-uai", help="the lycée page to check and shoot (default: --assign-uai)")
    p.add_argument("--out", required=True, help="folder for the screenshots")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    if not args.draio_password or not args.ien_password:
        p.error("passwords: --draio-password/--ien-password or PPO_WEB_DRAIO_PASSWORD/PPO_WEB_IEN_PASSWORD")
    args.lycee_uai = args.lycee_uai or args.assign_uai
    os.makedirs(args.out, exist_ok=True)
    for stale in ("failure.png", "failure.html"):   # from an earlier run
        if os.path.exists(os.path.join(args.out, stale)):
            os.remove(os.path.join(args.out, stale))

    try:
        driver = start_browser(args)
    except WebDriverException as e:
        print(f"FAIL start Chromium ({args.chromium}) through {args.chromedriver}: {e.msg}", flush=True)
        return 1
    try:
        run(args, driver)
    except Exception as e:  # the first failure ends the run; keep what the browser saw
        if not isinstance(e, CheckFailed):
            print(f"FAIL {type(e).__name__}: {str(e).strip()[:2000]}", flush=True)
        try:
            print(f"     at {driver.current_url}; see {args.out}/failure.png and failure.html", flush=True)
            driver.save_screenshot(os.path.join(args.out, "failure.png"))
            with open(os.path.join(args.out, "failure.html"), "w", encoding="utf-8") as f:
                f.write(driver.page_source)
        except WebDriverException:
            pass
        return 1
    finally:
        driver.quit()
    print(f"all {checks_passed} checks passed; screenshots in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
