"""Realistic demo data for the standard CRM pack (metadata/objects).

Everything here is pure: rows depend only on the random generator's seed and the anchor date
("today"), never on global state. `load_demo` inserts through a caller-supplied bulk create, so
the record service still validates, emits events and audits every row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import phonenumbers

Row = dict[str, Any]
CreateMany = Callable[[str, list[Row]], list[int]]

CHUNK_SIZE = 1000
HISTORY_DAYS = 548  # about 18 months
CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class _Channel:
    code: str
    name: str
    kind: str
    weight: int
    cost: int
    age_days: int
    active: bool
    landing_url: str | None
    description: str
    details: tuple[str, ...]


_CHANNELS: tuple[_Channel, ...] = (
    _Channel("website", "官网", "website", 14, 120_000, 540, True, "https://www.example.com/contact",
             "官网表单、在线客服与预约演示", ("官网-预约演示表单", "官网-在线客服", "官网-白皮书下载",
                                             "Website - contact us form")),
    _Channel("wechat_oa", "微信公众号", "wechat", 14, 80_000, 540, True, None, "公众号文章、菜单与活动报名",
             ("公众号文章《私域运营白皮书》", "公众号菜单-联系我们", "公众号活动报名-会员日")),
    _Channel("wecom", "企业微信", "wechat", 8, 30_000, 420, True, None, "导购企业微信添加与社群",
             ("企业微信-导购添加", "企业微信群-新品试用")),
    _Channel("douyin_live", "抖音直播", "douyin", 12, 260_000, 365, True, None, "品牌直播间与短视频留资",
             ("抖音直播间留资", "抖音短视频评论区", "巨量引擎表单")),
    _Channel("xhs_notes", "小红书种草", "xiaohongshu", 8, 150_000, 300, True, None, "达人笔记与私信咨询",
             ("小红书笔记私信", "小红书达人合作-探店")),
    _Channel("baidu_sem", "百度搜索推广", "ads", 10, 320_000, 540, True, "https://www.example.com/lp/sem",
             "搜索关键词投放", ("百度关键词：CRM 系统", "百度关键词：会员管理软件", "百度关键词：营销自动化")),
    _Channel("ciie", "进博会", "trade_show", 5, 450_000, 400, False, None, "中国国际进口博览会展位与论坛",
             ("进博会展位扫码", "进博会配套论坛")),
    _Channel("referral", "老客户推荐", "referral", 7, 20_000, 540, True, None, "客户与员工转介绍",
             ("老客户王先生推荐", "老客户转介绍活动", "员工推荐")),
    _Channel("partners", "渠道合作伙伴", "partner", 5, 60_000, 500, True, None, "代理商与 ISV 报备",
             ("华东区代理商报备", "ISV 合作伙伴推荐")),
    _Channel("store_walk_in", "线下门店", "offline_store", 6, 0, 540, True, None, "门店扫码入会",
             ("上海静安嘉里中心店", "北京三里屯店扫码", "深圳万象天地店")),
    _Channel("google_ads", "Google Ads", "ads", 4, 180_000, 365, True, "https://www.example.com/lp/google",
             "Search campaigns for overseas buyers", ("Google Ads: crm software china", "Google Ads: loyalty platform")),
    _Channel("linkedin", "LinkedIn", "ads", 3, 90_000, 300, True, "https://www.example.com/lp/linkedin",
             "Lead gen forms and InMail", ("LinkedIn Lead Gen Form", "LinkedIn InMail campaign")),
    _Channel("ces", "CES Las Vegas", "trade_show", 2, 380_000, 200, False, None, "Booth at CES",
             ("CES booth badge scan", "CES partner dinner")),
    _Channel("newsletter", "Email newsletter", "email", 3, 15_000, 450, True, None, "Monthly newsletter and EDM",
             ("Monthly newsletter", "EDM 双十一预热")),
    _Channel("excel_import", "Excel 批量导入", "import", 5, 0, 540, True, None, "历史名单批量导入",
             ("历史客户名单导入", "展会名单导入")),
    _Channel("open_api", "开放 API", "api", 6, 0, 540, True, None, "电商与小程序系统对接",
             ("电商平台订单同步", "小程序注册同步")),
)

DEMO_PLAN: list[tuple[str, int]] = [
    ("channel", len(_CHANNELS)),
    ("account", 400),
    ("customer", 1500),
    ("lead", 3000),
    ("opportunity", 600),
    ("activity", 2500),
]

# --- people -------------------------------------------------------------------------------------

_SURNAMES = (("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 67), ("刘", "liu", 54), ("陈", "chen", 46),
             ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 22), ("吴", "wu", 20), ("周", "zhou", 19),
             ("徐", "xu", 13), ("孙", "sun", 13), ("马", "ma", 12), ("朱", "zhu", 11), ("胡", "hu", 11),
             ("郭", "guo", 10), ("何", "he", 9), ("高", "gao", 9), ("林", "lin", 9), ("罗", "luo", 8))
_GIVEN_MALE = (("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
               ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("浩", "hao"), ("鹏", "peng"),
               ("辉", "hui"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("俊杰", "junjie"), ("子轩", "zixuan"),
               ("浩然", "haoran"), ("宇航", "yuhang"), ("文博", "wenbo"), ("天宇", "tianyu"), ("晨阳", "chenyang"),
               ("家豪", "jiahao"), ("一鸣", "yiming"), ("国栋", "guodong"))
_GIVEN_FEMALE = (("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
                 ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("秀英", "xiuying"), ("欣怡", "xinyi"),
                 ("子涵", "zihan"), ("雨桐", "yutong"), ("佳怡", "jiayi"), ("思雨", "siyu"), ("诗琪", "shiqi"),
                 ("梦瑶", "mengyao"), ("晓燕", "xiaoyan"), ("慧敏", "huimin"), ("婉清", "wanqing"),
                 ("一诺", "yinuo"), ("可欣", "kexin"))
_FIRST_MALE = ("James", "John", "Michael", "David", "Daniel", "Kevin", "Ryan", "Jason", "Eric", "Andrew",
               "Thomas", "Oliver", "Lucas", "Ethan", "Samuel")
_FIRST_FEMALE = ("Emily", "Sarah", "Jessica", "Emma", "Olivia", "Sophia", "Grace", "Chloe", "Hannah", "Amy",
                 "Lily", "Rachel", "Laura", "Mia", "Zoe")
_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Anderson", "Moore", "Martin", "Lee",
         "Walker", "Clark", "Young", "Hall", "Wright", "Scott", "Green", "Baker", "Nguyen", "Tan", "Wong",
         "Chan", "Lim", "Schmidt", "Rossi")


@dataclass(frozen=True)
class _Person:
    name: str
    gender: str
    chinese: bool
    handle_parts: tuple[str, str]  # (family, given) in latin letters, for emails and WeChat ids


# --- places -------------------------------------------------------------------------------------

_CN_CITIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # slug: (Chinese name, landline area code, districts)
    "shanghai": ("上海", "21", ("浦东新区", "静安区", "徐汇区", "闵行区")),
    "beijing": ("北京", "10", ("朝阳区", "海淀区", "东城区", "丰台区")),
    "shenzhen": ("深圳", "755", ("南山区", "福田区", "宝安区")),
    "guangzhou": ("广州", "20", ("天河区", "越秀区", "海珠区")),
    "hangzhou": ("杭州", "571", ("西湖区", "滨江区", "余杭区")),
    "chengdu": ("成都", "28", ("武侯区", "锦江区", "高新区")),
    "nanjing": ("南京", "25", ("鼓楼区", "建邺区", "江宁区")),
    "wuhan": ("武汉", "27", ("江汉区", "洪山区", "武昌区")),
    "suzhou": ("苏州", "512", ("工业园区", "姑苏区", "吴中区")),
    "xian": ("西安", "29", ("雁塔区", "碑林区", "未央区")),
    "chongqing": ("重庆", "23", ("渝中区", "江北区", "渝北区")),
    "tianjin": ("天津", "22", ("和平区", "南开区", "滨海新区")),
}
_DIVISION_CODES = {"shanghai": "310115", "beijing": "110105", "shenzhen": "440305", "guangzhou": "440106",
                   "hangzhou": "330106", "chengdu": "510107", "nanjing": "320106", "wuhan": "420103",
                   "suzhou": "320571", "xian": "610113", "chongqing": "500103", "tianjin": "120116"}
_ROADS = ("人民路", "中山路", "建设路", "解放路", "科技路", "创新大道", "长江路", "延安路", "世纪大道", "学府路",
          "高新大道", "滨江路", "银城路", "金融街")
_GLOBAL_CITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "hong_kong": ("Hong Kong", ("Queen's Road Central", "Nathan Road", "Hennessy Road", "Canton Road")),
    "singapore": ("Singapore", ("Orchard Road", "Raffles Place", "Robinson Road", "Anson Road")),
    "tokyo": ("Tokyo", ("Marunouchi, Chiyoda-ku", "Roppongi, Minato-ku", "Shibuya, Shibuya-ku")),
    "london": ("London", ("Old Street", "King's Road", "Bishopsgate", "Fleet Street")),
    "new_york": ("New York, NY", ("Broadway", "Madison Avenue", "Lexington Avenue", "Hudson Street")),
    "san_francisco": ("San Francisco, CA", ("Market Street", "Mission Street", "Howard Street", "Folsom Street")),
}
_CITY_WEIGHTS_CN = {"shanghai": 16, "beijing": 15, "shenzhen": 11, "guangzhou": 10, "hangzhou": 8, "chengdu": 7,
                    "nanjing": 5, "wuhan": 5, "suzhou": 5, "xian": 4, "chongqing": 4, "tianjin": 4,
                    "hong_kong": 2, "singapore": 1, "other": 4}
_CITY_WEIGHTS_EN = {"shanghai": 10, "beijing": 8, "shenzhen": 4, "hong_kong": 12, "singapore": 14, "tokyo": 6,
                    "london": 14, "new_york": 14, "san_francisco": 12, "other": 6}

# --- companies ----------------------------------------------------------------------------------

_BRANDS_CN = (("星辰", "xingchen"), ("华瑞", "huarui"), ("云图", "yuntu"), ("博远", "boyuan"), ("恒通", "hengtong"),
              ("鼎盛", "dingsheng"), ("瑞丰", "ruifeng"), ("智联", "zhilian"), ("蓝海", "lanhai"),
              ("天成", "tiancheng"), ("宏图", "hongtu"), ("卓越", "zhuoyue"), ("金桥", "jinqiao"),
              ("海纳", "haina"), ("新元", "xinyuan"), ("启明", "qiming"), ("光合", "guanghe"), ("锐思", "ruisi"),
              ("青禾", "qinghe"), ("万象", "wanxiang"), ("远航", "yuanhang"), ("嘉禾", "jiahe"),
              ("众联", "zhonglian"), ("润泽", "runze"), ("晨曦", "chenxi"), ("弘毅", "hongyi"),
              ("凯信", "kaixin"), ("聚源", "juyuan"), ("乐途", "letu"), ("森邦", "senbang"))
_INDUSTRY_WORDS_CN = (("科技", "tech", "technology"), ("信息技术", "it", "technology"),
                      ("网络科技", "net", "technology"), ("智能制造", "im", "manufacturing"),
                      ("机械", "machinery", "manufacturing"), ("电子商务", "ec", "retail"),
                      ("商贸", "trading", "retail"), ("食品", "food", "consumer_goods"),
                      ("日化", "daily", "consumer_goods"), ("投资管理", "capital", "finance"),
                      ("生物医药", "bio", "healthcare"), ("医疗器械", "med", "healthcare"),
                      ("教育科技", "edu", "education"), ("置业", "realty", "real_estate"),
                      ("汽车服务", "auto", "automotive"), ("供应链管理", "scm", "logistics"),
                      ("物流", "logistics", "logistics"), ("文化传媒", "media", "media"),
                      ("新能源", "energy", "energy"), ("餐饮管理", "catering", "hospitality"),
                      ("酒店管理", "hotels", "hospitality"), ("管理咨询", "consulting", "professional_services"))
_BRANDS_EN = ("Northwind", "Bluepeak", "Silverline", "Brightwave", "Evergreen", "Redwood", "Summit", "Harbor",
              "Crescent", "Atlas", "Nimbus", "Lumen", "Keystone", "Pioneer", "Vertex", "Meridian", "Cobalt",
              "Granite", "Sterling", "Orchid")
_INDUSTRY_WORDS_EN = (("Technologies", "technology"), ("Software", "technology"), ("Labs", "technology"),
                      ("Manufacturing", "manufacturing"), ("Retail", "retail"), ("Foods", "consumer_goods"),
                      ("Capital", "finance"), ("Health", "healthcare"), ("Learning", "education"),
                      ("Properties", "real_estate"), ("Motors", "automotive"), ("Logistics", "logistics"),
                      ("Media", "media"), ("Energy", "energy"), ("Hospitality", "hospitality"),
                      ("Consulting", "professional_services"))
_EN_SUFFIX = {"hong_kong": "Limited", "singapore": "Pte. Ltd.", "tokyo": "K.K.", "london": "Ltd",
              "new_york": "Inc.", "san_francisco": "Inc."}
_SIZES = (("micro", 15, 500_000, 5_000_000), ("small", 30, 5_000_000, 50_000_000),
          ("medium", 30, 50_000_000, 300_000_000), ("large", 15, 300_000_000, 2_000_000_000),
          ("enterprise", 10, 2_000_000_000, 50_000_000_000))
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# --- phones and emails --------------------------------------------------------------------------

_MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                    "153", "155", "156", "157", "158", "159", "176", "177", "178", "180", "181", "182", "183",
                    "184", "185", "186", "187", "188", "189")
_US_AREA = {"new_york": ("212", "646", "917", "718", "347"), "san_francisco": ("415", "628", "650", "510")}
_CN_MAIL = (("qq.com", 30), ("163.com", 25), ("126.com", 8), ("foxmail.com", 6), ("sina.com", 4),
            ("outlook.com", 6), ("gmail.com", 6), ("icloud.com", 6), ("hotmail.com", 3))
_EN_MAIL = (("gmail.com", 40), ("outlook.com", 20), ("yahoo.com", 10), ("icloud.com", 15), ("hotmail.com", 8),
            ("proton.me", 4))

# --- texts --------------------------------------------------------------------------------------

_INTERESTS = ("skincare", "fashion", "sports", "travel", "food", "electronics", "home", "parenting", "finance",
              "education", "automotive", "health")
_JOB_TITLES_CN = ("市场总监", "市场经理", "品牌经理", "数字营销经理", "会员运营经理", "运营总监", "销售总监",
                  "IT 经理", "采购经理", "总经理", "创始人", "客服主管")
_JOB_TITLES_EN = ("Marketing Director", "Head of Growth", "CRM Manager", "Brand Manager",
                  "Digital Marketing Manager", "Operations Director", "IT Manager", "Procurement Manager",
                  "General Manager", "Founder & CEO")
_LEAD_NOTES = ("对会员积分功能很感兴趣，希望下周安排演示。", "预算在审批中，预计下季度启动。",
               "已加微信，发送了产品手册。", "目前在用竞品，合同年底到期。", "需要支持多门店和导购分佣。",
               "Asked for a pricing sheet and a reference customer.", "Wants a demo for the APAC team.",
               "Evaluating three vendors; decision expected next quarter.")
_CUSTOMER_NOTES = ("偏好周末到店，关注新品。", "对价格敏感，常参加促销活动。", "VIP 客户，生日当月赠送礼品。",
                   "曾投诉物流延迟，已补偿优惠券。", "Prefers email over phone calls.",
                   "Buys gifts for the team every Chinese New Year.")
_EXTRA_SAMPLES: tuple[dict[str, Any], ...] = (
    {"utm_source": "wechat", "utm_campaign": "member_day", "preferred_contact": "wechat"},
    {"store_code": "SH-015", "membership_card": "M2024001235"},
    {"utm_source": "douyin", "utm_campaign": "double11_live"},
    {"clothing_size": "M", "shoe_size": 38},
    {"preferred_contact": "email", "newsletter": True},
    {"tmall_buyer": True, "jd_buyer": False, "coupons_used": 3},
)
_DEAL_PRODUCTS_CN = ("会员营销平台", "CRM 系统", "营销自动化", "数据中台", "客服工单系统", "小程序商城", "导购助手")
_DEAL_PRODUCTS_EN = ("Loyalty platform", "CRM suite", "Marketing automation", "Customer data platform",
                     "Service desk", "Mini program store")
_DEAL_REGIONS = ("华东区", "华南区", "华北区", "西南区", "全国")
_STAGES = (("prospecting", 20, 10), ("qualification", 18, 20), ("proposal", 15, 50), ("negotiation", 12, 75),
           ("won", 20, 100), ("lost", 15, 0))
_LOST_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "other")
_ACTIVITY_SUBJECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "call": (("电话回访", "首次电话沟通", "确认需求细节", "跟进报价反馈", "邀约参加线下活动"),
             ("Intro call", "Follow-up call", "Pricing follow-up", "Discovery call")),
    "visit": (("上门拜访", "现场演示", "客户门店巡访", "拜访采购负责人"), ("On-site visit", "Site demo")),
    "meeting": (("方案评审会", "需求调研会议", "季度业务回顾", "合同条款沟通会"),
                ("Solution review", "Quarterly business review", "Kick-off meeting")),
    "email": (("发送产品资料", "发送报价单", "发送会议纪要"), ("Sent proposal", "Sent case studies", "Meeting recap")),
    "task": (("准备报价方案", "整理客户需求清单", "申请折扣审批", "安排产品试用账号"),
             ("Prepare quote", "Set up trial account", "Send contract draft")),
    "note": (("客户反馈", "竞品情况记录", "决策链梳理"), ("Customer feedback", "Competitor notes")),
}
_ACTIVITY_NOTES = ("客户认可方案，要求补充实施周期说明。", "对接人下周出差，约定月底再沟通。",
                   "关注数据安全与私有化部署。", "已发送报价，等待采购审批。", "客户希望增加企业微信集成。",
                   "Positive call; they want a trial for two stores.", "Legal is reviewing the DPA.",
                   "Budget confirmed, decision maker joins next meeting.")
_DURATIONS = {"call": (2, 45), "meeting": (30, 120), "visit": (60, 240)}


# --- small helpers ------------------------------------------------------------------------------

def _weighted(rng: random.Random, table: Mapping[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _money(amount: float, step_cents: int = 1) -> str:
    """A decimal string with two places, rounded to a multiple of `step_cents`."""
    cents = max(0, round(amount * 100 / step_cents) * step_cents)
    return f"{cents // 100}.{cents % 100:02d}"


def _iso_datetime(rng: random.Random, moment: datetime) -> str:
    """Mostly China Standard Time offsets, sometimes UTC with Z: both are valid input."""
    if rng.random() < 0.8:
        return moment.astimezone(CST).isoformat(timespec="seconds")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _work_time(rng: random.Random, day: date, step_minutes: int = 1) -> datetime:
    minute = rng.randrange(9 * 60, 18 * 60 + 30, step_minutes)
    return datetime.combine(day, time(minute // 60, minute % 60), CST)


def _credit_code(rng: random.Random, city: str) -> str:
    """A unified social credit code (GB 32100-2015) with valid check characters."""
    body = [rng.choice("0123456789") for _ in range(8)]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org = "".join(body) + {10: "X", 11: "0"}.get(check, str(check))
    head = "91" + _DIVISION_CODES[city] + org  # 9: registered by market regulators, 1: a company
    values = [_CREDIT_CHARS.index(c) for c in head]
    weights18 = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    last = (31 - sum(v * w for v, w in zip(values, weights18, strict=True)) % 31) % 31
    return head + _CREDIT_CHARS[last]


class _Builder:
    """Row builders for one call of generate_rows: the generator, the anchor date and what is taken."""

    def __init__(self, rng: random.Random, ids: Mapping[str, Sequence[int]], user_ids: Sequence[int],
                 today: date, taken: set[str]) -> None:
        self.rng = rng
        self.ids = ids
        self.user_ids = list(user_ids)
        self.today = today
        self.taken = taken

    # --- choices ---

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, target: str) -> int | None:
        pool = self.ids.get(target) or ()
        return self.rng.choice(pool) if pool else None

    def pick_channel(self) -> tuple[int, _Channel] | None:
        """A channel id, skewed like real traffic; ids are assumed in DEMO_PLAN creation order."""
        pool = list(self.ids.get("channel") or ())
        if not pool:
            return None
        weights = [_CHANNELS[i % len(_CHANNELS)].weight for i in range(len(pool))]
        index = self.rng.choices(range(len(pool)), weights=weights)[0]
        return pool[index], _CHANNELS[index % len(_CHANNELS)]

    def past_day(self, max_days: int = HISTORY_DAYS, recent_bias: float = 1.0) -> date:
        """A day in the last `max_days`; recent_bias > 1 crowds days towards today."""
        return self.today - timedelta(days=1 + int((max_days - 1) * self.rng.random() ** recent_bias))

    def base(self) -> Row:
        return {"owner_id": self.rng.choice(self.user_ids)} if self.user_ids else {}

    # --- people ---

    def person(self, chinese_share: float = 0.7) -> _Person:
        rng = self.rng
        gender = "female" if rng.random() < 0.52 else "male"
        if rng.random() < chinese_share:
            family, family_py, _ = rng.choices(_SURNAMES, weights=[s[2] for s in _SURNAMES])[0]
            given, given_py = rng.choice(_GIVEN_FEMALE if gender == "female" else _GIVEN_MALE)
            return _Person(family + given, gender, True, (family_py, given_py))
        first = rng.choice(_FIRST_FEMALE if gender == "female" else _FIRST_MALE)
        last = rng.choice(_LAST)
        return _Person(f"{first} {last}", gender, False, (last.lower(), first.lower()))

    def city(self, person: _Person) -> str:
        return _weighted(self.rng, _CITY_WEIGHTS_CN if person.chinese else _CITY_WEIGHTS_EN)

    def claim(self, key: str) -> bool:
        if key in self.taken:
            return False
        self.taken.add(key)
        return True

    def phone(self, city: str, landline: bool = False) -> str | None:
        """A valid phone number not used anywhere else in the demo (None if none is found)."""
        for _ in range(50):
            text = self._phone_candidate(city, landline)
            number = phonenumbers.parse(text, "CN")
            if not phonenumbers.is_valid_number(number):
                continue
            if self.claim("phone:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)):
                return text
            if self.rng.random() < 0.3:  # a small fictional range is crowded: fall back to a mobile
                city = "other"
        return None

    def _phone_candidate(self, city: str, landline: bool) -> str:
        rng = self.rng
        digits = f"{rng.randrange(10**8):08d}"
        if city in _CN_CITIES and landline:
            return f"0{_CN_CITIES[city][1]}-{rng.randint(2, 8)}{digits[1:]}"
        if city == "hong_kong":
            return f"+852 {rng.choice('23' if landline else '569')}{digits[1:4]} {digits[4:]}"
        if city == "singapore":
            return f"+65 {rng.choice('6' if landline else '89')}{digits[1:4]} {digits[4:]}"
        if city == "tokyo":
            return f"+81 3 {digits[:4]} {digits[4:]}" if landline else f"+81 {rng.choice(('90', '80'))} {digits[:4]} {digits[4:]}"
        if city == "london":  # Ofcom's range reserved for drama
            return f"+44 20 7946 0{digits[:3]}"
        if city in _US_AREA:  # 555-0100..0199 is reserved for fiction
            return f"+1 {rng.choice(_US_AREA[city])} 555 01{digits[:2]}"
        return rng.choice(_MOBILE_PREFIXES) + digits

    def person_phone(self, person: _Person, city: str) -> str | None:
        abroad = city in _GLOBAL_CITIES and (not person.chinese or self.chance(0.3)) and self.chance(0.85)
        return self.phone(city if abroad else "other")

    def email(self, person: _Person, domain: str | None = None) -> str:
        """A unique, plausible address: personal, or at `domain` (a work address)."""
        rng = self.rng
        family, given = person.handle_parts
        if domain is None:
            domain = _weighted(rng, dict(_CN_MAIL if person.chinese else _EN_MAIL))
        if domain == "qq.com" and rng.random() < 0.6:
            local = str(rng.randint(10_000_000, 3_999_999_999))
        else:
            local = rng.choice((f"{given}.{family}", f"{family}{given}", f"{given[0]}{family}",
                                f"{family}.{given}{rng.randint(1, 99)}", f"{given}{family}{rng.randint(70, 2005)}"))
        candidate = f"{local}@{domain}"
        while not self.claim("email:" + candidate.lower()):
            candidate = f"{local}{rng.randint(1, 9999)}@{domain}"
        return candidate

    def wechat_id(self, person: _Person) -> str:
        family, given = person.handle_parts
        handle = self.rng.choice((f"{family}{given}", f"{given}_{family}", f"{given}-{family}", f"wx{given}"))
        if self.rng.random() < 0.7 or len(handle) < 6:
            handle += str(self.rng.randint(10, 9999))
        return handle[:20].ljust(6, "0")  # WeChat ids are 6-20 characters

    # --- companies ---

    def company(self, chinese_share: float = 0.75) -> tuple[str, str, str, str]:
        """(name, city, industry, web domain) of a company, Chinese `chinese_share` of the time."""
        rng = self.rng
        if rng.random() < chinese_share:
            city = _weighted(rng, {k: v for k, v in _CITY_WEIGHTS_CN.items() if k in _CN_CITIES})
            brand, brand_py = rng.choice(_BRANDS_CN)
            word, word_py, industry = rng.choice(_INDUSTRY_WORDS_CN)
            suffix = "股份有限公司" if rng.random() < 0.15 else "有限公司"
            domain = f"{brand_py}{word_py}" + rng.choice((".com", ".com.cn", ".cn"))
            return f"{_CN_CITIES[city][0]}{brand}{word}{suffix}", city, industry, domain
        city = _weighted(rng, {"shanghai": 3, "beijing": 1, "shenzhen": 1, "hong_kong": 3, "singapore": 3,
                               "tokyo": 2, "london": 3, "new_york": 3, "san_francisco": 3})
        brand = rng.choice(_BRANDS_EN)
        word, industry = rng.choice(_INDUSTRY_WORDS_EN)
        if city in _CN_CITIES:
            name = f"{brand} {word} ({city.replace('_', ' ').title()}) Co., Ltd."
        else:
            name = f"{brand} {word} {_EN_SUFFIX[city]}"
        return name, city, industry, f"{brand}-{word}.com".lower()

    def address(self, city: str) -> str:
        rng = self.rng
        if city in _CN_CITIES:
            zh, _, districts = _CN_CITIES[city]
            return (f"{zh}市{rng.choice(districts)}{rng.choice(_ROADS)}{rng.randint(1, 2000)}号"
                    f"{rng.randint(1, 30)}楼{rng.randint(1, 20):02d}室")
        label, streets = _GLOBAL_CITIES[city]
        return f"{rng.randint(1, 999)} {rng.choice(streets)}, {label}"

    # --- objects ---

    def channel(self, i: int) -> Row:
        spec = _CHANNELS[i % len(_CHANNELS)]
        lap = i // len(_CHANNELS)
        row = {**self.base(), "name": spec.name + (f" {lap + 1}" if lap else ""),
               "code": spec.code + (f"_{lap + 1}" if lap else ""), "kind": spec.kind, "active": spec.active,
               "cost": _money(spec.cost * self.rng.uniform(0.8, 1.2), 100_00),
               "started_on": (self.today - timedelta(days=spec.age_days)).isoformat(),
               "description": spec.description}
        if spec.landing_url:
            row["landing_url"] = spec.landing_url
        return row

    def account(self, names: set[str]) -> Row:
        rng = self.rng
        for _ in range(20):
            name, city, industry, domain = self.company()
            if name not in names:
                break
        else:
            name = f"{name} {len(names) + 1}"
        names.add(name)
        size, _, low, high = rng.choices(_SIZES, weights=[s[1] for s in _SIZES])[0]
        tier = "standard"
        if size in ("large", "enterprise"):
            tier = rng.choices(("strategic", "key", "standard"), weights=(3, 4, 3))[0]
        elif rng.random() < 0.2:
            tier = "key"
        row: Row = {**self.base(), "name": name, "industry": industry, "size": size, "tier": tier, "city": city,
                    "annual_revenue": _money(rng.uniform(low, high), 10_000_00),
                    "founded_year": rng.randint(1985 if size == "enterprise" else 1998, self.today.year - 1)}
        if city in _CN_CITIES and rng.random() < 0.9:
            code = _credit_code(rng, city)
            while not self.claim("credit:" + code):
                code = _credit_code(rng, city)
            row["credit_code"] = code
        if rng.random() < 0.85:
            row["website"] = f"https://www.{domain}/"
        if rng.random() < 0.9 and (phone := self.phone(city, landline=True)):
            row["phone"] = phone
        if rng.random() < 0.8:
            row["address"] = self.address(city)
        return row

    def customer(self) -> Row:
        rng = self.rng
        person = self.person()
        city = self.city(person)
        since = self.past_day()
        row: Row = {**self.base(), "name": person.name,
                    "gender": "undisclosed" if rng.random() < 0.05 else person.gender, "city": city,
                    "language": ("zh" if rng.random() < 0.95 else "en") if person.chinese
                    else ("en" if rng.random() < 0.85 else "zh"),
                    "customer_since": since.isoformat(), "member": rng.random() < 0.45,
                    "consent_marketing": rng.random() < 0.6}
        if rng.random() < 0.97 and (phone := self.person_phone(person, city)):
            row["phone"] = phone
        if rng.random() < 0.7:
            row["email"] = self.email(person)
        if person.chinese and rng.random() < 0.6:
            row["wechat_id"] = self.wechat_id(person)
        if rng.random() < 0.75:
            age = min(70, max(18, round(rng.gauss(34, 10))))
            row["birthday"] = (date(self.today.year - age, 1, 1) + timedelta(days=rng.randrange(365))).isoformat()
        if rng.random() < 0.35 and (account := self.pick("account")):
            row["account"] = account
        if rng.random() < 0.9 and (channel := self.pick_channel()):
            row["channel"] = channel[0]
        row["interests"] = sorted(rng.sample(_INTERESTS, rng.choice((0, 1, 1, 2, 2, 3, 4))))
        orders = 0 if rng.random() < 0.15 else min(60, int(rng.expovariate(1 / 5)) + 1)
        row["order_count"] = orders
        row["lifetime_value"] = _money(sum(rng.uniform(80, 2500) for _ in range(orders)))
        if orders:
            span = (self.today - since).days
            last_day = self.today - timedelta(days=rng.randint(1, max(1, span)))
            row["last_order_at"] = _iso_datetime(rng, _work_time(rng, last_day) + timedelta(hours=rng.randint(0, 4)))
        if rng.random() < 0.15:
            row["notes"] = rng.choice(_CUSTOMER_NOTES)
        if rng.random() < 0.3:
            row["extra"] = dict(rng.choice(_EXTRA_SAMPLES))
        return row

    def lead(self) -> Row:
        rng = self.rng
        person = self.person()
        city = self.city(person)
        status = rng.choices(("new", "contacted", "qualified", "unqualified", "converted"),
                             weights=(30, 25, 15, 15, 15))[0]
        low, high = {"new": (5, 60), "contacted": (20, 70), "qualified": (60, 100), "unqualified": (0, 40),
                     "converted": (70, 100)}[status]
        captured = self.past_day(recent_bias=1.4)
        row: Row = {**self.base(), "name": person.name, "city": city, "status": status,
                    "score": rng.randint(low, high),
                    "captured_at": _iso_datetime(rng, _work_time(rng, captured) + timedelta(hours=rng.randint(-8, 4))),
                    "consent_marketing": rng.random() < 0.65}
        domain = None
        if rng.random() < 0.7:
            company, _, _, company_domain = self.company(0.9 if person.chinese else 0.25)
            row["company"] = company
            row["job_title"] = rng.choice(_JOB_TITLES_CN if person.chinese else _JOB_TITLES_EN)
            domain = company_domain if rng.random() < 0.5 else None
        if rng.random() < 0.9 and (phone := self.person_phone(person, city)):
            row["phone"] = phone
        if rng.random() < 0.6:
            row["email"] = self.email(person, domain)
        if person.chinese and rng.random() < 0.45:
            row["wechat_id"] = self.wechat_id(person)
        if rng.random() < 0.95 and (channel := self.pick_channel()):
            row["channel"], spec = channel
            row["source_detail"] = rng.choice(spec.details)
        if rng.random() < 0.4:
            row["budget"] = _money(rng.lognormvariate(11.5, 1.1), 1_000_00)
        row["interests"] = sorted(rng.sample(_INTERESTS, rng.choice((0, 1, 1, 2, 3))))
        if status in ("new", "contacted", "qualified"):
            row["next_follow_up"] = (self.today + timedelta(days=rng.randint(-7, 30))).isoformat()
        if status == "converted" and (customer := self.pick("customer")):
            row["converted_customer"] = customer
        if rng.random() < 0.2:
            row["notes"] = rng.choice(_LEAD_NOTES)
        return row

    def opportunity(self) -> Row:
        rng = self.rng
        stage, _, probability = rng.choices(_STAGES, weights=[s[1] for s in _STAGES])[0]
        currency = rng.choices(("CNY", "USD", "EUR"), weights=(85, 10, 5))[0]
        if rng.random() < 0.7:
            template = rng.choice(("{p}采购项目", "{p}年度订阅", "{y}年{p}续约", "{r}{p}扩容（{s} 席位）",
                                   "{p}私有化部署", "{p}试点项目"))
            product = rng.choice(_DEAL_PRODUCTS_CN)
        else:
            template = rng.choice(("{p} annual subscription", "{p} renewal {y}", "{p} expansion ({s} seats)",
                                   "{p} pilot", "{p} on-premise deployment"))
            product = rng.choice(_DEAL_PRODUCTS_EN)
        name = template.format(p=product, y=self.today.year + rng.choice((-1, 0, 0, 1)),
                               r=rng.choice(_DEAL_REGIONS), s=rng.choice((20, 50, 100, 200, 500)))
        amount = rng.lognormvariate(12.3, 1.0) / (7 if currency != "CNY" else 1)
        if stage in ("won", "lost"):
            close = self.past_day(max_days=HISTORY_DAYS - 30)
        else:
            close = self.today + timedelta(days=rng.randint(-14, 180))
        row: Row = {**self.base(), "name": name, "stage": stage, "probability": probability,
                    "amount": _money(amount, 100_00), "currency": currency, "expected_close": close.isoformat()}
        if rng.random() < 0.85 and (account := self.pick("account")):
            row["account"] = account
        if rng.random() < 0.6 and (customer := self.pick("customer")):
            row["customer"] = customer
        if rng.random() < 0.4 and (lead := self.pick("lead")):
            row["lead"] = lead
        if stage == "lost":
            row["lost_reason"] = rng.choice(_LOST_REASONS)
        if rng.random() < 0.3:
            row["description"] = rng.choice(_LEAD_NOTES)
        return row

    def activity(self) -> Row:
        rng = self.rng
        kind = rng.choices(tuple(_ACTIVITY_SUBJECTS), weights=(30, 10, 15, 15, 15, 15))[0]
        zh, en = _ACTIVITY_SUBJECTS[kind]
        subject = rng.choice(zh if rng.random() < 0.7 else en)
        day = self.today + timedelta(days=rng.randint(-365, 30))
        due = _work_time(rng, day, step_minutes=1 if kind == "call" else 15)
        past = day < self.today
        row: Row = {**self.base(), "subject": subject, "type": kind,
                    "priority": rng.choices(("low", "normal", "high"), weights=(20, 60, 20))[0],
                    "due_at": _iso_datetime(rng, due), "done": past and rng.random() < 0.85}
        if kind in _DURATIONS:
            row["duration_minutes"] = rng.randint(*_DURATIONS[kind])
        about = rng.choices(("lead", "customer", "opportunity", "account"), weights=(40, 25, 25, 10))[0]
        if (target := self.pick(about)) is not None:
            row[about] = target
        if about == "opportunity" and rng.random() < 0.7 and (account := self.pick("account")):
            row["account"] = account
        if kind == "note" or (row["done"] and rng.random() < 0.5):
            row["notes"] = rng.choice(_ACTIVITY_NOTES)
        return row


def generate_rows(object_name: str, count: int, ids: Mapping[str, Sequence[int]], user_ids: Sequence[int],
                  rng: random.Random, *, today: date | None = None, taken: set[str] | None = None) -> list[Row]:
    """`count` demo rows of one standard object, as JSON-ready dicts.

    Relations pick from `ids[target]` (left out when there are none), owner_id from `user_ids`.
    `taken` holds the phones and emails already used (pass one set for a whole demo to keep
    them unique across objects); it is updated in place.
    """
    builder = _Builder(rng, ids, user_ids, today or date.today(), set() if taken is None else taken)
    if object_name == "channel":
        return [builder.channel(i) for i in range(count)]
    if object_name == "account":
        names: set[str] = set()
        return [builder.account(names) for _ in range(count)]
    make: Callable[[], Row] | None = {"customer": builder.customer, "lead": builder.lead,
                                      "opportunity": builder.opportunity,
                                      "activity": builder.activity}.get(object_name)
    if make is None:
        raise ValueError(f"no demo data for object {object_name!r}")
    return [make() for _ in range(count)]


def plan_counts(scale: float = 1.0) -> list[tuple[str, int]]:
    """DEMO_PLAN with every count scaled (at least one row per object)."""
    return [(name, max(1, round(count * scale))) for name, count in DEMO_PLAN]


def load_demo(create_many: CreateMany, user_ids: Sequence[int], seed: int = 7, scale: float = 1.0,
              *, today: date | None = None) -> dict[str, int]:
    """Generate and insert the demo in DEMO_PLAN order, CHUNK_SIZE rows per create_many call.

    Each object gets its own generator derived from `seed`, so one object's rows do not shift
    when another's count changes. Returns the number of rows created per object.
    """
    anchor = today or date.today()
    ids: dict[str, list[int]] = {}
    taken: set[str] = set()
    for name, count in plan_counts(scale):
        rows = generate_rows(name, count, ids, user_ids, random.Random(f"{seed}:{name}"), today=anchor, taken=taken)
        created: list[int] = []
        for start in range(0, len(rows), CHUNK_SIZE):
            chunk = rows[start:start + CHUNK_SIZE]
            new_ids = list(create_many(name, chunk))
            if len(new_ids) != len(chunk):
                raise RuntimeError(f"create_many({name!r}) returned {len(new_ids)} ids for {len(chunk)} rows")
            created.extend(new_ids)
        ids[name] = created
    return {name: len(created) for name, created in ids.items()}
