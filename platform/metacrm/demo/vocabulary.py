"""Words, names, places and channels the demo data is drawn from (data only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    ("member", 400),
    ("sales_order", 1200),
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
