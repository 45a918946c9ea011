"""Acceptance: every admin page of every role reads as natural Chinese.

Generic over `admin.site._registry`, so an admin registered later is covered without touching this file:
for each role, the index, each app index, and for each registered model the change list (also filtered),
the add page, and the change, history and delete pages of one object the role can see; then the login page
after a wrong password, the logout page and the password change page. A page may refuse (302/403/404) but
never fail (500); every HTML page is searched for Django's machine-translated phrases, and its labels,
column headers, fieldset headings, filter titles and buttons for English left untranslated.
"""

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.urls import NoReverseMatch, reverse

from projects import services as projects
from stations import services
from stations.tests.admin_forms import unit_form
from stations.tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

# Django's stock Chinese that reads like a machine translation; the portal's catalogue rewords each.
MACHINE_PHRASES = (
    "来修改",
    "来查看",
    "增加",
    "以 ",
    "请输入一个正确的",
    "感谢您今天与本网站共享一段美好时光",
    "最近动作",
    "我的动作",
    "过滤器",
    "清除所有过滤器",
    "清除所有筛选",
    "动作",
    "注销",
    "保存并增加另一个",
    "个中的",
    "个被选",
    "添加成功",
    "成功添加了",
    "成功修改了",
    "已修改",
    "阵地单位",
    "Django",
    "你确定吗",
    "条形导航",
    "对象表示",
    "选择一个有效的选项",
    "这个字段是必填项",
    "工作人员状态",
    "取消选中",
)
# Words that may stay as they are in Chinese mode: codes, ids, abbreviations.
ALLOWED_ASCII = {"excel", "api", "id", "url", "ip", "json", "pdf", "csv", "qr", "gps", "sms", "token", "mac"}
SAFE_STATUSES = {200, 302, 403, 404}


class _Texts(HTMLParser):
    """Collects the text of the elements that must be Chinese: labels, the change list's column headers,
    fieldset headings, filter titles and buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.open: list[list] = []  # [kind, tag, depth, text parts]
        self.found: list[tuple[str, str]] = []

    def _inside(self, tag, **attrs):
        return any(
            t == tag and all(a.get(k) == v or v in (a.get(k) or "").split() for k, v in attrs.items())
            for t, a in self.stack
        )

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "meta", "link", "br", "img", "hr"}:
            if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
                self.found.append(("button", attrs["value"]))
            return
        self.stack.append((tag, attrs))
        kind = None
        if tag == "label":
            kind = "label"
        elif tag == "th" and self._inside("table", id="result_list") and self._inside("thead"):
            kind = "column header"
        elif tag in {"h2", "legend"} and self._inside("fieldset"):
            kind = "fieldset heading"
        elif tag in {"h3", "summary"} and self._inside("nav", id="changelist-filter"):
            kind = "filter title"
        elif tag == "button" or (tag == "a" and "button" in (attrs.get("class") or "").split()):
            kind = "button"
        if kind:
            self.open.append([kind, tag, len(self.stack), []])

    def handle_endtag(self, tag):
        if not self.stack:
            return
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                break
        else:
            return
        depth = index + 1
        while self.open and self.open[-1][2] >= depth:
            kind, _tag, _depth, parts = self.open.pop()
            self.found.append((kind, " ".join("".join(parts).split())))
        del self.stack[index:]

    def handle_data(self, data):
        for entry in self.open:
            entry[3].append(data)


def _english(text: str) -> bool:
    """Text with no Chinese and a word of ASCII letters that is not an allowed code."""
    if re.search(r"[\u4e00-\u9fff]", text):
        return False
    words = re.findall(r"[A-Za-z]{2,}", text)
    return any(word.lower() not in ALLOWED_ASCII for word in words)


def _check(url, response, *, data_texts=()):
    assert response.status_code in SAFE_STATUSES, (url, response.status_code)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return
    html = response.content.decode()
    # Rows hold data, and data may be anything: look for phrases in the page's own words only.
    page = html
    for text in data_texts:
        page = page.replace(text, "")
    found = [phrase for phrase in MACHINE_PHRASES if phrase in page]
    assert not found, f"{url}: machine-translated {found}"
    parser = _Texts()
    parser.feed(html)
    english = [(kind, text) for kind, text in parser.found if text and _english(text)]
    assert not english, f"{url}: English in Chinese mode: {english}"


def _get(client, url, **kwargs):
    response = client.get(url, **kwargs)
    return url, response


@pytest.fixture
def world(tree, people, reference):
    """Something in every list: inspections on both sides, a project and a key-project list, an admin
    change in the history, a token."""
    for unit in (tree.a1, tree.b1):
        services.inspection_record(
            actor=people.county,
            unit=unit,
            checklist=reference.checklist,
            inspected_on=datetime.date(2026, 10, 8),
        )
    # A project on its way and a key-project list with a filled month: their pages have rows to show.
    project = projects.project_create(actor=None, unit=tree.a1, name="四点半课堂", domain=reference.platform)
    projects.project_transition(actor=None, project=project, to="published")
    plan = projects.key_list_create(actor=None, unit=tree.a, year=2026)
    projects.key_month_update(
        actor=None,
        month=plan.months.get(month=3),
        theme="学雷锋志愿服务月",
        projects=[project],
        responsible_units=[tree.a1],
    )
    root = make_user("root_admin", is_superuser=True, is_staff=True)
    return root


ROLES = ["superuser", "county", "inst_a", "station_a1", "viewer"]


def _user(role, people, world):
    return world if role == "superuser" else getattr(people, role)


def _filter_query(client, changelist_url):
    """The link of the second choice of the first filter (the first is "all"), if the list has filters."""
    response = client.get(changelist_url)
    cl = response.context and response.context.get("cl")
    if not cl or not cl.has_filters:
        return None
    for spec in cl.filter_specs:
        choices = list(spec.choices(cl))
        if len(choices) > 1:
            return choices[1]["query_string"]
    return None


def _reverse(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _model_urls(client, model, model_admin):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    changelist = _reverse(f"{prefix}_changelist")
    if changelist is None:
        return []
    urls = [changelist, changelist + "?q=%E7%94%B2", _reverse(f"{prefix}_add")]
    query = _filter_query(client, changelist)
    if query:
        urls.append(changelist + query)
    response = client.get(changelist)
    cl = response.context.get("cl") if response.status_code == 200 and response.context else None
    if cl is not None and len(cl.result_list):
        obj = cl.result_list[0]
        urls += [_reverse(f"{prefix}_{view}", obj.pk) for view in ("change", "history", "delete")]
    return [url for url in urls if url]


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_of_every_role_reads_as_chinese(client, people, world, tree, role):
    client.force_login(_user(role, people, world))
    # A change through the admin, so history pages and "recent actions" have an entry to show.
    url = reverse("admin:stations_unit_change", args=[tree.a2.pk])
    data = unit_form(tree.a2, address="甲二村村部", contact_person="李四")
    if role in {"superuser", "county", "inst_a"}:
        assert client.post(url, data).status_code == 302
    data_texts = [str(tree.__dict__[name]) for name in vars(tree)]

    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        pages.append(_reverse("admin:app_list", model._meta.app_label))
        pages += _model_urls(client, model, model_admin)
    pages.append(reverse("admin:password_change"))
    seen = set()
    for page in pages:
        if not page or page in seen:
            continue
        seen.add(page)
        _check(*_get(client, page), data_texts=data_texts)


def test_login_logout_and_wrong_password_pages_read_as_chinese(client, people):
    login = reverse("admin:login")
    _check(login, client.get(login))
    response = client.post(login, {"username": "county", "password": "wrong-password"})
    _check(login, response)
    assert "请输入正确的账号和密码（区分大小写）。" in response.content.decode()
    client.force_login(people.county)
    response = client.post(reverse("admin:logout"))
    _check("logout", response)
    assert "您已安全退出，感谢使用。" in response.content.decode()


def test_change_form_buttons_and_changelist_title(client, people, tree):
    client.force_login(people.county)
    html = client.get(reverse("admin:stations_unit_changelist")).content.decode()
    assert "选择要修改的单位" in html and "新增单位" in html and "按类型筛选" in html
    assert "清除全部筛选" not in html  # nothing filtered yet
    html = client.get(reverse("admin:stations_unit_changelist") + "?kind__exact=station").content.decode()
    assert "清除全部筛选" in html
    html = client.get(reverse("admin:stations_unit_add")).content.decode()
    assert "保存并继续新增" in html and "保存并继续编辑" in html


def test_history_shows_chinese_field_names(client, people, tree):
    """Django stores the English verbose names of the changed fields and translates them when shown."""
    client.force_login(people.inst_a)
    url = reverse("admin:stations_unit_change", args=[tree.a2.pk])
    response = client.post(url, unit_form(tree.a2, address="甲二村村部", contact_person="王五"))
    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(tree.a2.pk))
    assert "Address" in entry.change_message  # stored in English, as Django does
    url = reverse("admin:stations_unit_history", args=[tree.a2.pk])
    history = client.get(url).content.decode().split('id="change-history"')[-1]
    assert "修改了地址和联系人。" in history, history[:800]
    assert "Address" not in history and "Contact" not in history
    client.cookies["django_language"] = "en"
    assert "Changed Address and Contact person." in client.get(url).content.decode()


def test_success_message_after_saving_reads_as_chinese(client, people, tree):
    client.force_login(people.inst_a)
    url = reverse("admin:stations_unit_change", args=[tree.a2.pk])
    response = client.post(url, unit_form(tree.a2, address="甲二村村部"), follow=True)
    html = re.sub(r"<a [^>]*>|</a>", "", response.content.decode())
    assert f"已保存单位“{tree.a2.name}”的修改。" in html


def test_language_switch_in_the_admin_header(client, people):
    client.force_login(people.county)
    html = client.get(reverse("admin:index")).content.decode()
    assert f'action="{reverse("set_language")}"' in html and 'name="next"' in html
    assert "最近操作" in html and "退出登录" in html and reverse("api-docs") in html
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    html = client.get(reverse("admin:index")).content.decode()
    assert "Recent actions" in html and 'lang="en"' in html


def test_api_documentation_link_is_for_staff_only(client, people):
    html = client.get(reverse("admin:login")).content.decode()
    assert reverse("api-docs") not in html


def test_active_filters_show_as_chips_that_remove_themselves(client, people, tree):
    client.force_login(people.county)
    base = reverse("admin:stations_unit_changelist")
    html = client.get(
        base + "?" + urlencode({"kind__exact": "station", "is_active__exact": "1"})
    ).content.decode()
    chips = re.findall(r'<a class="portal-chip" href="([^"]+)"', html)
    assert len(chips) == 2
    assert "类型：" in html and "文明实践站" in html
    assert any("kind__exact" not in link and "is_active__exact=1" in link for link in chips)
    assert 'class="button portal-filter-toggle"' in html and ">筛选<" in html


def test_county_name_is_in_the_admin_header(client, people, tree):
    client.force_login(people.county)
    html = client.get(reverse("admin:index")).content.decode()
    assert f'<div id="site-name"><a href="{reverse("admin:index")}">{tree.center.name}</a>' in html
    assert "favicon" in html


def test_credentials_of_a_created_superuser_are_fine_on_the_login_form(client, db):
    make_user("root2", is_superuser=True, is_staff=True)
    response = client.post(reverse("admin:login"), {"username": "root2", "password": TEST_PASSWORD})
    assert response.status_code == 302
