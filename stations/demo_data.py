"""The demo county that `manage.py seed_demo` builds: 顺昌县 (Shunchang, Nanping, Fujian).

Pure data, no database: `county_plan()` draws every name, code, contact and coordinate from a fixed seed,
so every run plans exactly the same units and the command can look each one up by its code.
The villages are invented from syllable lists; the townships are Shunchang's twelve.
"""

from __future__ import annotations

import datetime
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

from .models import PointCategory, RecognitionLevel, Role, UnitKind

SEED = 20260305  # 学雷锋纪念日: any fixed number would do
PASSWORD = "Demo@2026!"
ADMIN_URL = "http://127.0.0.1:8000/admin/"
API_URL = "http://127.0.0.1:8000/api/v1/units/"

# The county's bounding box; every unit of the demo lies inside it.
LON_MIN, LON_MAX = Decimal("117.55"), Decimal("118.10")
LAT_MIN, LAT_MAX = Decimal("26.55"), Decimal("27.05")
_MARGIN = 0.005

CENTER_CODE = "SC"
CENTER_NAME = "顺昌县新时代文明实践中心"
REGION = "福建省南平市顺昌县"
SUFFIX_INSTITUTE = "新时代文明实践所"
SUFFIX_STATION = "新时代文明实践站"
SUFFIX_POINT = "新时代文明实践点"


@dataclass(frozen=True)
class Township:
    name: str
    longitude: float
    latitude: float
    stations: int
    communities: int  # how many of the stations are in communities (社区) rather than villages (村)
    highlight: str
    recognition: str = RecognitionLevel.NONE


TOWNSHIPS = (
    Township("双溪街道", 117.805, 26.790, 16, 9, "红色宣讲+社区邻里节", RecognitionLevel.PROVINCIAL),
    Township("建西镇", 117.745, 26.850, 14, 1, "杉木文化+生态文明", RecognitionLevel.COUNTY),
    Township("洋口镇", 117.925, 26.835, 16, 2, "林场精神+志愿护林", RecognitionLevel.CITY),
    Township("元坑镇", 117.640, 26.640, 14, 1, "古镇文化+家风家训", RecognitionLevel.CITY),
    Township("埔上镇", 117.880, 26.700, 12, 1, "乡贤文化+孝老爱亲"),
    Township("大历镇", 117.650, 26.890, 13, 1, "红色宣讲+茶文化", RecognitionLevel.COUNTY),
    Township("大干镇", 117.960, 26.650, 13, 1, "芦柑产业+科技下乡"),
    Township("仁寿镇", 117.790, 26.960, 12, 1, "非遗传承+文艺下乡", RecognitionLevel.COUNTY),
    Township("郑坊镇", 117.600, 26.760, 14, 1, "乡村振兴+农技服务"),
    Township("洋墩乡", 118.000, 26.960, 10, 0, "生态护林+百姓宣讲"),
    Township("岚下乡", 117.720, 26.610, 10, 0, "竹编技艺+关爱一老一小"),
    Township("高阳乡", 118.040, 26.740, 10, 0, "高山茶园+健康义诊"),
)

PLATFORMS = (
    # (code, name, responsible department, description)
    (
        "theory",
        "理论宣讲平台",
        "县委宣传部",
        "组织百姓宣讲团、理论骨干进村入户，把党的创新理论讲到群众身边。",
    ),
    ("education", "教育服务平台", "县教育局", "整合学校、家长学校和少年宫资源，开展课后托管、家庭教育指导。"),
    ("culture", "文化服务平台", "县文旅局", "文艺下乡、非遗展演、全民阅读，丰富群众精神文化生活。"),
    ("science", "科技与科普服务平台", "县科协", "农技专家下田间，开展科普宣传和实用技术培训。"),
    ("sports", "健身体育服务平台", "县体育中心", "组织全民健身活动，指导广场健身和村级体育赛事。"),
    ("law", "法律服务平台", "县司法局", "法律顾问进村居，开展普法宣传、法律援助和矛盾调解。"),
)

CHECKLIST_NAME = "“八个有”建设标准"
CHECKLIST_DESCRIPTION = "新时代文明实践站阵地建设标准，由县文明办组织督查，按项计分。"
CHECKLIST_ITEMS = (
    # (requirement, weight): the venue, the volunteers and the monthly activity count a little more
    ("有统一标识", 1),
    ("有固定场所", 2),
    ("有学习书籍", 1),
    ("有多媒体设备", 1),
    ("有制度上墙", 1),
    ("有志愿服务队伍", 2),
    ("有活动计划", 1),
    ("每月至少开展一次学习活动", 2),
)


@dataclass(frozen=True)
class Account:
    username: str
    real_name: str  # the whole name, family name first, as the portal shows it (User.first_name)
    role: str | None  # None: the superuser, who needs no role
    unit_code: str | None


ACCOUNTS = (
    Account("admin", "林志远", None, None),
    Account("county", "黄丽华", Role.COUNTY_ADMIN, CENTER_CODE),
    Account("shuangxi", "张建明", Role.INSTITUTE_ADMIN, "SC-01"),
    Account("jianxi", "吴秀英", Role.INSTITUTE_ADMIN, "SC-02"),
    Account("station", "刘海峰", Role.STATION_ADMIN, "SC-01-001"),
    Account("dashboard", "县大屏", Role.VIEWER, CENTER_CODE),
)


@dataclass(frozen=True)
class UnitSpec:
    code: str
    parent_code: str | None
    kind: str
    name: str
    fields: dict = field(default_factory=dict)  # the other Unit fields: address, coordinates, contacts …


@dataclass(frozen=True)
class InspectionSpec:
    unit_code: str
    inspected_on: datetime.date
    unmet: tuple[str, ...]  # requirements not met; every other item of the standard is
    note: str


@dataclass(frozen=True)
class CountyPlan:
    center: UnitSpec
    townships: tuple[tuple[UnitSpec, ...], ...]  # each: the institute first, then its stations and points
    inspections: tuple[InspectionSpec, ...]

    @property
    def units(self) -> list[UnitSpec]:
        return [self.center, *(spec for township in self.townships for spec in township)]


_SURNAMES = "陈林黄张李王吴刘蔡杨郑谢邱罗廖余叶朱江肖魏游徐邓严饶范官"
# Given names: mostly two syllables (建华、秀英、志强), sometimes one (伟、芳).
_GIVEN_FIRST = "建国志晓文海秀丽玉春金德福永俊淑美雪"
_GIVEN_SECOND = "华明平强军英芳兰梅辉斌清林荣峰琴燕红"
_GIVEN_SINGLE = "伟强军勇斌峰华芳英丽敏静红梅磊涛"
# Village names: a first and a second syllable, as in 际头、上坪、竹洋.
_VILLAGE_FIRST = "上下东西南北大小高新石竹桂兰松梅杉枫龙凤茶麻吴余谢黄际岚楼溪源"
_VILLAGE_SECOND = "坑坊源口洋墩岭溪头坪垄厝山田湖地墘际林阳"
_COMMUNITIES = (
    "中山",
    "南门",
    "北门",
    "东郊",
    "水南",
    "城西",
    "光明",
    "富文",
    "华阳",
    "翠峰",
    "新华",
    "和平",
)
_STREETS = ("中山路", "府前路", "滨江路", "建设路", "解放路", "南山路", "水南路", "东大街")
_BRAND_FIRST = (
    "红色宣讲",
    "百姓宣讲",
    "孝老爱亲",
    "邻里守望",
    "家风家训",
    "移风易俗",
    "乡贤调解",
    "法治宣传",
)
_BRAND_SECOND = (
    "茶文化",
    "竹文化",
    "杉木文化",
    "农耕文化",
    "书香村居",
    "健康义诊",
    "科普惠农",
    "文艺下乡",
    "护林防火",
)
_POINT_FEATURES = {
    PointCategory.SCHOOL: ("小小宣讲员", "课后托管志愿服务", "少年传习所"),
    PointCategory.PARK: ("广场舞文明劝导", "周末文艺汇演", "全民健身指导"),
    PointCategory.LEIFENG_POST: ("爱心药箱+免费饮水", "便民修补服务", "雷锋超市积分兑换"),
    PointCategory.ENTERPRISE: ("职工夜校", "安全生产宣讲", "企业开放日"),
    PointCategory.HOSPITAL: ("健康义诊", "家庭医生签约服务", "慢病随访"),
    PointCategory.LIBRARY: ("亲子共读", "农技书籍借阅", "读书分享会"),
}
_POINT_CATEGORIES = tuple(_POINT_FEATURES)
_POINTS_PER_STATION = (2, 1, 3, 2)  # cycled: two points a station on average
# How many stations get each recognition level; the rest have none.
_STATION_RECOGNITION = (
    (RecognitionLevel.NATIONAL, 1),
    (RecognitionLevel.PROVINCIAL, 4),
    (RecognitionLevel.CITY, 10),
    (RecognitionLevel.COUNTY, 25),
)
_INSPECTED_STATIONS = 26
_FOLLOW_UPS = 4  # stations inspected again after putting their shortcomings right
_FIRST_INSPECTION_DAY = datetime.date(2026, 3, 2)


class _Drawer:
    """Names, phones and coordinates drawn from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def person(self) -> str:
        surname = self.rng.choice(_SURNAMES)
        if self.rng.random() < 0.25:
            return surname + self.rng.choice(_GIVEN_SINGLE)
        return surname + self.rng.choice(_GIVEN_FIRST) + self.rng.choice(_GIVEN_SECOND)

    def phone(self) -> str:
        return f"0599-7{self.rng.randrange(100000, 1000000)}"

    def near(self, longitude: float, latitude: float, spread: float) -> tuple[Decimal, Decimal]:
        lon = longitude + self.rng.uniform(-spread, spread)
        lat = latitude + self.rng.uniform(-spread, spread)
        return _inside(lon, LON_MIN, LON_MAX), _inside(lat, LAT_MIN, LAT_MAX)


def _inside(value: float, low: Decimal, high: Decimal) -> Decimal:
    value = min(max(value, float(low) + _MARGIN), float(high) - _MARGIN)
    return Decimal(f"{value:.6f}")


def _short(township: str) -> str:
    """双溪街道 › 双溪, 建西镇 › 建西."""
    for suffix in ("街道", "镇", "乡"):
        if township.endswith(suffix):
            return township[: -len(suffix)]
    return township


def _village_names(draw: _Drawer, count: int, taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        first, second = draw.rng.choice(_VILLAGE_FIRST), draw.rng.choice(_VILLAGE_SECOND)
        name = first + second
        if first != second and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _point_name(category: str, stem: str, label: str, is_community: bool, draw: _Drawer) -> str:
    if category == PointCategory.SCHOOL:
        return f"{stem}小学"
    if category == PointCategory.PARK:
        return f"{stem}{draw.rng.choice(('文化广场', '休闲公园'))}"
    if category == PointCategory.LEIFENG_POST:
        return f"{label}雷锋驿站"
    if category == PointCategory.ENTERPRISE:
        return f"顺昌县{stem}{draw.rng.choice(('竹业', '林产品', '茶业', '食品', '笋业'))}有限公司"
    if category == PointCategory.HOSPITAL:
        return f"{label}卫生服务站" if is_community else f"{label}卫生所"
    return f"{label}书屋" if is_community else f"{label}农家书屋"


def _township_units(
    draw: _Drawer, number: int, township: Township, taken: set[str], points_per_station
) -> list[UnitSpec]:
    short = _short(township.name)
    code = f"{CENTER_CODE}-{number:02d}"
    office = "办事处" if township.name.endswith("街道") else "人民政府"
    lon, lat = _inside(township.longitude, LON_MIN, LON_MAX), _inside(township.latitude, LAT_MIN, LAT_MAX)
    units = [
        UnitSpec(
            code,
            CENTER_CODE,
            UnitKind.INSTITUTE,
            f"{township.name}{SUFFIX_INSTITUTE}",
            {
                "address": f"{REGION}{township.name}{office}",
                "longitude": lon,
                "latitude": lat,
                "contact_person": draw.person(),
                "contact_phone": draw.phone(),
                "recognition_level": township.recognition,
                "highlight": township.highlight,
            },
        )
    ]
    # Points that belong to the township itself: its middle school and its health center.
    hospital = "社区卫生服务中心" if township.name.endswith("街道") else "卫生院"
    for order, (category, venue) in enumerate(
        ((PointCategory.SCHOOL, f"{short}中学"), (PointCategory.HOSPITAL, f"{township.name}{hospital}")), 1
    ):
        p_lon, p_lat = draw.near(float(lon), float(lat), 0.01)
        units.append(
            UnitSpec(
                f"{code}-P{order:02d}",
                code,
                UnitKind.POINT,
                f"{venue}{SUFFIX_POINT}",
                {
                    "category": category,
                    "address": f"{REGION}{township.name}{draw.rng.choice(_STREETS)}{draw.rng.randint(1, 120)}"
                    "号",
                    "longitude": p_lon,
                    "latitude": p_lat,
                    "contact_person": draw.person(),
                    "contact_phone": draw.phone(),
                },
            )
        )

    # A town's first community carries the town's name (洋口社区); the street's take names of their own.
    community_stems = [short] if township.communities and not township.name.endswith("街道") else []
    while len(community_stems) < township.communities:
        stem = next(name for name in _COMMUNITIES if name not in taken)
        taken.add(stem)
        community_stems.append(stem)
    village_stems = _village_names(draw, township.stations - township.communities, taken)
    places = [(stem, True) for stem in community_stems] + [(stem, False) for stem in village_stems]

    for index, (stem, is_community) in enumerate(places, 1):
        station_code = f"{code}-{index:03d}"
        label = f"{stem}社区" if is_community else f"{stem}村"
        s_lon, s_lat = draw.near(float(lon), float(lat), 0.035)
        where = f"{REGION}{township.name}{label}"
        units.append(
            UnitSpec(
                station_code,
                code,
                UnitKind.STATION,
                f"{label}{SUFFIX_STATION}",
                {
                    "address": f"{where}{'居委会' if is_community else '村委会'}",
                    "longitude": s_lon,
                    "latitude": s_lat,
                    "contact_person": draw.person(),
                    "contact_phone": draw.phone(),
                    # A third of the stations have a brand of their own; the recognised ones get one below.
                    "highlight": _brand(draw) if draw.rng.random() < 0.33 else "",
                },
            )
        )
        for p_index, category in enumerate(draw.rng.sample(_POINT_CATEGORIES, next(points_per_station)), 1):
            p_lon, p_lat = draw.near(float(s_lon), float(s_lat), 0.008)
            venue = _point_name(category, stem, label, is_community, draw)
            place = (
                f"{draw.rng.choice(_STREETS)}{draw.rng.randint(1, 200)}号"
                if is_community
                else f"{draw.rng.randint(1, 12)}组"
            )
            units.append(
                UnitSpec(
                    f"{station_code}-{p_index:02d}",
                    station_code,
                    UnitKind.POINT,
                    f"{venue}{SUFFIX_POINT}",
                    {
                        "category": category,
                        "address": f"{where}{place}",
                        "longitude": p_lon,
                        "latitude": p_lat,
                        "contact_person": draw.person(),
                        "contact_phone": draw.phone(),
                        "highlight": draw.rng.choice(_POINT_FEATURES[category])
                        if draw.rng.random() < 0.25
                        else "",
                    },
                )
            )
    return units


def _brand(draw: _Drawer) -> str:
    return f"{draw.rng.choice(_BRAND_FIRST)}+{draw.rng.choice(_BRAND_SECOND)}"


def _recognise_stations(draw: _Drawer, townships: list[list[UnitSpec]]) -> None:
    stations = [spec for township in townships for spec in township if spec.kind == UnitKind.STATION]
    chosen = draw.rng.sample(stations, sum(count for _level, count in _STATION_RECOGNITION))
    for level, count in _STATION_RECOGNITION:
        for spec in chosen[:count]:
            spec.fields["recognition_level"] = level
            spec.fields["highlight"] = spec.fields["highlight"] or _brand(draw)
        chosen = chosen[count:]


def _inspections(draw: _Drawer, townships: list[list[UnitSpec]]) -> list[InspectionSpec]:
    codes = [spec.code for township in townships for spec in township if spec.kind == UnitKind.STATION]
    requirements = [text for text, _weight in CHECKLIST_ITEMS]
    firsts, follow_ups = [], []
    for code in sorted(draw.rng.sample(codes, _INSPECTED_STATIONS)):
        day = _FIRST_INSPECTION_DAY + datetime.timedelta(days=draw.rng.randrange(0, 180))
        unmet = sorted(
            draw.rng.sample(range(len(requirements)), draw.rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 5)))
        )
        unmet_texts = tuple(requirements[i] for i in unmet)
        note = "县文明办年度督查：" + (
            "全部达标。" if not unmet else f"未达标：{'、'.join(unmet_texts)}，限期整改。"
        )
        firsts.append(InspectionSpec(code, day, unmet_texts, note))
        if unmet and len(follow_ups) < _FOLLOW_UPS:
            again = day + datetime.timedelta(days=draw.rng.randrange(30, 61))
            follow_ups.append(InspectionSpec(code, again, (), "整改复查：问题已全部整改到位。"))
    return firsts + follow_ups


def county_plan(seed: int = SEED) -> CountyPlan:
    """The whole demo county, the same every time for the same seed."""
    draw = _Drawer(seed)
    center_lon, center_lat = _inside(117.810, LON_MIN, LON_MAX), _inside(26.792, LAT_MIN, LAT_MAX)
    center = UnitSpec(
        CENTER_CODE,
        None,
        UnitKind.CENTER,
        CENTER_NAME,
        {
            "address": f"{REGION}双溪街道府前路1号",
            "longitude": center_lon,
            "latitude": center_lat,
            "contact_person": draw.person(),
            "contact_phone": draw.phone(),
            "recognition_level": RecognitionLevel.NATIONAL,
            "highlight": "两中心一平台：文明实践中心与融媒体中心一体运行",
        },
    )
    # Township names are kept out of the village names, so 洋口村 never sits beside 洋口镇.
    taken = {_short(t.name) for t in TOWNSHIPS}
    points_per_station = itertools.cycle(_POINTS_PER_STATION)
    townships = [
        _township_units(draw, number, township, taken, points_per_station)
        for number, township in enumerate(TOWNSHIPS, 1)
    ]
    _recognise_stations(draw, townships)
    inspections = _inspections(draw, townships)
    return CountyPlan(center, tuple(tuple(t) for t in townships), tuple(inspections))
