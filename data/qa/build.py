"""Deterministic generator for the SkylarkDrive (云雀盘) alpaca Q&A dataset (for the
CSV-export tutorial).

What it is
----------
Questions and answers about a *fictional* cloud-storage product, 云雀盘 SkylarkDrive, made by
the fictional company 青岚数科.  Every fact (18GB free, 45 days of version history, the support
phone number, ...) is invented, so a base model cannot know it: a correct answer on the test
split means fine-tuning taught the fact.

There are 40 facts (28 Chinese, 12 English).  Each fact has ONE canonical short answer and six
hand-written question phrasings (formal, colloquial, with typos, with English words mixed in).

Split
-----
* 20 facts put 5 phrasings in train and 1 in test, the other 20 put 4 in train and 2 in test
  (which facts and which phrasings is drawn with the fixed seed), so train has 180 rows and test
  60 rows.  Every test fact is in train, with the identical answer text, but every test question
  is worded differently from all train questions.
* About a quarter of the rows put the question in ``input`` under a fixed instruction such as
  "回答用户关于云雀盘的问题"; the rest put the question in ``instruction`` with an empty ``input``.

Files
-----
train.json, test.json  JSON arrays of {"instruction", "input", "output"}.
train.csv              the same 180 train rows, in the same order, as a messy database/Excel
                       export (HTML tags, entities, doubled spaces, tabs, edge whitespace) plus
                       5 junk rows whose instruction or output is empty after cleaning.
``clean_cell`` below is the cleaning that turns train.csv back into train.json; main() asserts it.

Run:  python3 data/qa/build.py     (standard library only; byte-identical output on every run)
"""

import csv
import html
import io
import json
import os
import random
import re

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
N_FACTS = 40
N_FACTS_ONE_TEST = 20        # these facts: 5 train / 1 test phrasings; the others 4 / 2
P_INPUT_LAYOUT = 0.25        # share of rows that put the question in ``input``
N_JUNK = 5

# --------------------------------------------------------------------------
# Facts: key -> (language, canonical answer, six question phrasings).
# A "\n" inside a question is a two-line customer message.
# --------------------------------------------------------------------------
FACTS = {
    # ---------------- Chinese ----------------
    "free_space": ("zh", "免费版提供18GB存储空间。", [
        "云雀盘免费版有多少空间？",
        "不充会员的话能用多大容量啊",
        "请问免费用户的存储容量是多少？",
        "白嫖党能有几个G",
        "云雀盘free版空间有多打",
        "刚注册，没开会员，默认送多少空间",
    ]),
    "free_file_limit": ("zh", "免费版单个文件最大4GB。", [
        "免费用户单个文件最大能传多大？",
        "没会员的话上传单文件有大小限制吗",
        "免费版单文件上限是多少",
        "我不是会员。\n传一个大文件最多多少G？",
        "请问非会员上传的单个文件大小上限为多少？",
        "免费账号传单个视频最大多少，有限制没",
    ]),
    "vip_file_limit": ("zh", "会员单个文件上限为64GB。", [
        "会园单个文件最大能传多大",
        "开了会员以后单个文件上限是多少？",
        "请问VIP用户上传单个文件的大小限制是多少？",
        "会员传大文件最多支持几个G",
        "充了会员，一个文件最大可以多大呀",
        "我是付费会员，单个上传文件有没有上限",
    ]),
    "version_history": ("zh", "历史版本保留45天。", [
        "文件的历史版本能保存多久？",
        "改错了文件想回退，旧版本留几天",
        "云雀盘的版本记录保留多少天",
        "请问文件历史版本的保存期限是多久？",
        "以前的版本多久会被清掉啊",
        "历史版本能找回多少天以内的",
    ]),
    "recycle_bin": ("zh", "回收站文件保留21天。", [
        "回收站里的文件保留多久？",
        "误删的文件在回收站能放几天",
        "删除的文件多少天后彻底清空",
        "请问回收站的保存期限是多少天？",
        "删掉的东西还能在回收站找多久啊",
        "回收站多久自动清里一次",
    ]),
    "price_month": ("zh", "标准会员每月19元。", [
        "标准会员一个月多少钱？",
        "标准会员月费是多少",
        "开通标准会员按月付要多少",
        "请问标准会员的月付价格是多少？",
        "标准会员包月多少钱啊",
        "标准VIP连续包月啥价格",
    ]),
    "price_year": ("zh", "标准会员年费168元。", [
        "标准会员一年多少钱？",
        "按年买标准会员要多少钱",
        "标准会员年卡价格是多少",
        "请问标准会员包年的费用是多少？",
        "标准会员年付多少",
        "直接开一年标准会员得花多少",
    ]),
    "pro_space": ("zh", "专业版会员享有3TB空间。", [
        "专业版会员有多大空间？",
        "升级到专业版容量是多少",
        "请问专业版的存储空间有多少？",
        "pro会员给几个T",
        "开专业版能用多少空间",
        "专业版容量多大啊，够不够放电影",
    ]),
    "support_phone": ("zh", "客服电话是400-816-3927。", [
        "客服电话是多少？",
        "怎么打电话联系你们客服",
        "请问云雀盘的人工客服热线是多少？",
        "有没有客服热线啊",
        "你们的400电化多少",
        "想打电话投诉，号码是啥",
    ]),
    "support_hours": ("zh", "人工客服每天8:30到22:00在线。", [
        "人工客服几点上班？",
        "客服的服务时间是什么时候",
        "半夜能找到人工客服吗",
        "请问人工客服的在线时间是？",
        "人工客服几点下班啊",
        "周末人工客服是几点到几点",
    ]),
    "share_expiry": ("zh", "分享链接默认10天后失效。", [
        "分享链接默认多久过期？",
        "我发的分享连接几天后会失效",
        "分享出去的链接有效期默认是多长",
        "请问分享链接的默认有效期是多少天？",
        "share link默认能用几天",
        "朋友说我分享的链接打不开了。\n默认有效期是多久啊？",
    ]),
    "share_code": ("zh", "提取码为5位字母或数字。", [
        "分享的提取码是几位？",
        "提取码有多长",
        "请问分享提取码由几位字符组成？",
        "提取码几个字符啊",
        "分享密码是几位数的",
        "提取码的格式是什么样的",
    ]),
    "devices": ("zh", "同一账号最多同时登录6台设备。", [
        "一个帐号最多能登几台设备？",
        "可以同时在多少个设备上登录",
        "请问同一账号同时在线的设备数量上限是多少？",
        "家里有手机、电脑、平板。\n一个账号最多能同时登几台？",
        "账号能多设备登录吗，上限几个",
        "全家共用一个号能登录几台设备",
    ]),
    "encryption": ("zh", "文件使用国密SM4算法加密存储。", [
        "文件是怎么加密的？",
        "云雀盘用的什么加密算法",
        "请问贵司对用户文件采用何种加密方式？",
        "我的文件存上去安全吗，有没有加密",
        "数据加密用的是AES还是别的",
        "文件存储的加密标准是什么",
    ]),
    "vault_password": ("zh", "私密空间需要设置6位数字密码。", [
        "私密空间的密码是几位？",
        "私密空间怎么设密码，要几位数",
        "请问“私密空间”的密码有什么要求？",
        "私密空间密码可以用字母吗",
        "开私密空间要设什么样的密码",
        "私密空间的解锁密码几位数啊",
    ]),
    "data_center": ("zh", "数据存放在乌兰察布和贵安两个机房。", [
        "我的数据存在那里？",
        "云雀盘的机房在哪些地方",
        "请问用户数据存储在哪个数据中心？",
        "服务器放在哪个城市",
        "你们的数据中心在哪儿啊",
        "文件存在国内哪个机房",
    ]),
    "free_speed": ("zh", "免费用户下载速度上限为每秒3MB。", [
        "免费用户下载速度有限制吗？",
        "不开会员下载多快",
        "请问非会员的下载限速是多少？",
        "白嫖下载速度最高多少",
        "免费版下载最快能到多少",
        "免费账号下载会被限速吗，限到多少",
    ]),
    "offline_tasks": ("zh", "会员每天可添加30个离线下载任务。", [
        "离线下载每天能加几个任务？",
        "会员离线下载有次数限制吗",
        "请问会员每日离线下载任务上限是多少？",
        "一天最多能添加多少个离线任务",
        "离线下载一天能用几次",
        "会员每天能建多少个离线下载",
    ]),
    "student": ("zh", "学生认证后会员打6折。", [
        "学生有优会吗？",
        "学生开会员能便宜多少",
        "请问是否有学生专属折扣？",
        "我是大学生，开会员打几折",
        "学生认证了有啥福利",
        "学生党买会员有没有discount",
    ]),
    "refund": ("zh", "开通会员5天内可申请退款。", [
        "会员可以退款吗？",
        "买了会员后悔了能退吗",
        "请问会员费用的退款期限是多久？",
        "昨天开的会员，不想用了。\n多少天内能退？",
        "会员误购了怎么退，有时间限制吗",
        "充错会员了还能退款不",
    ]),
    "deletion": ("zh", "注销申请后有15天冷静期。", [
        "注销账号要多久？",
        "申请注销后多久生效",
        "请问账号注销有冷静期吗？",
        "注销了还能反悔吗，有几天",
        "我想销号，提交后多久才真的删掉",
        "账号注销冷静期是几天",
    ]),
    "company": ("zh", "云雀盘由青岚数科于2019年推出。", [
        "云鹊盘是哪家公司的？",
        "云雀盘哪年上线的",
        "请问云雀盘的运营方是哪家企业？",
        "这个网盘是谁家做的",
        "云雀盘是什么时候推出的",
        "云雀盘背后是什么公司",
    ]),
    "invite": ("zh", "每邀请一位好友奖励2GB空间。", [
        "邀请好友有什么奖励？",
        "拉新能送多少空间",
        "请问邀请好友注册可以获得多少容量？",
        "邀请一个人送几个G",
        "推荐朋友用云雀盘有啥好处",
        "邀请好友奖励多少存储空间",
    ]),
    "family": ("zh", "家庭版最多可添加5名成员。", [
        "家庭版最多能价几个人？",
        "家庭套餐最多几个成员",
        "请问家庭版支持的成员数量上限是多少？",
        "家庭版可以跟几个家人共享",
        "家庭会员能拉多少人进来",
        "开了家庭版，最多加几个账号",
    ]),
    "photo_format": ("zh", "相册备份支持HEIC和RAW格式。", [
        "相册备份支持哪些格式？",
        "苹果手机拍的照片格式能备份吗",
        "请问相册自动备份支持哪些图片格式？",
        "单反拍的原片能备份不",
        "照片备份能备份什么格式",
        "相册backup对图片格式有要求吗",
    ]),
    "preview": ("zh", "免费用户在线预览最高720P。", [
        "免费用户在线看视频清晰度多少？",
        "不是会员，在线预览视频最高多少P",
        "请问非会员视频在线播放的最高分辨率是多少？",
        "免费版看视频能看1080P吗",
        "白嫖在线播放画质最高多少",
        "免费账号视频预览分辨率上限",
    ]),
    "support_email": ("zh", "客服邮箱是help@skylarkpan.cn。", [
        "客服邮箱是多少？",
        "可以发邮件给客服吗，地址是啥",
        "请问云雀盘的客服电子邮箱地址是什么？",
        "有没有客服email",
        "投诉邮件发到哪个邮箱",
        "你们官方客服的邮箱",
    ]),
    "shared_folder": ("zh", "共享文件夹最多邀请50人。", [
        "共享文件夹最多能邀请多少人？",
        "共享文件夹能加几个成员",
        "请问一个共享文件夹的成员上限是多少？",
        "共享文件夹人数有限制吗",
        "一个共享目录最多拉几个人",
        "和同事共享文件夹最多几个人能进",
    ]),
    # ---------------- English ----------------
    "web_upload": ("en", "The web uploader accepts files up to 2 GB.", [
        "What's the max file size when uploading through the web page?",
        "how big a file can i upload in the browser",
        "Is there a size limit for web uploads?",
        "Maximum upload size on the SkylarkDrive website?",
        "browser upload file size limit pls",
        "If I upload from the web version, how large can a single file be?",
    ]),
    "sync_app": ("en", "The desktop sync app is Skylark Backup & Sync.", [
        "What is the desktop sync client called?",
        "which app do i install on my PC to sync files",
        "Name of the SkylarkDrive desktop sync program?",
        "What's the PC sync tool called?",
        "what software syncs my computer folders with SkylarkDrive",
        "Is there a desktop app for syncing? What's its name?",
    ]),
    "api_limit": ("en", "The open API allows 600 requests per minute.", [
        "What is the API rate limit?",
        "how many API calls per minute can I make",
        "Open API request limmit per minute?",
        "Is the SkylarkDrive API throttled? what's the limit",
        "max requests/minute for the open API",
        "How often can my script call the API before getting rate limited?",
    ]),
    "biz_price": ("en", "The Business plan costs 39 yuan per user per month.", [
        "How much is the Business plan?",
        "business edition price per seat?",
        "What does SkylarkDrive Business cost per user?",
        "pricing for the team/business plan",
        "How much do we pay monthly for each Business user?",
        "Business plan monthly fee per person?",
    ]),
    "biz_storage": ("en", "Each Business seat gets 2 TB of storage.", [
        "How much storage does each Business user get?",
        "business plan storage per seat",
        "What's the storage quota for a Business account?",
        "how many TB per user on Business",
        "Storage space included with one Business license?",
        "On the Business plan, how much space does every member have?",
    ]),
    "sso": ("en", "The Business plan supports SSO via SAML 2.0 and DingTalk.", [
        "Does SkylarkDrive support single sign-on?",
        "which SSO protocols are supported",
        "Can we log in with our company SSO?",
        "SSO options for Business?",
        "can employees sign in with our corporate identity provider",
        "What login integrations does the Business plan offer?",
    ]),
    "sla": ("en", "The Business SLA guarantees 99.95% uptime.", [
        "What uptime does the Business SLA guarantee?",
        "business plan SLA?",
        "How reliable is the service, any uptime guarantee?",
        "whats the availability commitment for enterprise customers",
        "SLA percentage for Business accounts",
        "Do you promise a certain uptime for Business customers?",
    ]),
    "overseas": ("en", "Overseas data is stored in the Singapore region.", [
        "Where is data stored for overseas users?",
        "which region hosts international accounts",
        "I'm outside China, where do my files live?",
        "Overseas data center location?",
        "What region is used for non-mainland customers?",
        "where r overseas users' files stored",
    ]),
    "trial": ("en", "The Business plan has a 21-day free trial.", [
        "Is there a free trial for Business?",
        "how long is the buisness trial",
        "Can we try the Business plan before paying?",
        "Business plan trial period length?",
        "Hi,\nhow many days can a team test Business for free?",
        "free trial for the enterprise plan, how long",
    ]),
    "audit_log": ("en", "Admin audit logs are kept for 180 days.", [
        "How long are audit logs kept?",
        "admin audit log retention period?",
        "For how many days can admins see operation logs?",
        "how far back do the audit logs go",
        "Audit log retention for Business admins?",
        "How long does SkylarkDrive keep the admin activity log?",
    ]),
    "lan_speed": ("en", "LAN transfer tops out at 80 MB/s.", [
        "How fast is LAN transfer?",
        "what's the max speed for local network transfer",
        "LAN transfer speed limit?",
        "If both devices are on the same wifi, how fast can files move?",
        "top speed of the LAN transfer feature",
        "How quick is SkylarkDrive's local network transfer?",
    ]),
    "sub_admins": ("en", "A Business team can have up to 10 sub-admins.", [
        "How many sub-admins can a Business team have?",
        "max number of sub admins",
        "Can I add more admins to our Business team? how many",
        "limit on secondary administrators for a team",
        "How many people can help manage the Business account as sub-admin?",
        "sub-admin limt on Business plan?",
    ]),
}

# Instructions for rows that carry the question in ``input``.
CONTEXT_INSTRUCTIONS = {
    "zh": [
        "回答用户关于云雀盘的问题",
        "你是云雀盘客服，请用一句话回答用户的问题。",
        "根据云雀盘的产品资料回答下面的问题。",
        "请回答这位用户对云雀盘的咨询",
    ],
    "en": [
        "Answer the user's question about SkylarkDrive.",
        "You are SkylarkDrive customer support. Answer in one sentence.",
    ],
}

# Junk rows of the CSV export: (instruction, input, output) as exported.  Cleaning leaves the
# instruction or the output empty, so a loader must drop all five.
JUNK_ROWS = [
    ("<p>&nbsp;</p>", "", "免费版提供18GB存储空间。"),
    ("云雀盘支持哪些支付方式？", "", ""),
    ("  \t ", "", "<br>"),
    ("会员能开发票吗", "", "<p><br></p>"),
    ("<b></b>", "回答用户关于云雀盘的问题", "Please contact support."),
]

CJK_RE = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------
# Cleaning (what a loader must do to a CSV cell to get train.json back)
# --------------------------------------------------------------------------
def clean_cell(text):
    """Clean one exported CSV cell.

    1. unescape HTML entities (``&nbsp;`` -> U+00A0, ``&amp;`` -> ``&``, ``&#39;`` -> ``'``);
    2. ``<br>``, ``<br/>``, ``<br />`` and ``</p>`` become a newline, then every other tag is
       removed;
    3. every run of whitespace other than a newline (spaces, tabs, U+00A0, ``\\r``) becomes one
       space;
    4. leading and trailing whitespace is stripped.
    """
    text = html.unescape(text)
    text = re.sub(r"<br\s*/?>|</p\s*>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"[^\S\n]+", " ", text)
    return text.strip()


def normalise(text):
    """Lowercase and drop punctuation and whitespace (used to compare questions)."""
    return re.sub(r"[\W_]+", "", text.lower())


# --------------------------------------------------------------------------
# Making a clean cell messy (the inverse of clean_cell, randomised)
# --------------------------------------------------------------------------
TAG_SPLIT_RE = re.compile(r"(<[^>]+>)")
BOLD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:@%/\-]*")
SPACE_MESS = ["  ", "\t", " &nbsp;", "&nbsp;", "   ", " \t", "&nbsp; "]
EDGE_MESS = [" ", "  ", "\t", "&nbsp;", "\n", " \r\n", "\u3000"]
BOLD_TAGS = [("<b>", "</b>"), ("<strong>", "</strong>"), ('<span style="color:#e53935">', "</span>"),
             ("<B>", "</B>")]


def _outside_tags(text, fn):
    """Apply ``fn`` to the text between tags only."""
    parts = TAG_SPLIT_RE.split(text)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def mess_cell(text, rng, stats):
    if not text:
        if rng.random() < 0.12:
            stats["empty_cell_mess"] += 1
            return rng.choice([" ", "&nbsp;", "\t", "<br>", "  "])
        return text
    t = text
    # inline emphasis around a number / name
    spans = list(BOLD_RE.finditer(t))
    spans = [m for m in spans if any(c.isdigit() for c in m.group())] or spans
    if spans and rng.random() < 0.15:
        m = rng.choice(spans)
        open_, close = rng.choice(BOLD_TAGS)
        t = t[:m.start()] + open_ + m.group() + close + t[m.end():]
        stats["bold"] += 1
    # entities (only between tags)
    if "&" in t and rng.random() < 0.8:
        t = _outside_tags(t, lambda s: s.replace("&", "&amp;"))
        stats["amp"] += 1
    if "'" in t and rng.random() < 0.5:
        t = _outside_tags(t, lambda s: s.replace("'", rng.choice(["&#39;", "&#x27;", "&apos;"])))
        stats["apos"] += 1
    if "？" in t and rng.random() < 0.06:
        t = _outside_tags(t, lambda s: s.replace("？", "&#65311;"))
        stats["numeric_entity"] += 1
    # messy spaces in place of existing single spaces
    if " " in t and rng.random() < 0.35:
        def spaces(s):
            return "".join(rng.choice(SPACE_MESS) if ch == " " and rng.random() < 0.3 else ch for ch in s)
        t2 = _outside_tags(t, spaces)
        if t2 != t:
            stats["spaces"] += 1
        t = t2
    # line breaks inside a cell
    if "\n" in t:                            # few such cells: take the styles in turn
        n_seen = sum(v for k, v in stats.items() if k.startswith("newline_"))
        how = ["br", "p", "raw", "br /"][n_seen % 4]
        stats["newline_" + how.replace(" ", "")] += 1
        if how == "p":
            t = "".join("<p>" + line + "</p>" for line in t.split("\n"))
        elif how != "raw":
            t = t.replace("\n", "<" + how + ">")
    # wrappers
    r = rng.random()
    if r < 0.12 and not t.startswith("<p>"):
        t = "<p>" + t + "</p>"
        stats["p"] += 1
    elif r < 0.15:
        t = "<div>" + t + "</div>"
        stats["div"] += 1
    elif r < 0.22:
        t = t + rng.choice(["<br>", "<br/>", "<BR>"])
        stats["br_end"] += 1
    # edge whitespace
    if rng.random() < 0.1:
        t = rng.choice(EDGE_MESS) + t
        stats["edge"] += 1
    if rng.random() < 0.1:
        t = t + rng.choice(EDGE_MESS)
        stats["edge"] += 1
    return t


# --------------------------------------------------------------------------
def check_facts():
    assert len(FACTS) == N_FACTS, len(FACTS)
    langs = [lang for lang, _, _ in FACTS.values()]
    assert langs.count("zh") == 28 and langs.count("en") == 12, langs
    answers = [a for _, a, _ in FACTS.values()]
    assert len(set(answers)) == len(answers), "two facts share an answer"
    seen = {}
    for key, (lang, answer, questions) in FACTS.items():
        assert len(questions) == 6, key
        if lang == "zh":
            assert len(answer) <= 30 and CJK_RE.search(answer), (key, answer)
            assert all(CJK_RE.search(q) for q in questions), key
        else:
            assert len(answer.split()) <= 20 and not CJK_RE.search(answer), (key, answer)
            assert not any(CJK_RE.search(q) for q in questions), key
        for q in questions:
            n = normalise(q)
            assert n not in seen, f"question repeated: {q!r} ({key}, {seen.get(n)})"
            seen[n] = key
        for text in [answer] + questions:
            assert clean_cell(text) == text, f"not a clean cell: {text!r}"
            assert "<" not in text and ">" not in text, text


def make_row(lang, question, answer, rng):
    if rng.random() < P_INPUT_LAYOUT:
        return {"instruction": rng.choice(CONTEXT_INSTRUCTIONS[lang]), "input": question, "output": answer}
    return {"instruction": question, "input": "", "output": answer}


def question_of(row):
    return row["input"] or row["instruction"]


def main():
    check_facts()
    rng = random.Random(SEED)

    keys = list(FACTS)
    rng.shuffle(keys)
    n_test = {k: (1 if i < N_FACTS_ONE_TEST else 2) for i, k in enumerate(keys)}

    train, test, fact_of = [], [], {}
    for key in FACTS:                       # fixed order, independent of the shuffle above
        lang, answer, questions = FACTS[key]
        qs = list(questions)
        rng.shuffle(qs)
        k = n_test[key]
        for q in qs[k:]:
            train.append(make_row(lang, q, answer, rng))
            fact_of[q] = key
        for q in qs[:k]:
            test.append(make_row(lang, q, answer, rng))
            fact_of[q] = key
    rng.shuffle(train)
    rng.shuffle(test)

    # ---- assertions on the splits --------------------------------------
    assert len(train) == 180 and len(test) == 60, (len(train), len(test))
    train_norm = {normalise(question_of(r)) for r in train}
    test_norm = [normalise(question_of(r)) for r in test]
    assert len(train_norm) == len(train) and len(set(test_norm)) == len(test)
    assert not train_norm & set(test_norm), "a test question is also a train question"
    train_facts = {fact_of[question_of(r)] for r in train}
    test_facts = {fact_of[question_of(r)] for r in test}
    assert train_facts == set(FACTS) and test_facts <= train_facts
    answer_of = {key: a for key, (_, a, _) in FACTS.items()}
    for r in train + test:
        assert r["output"] == answer_of[fact_of[question_of(r)]]
    for split in (train, test):
        n_input = sum(bool(r["input"]) for r in split)
        assert 0 < n_input < len(split) / 2, "both layouts must appear, most rows without input"
    assert sum("\n" in question_of(r) for r in train) >= 3

    # ---- messy CSV export of train -------------------------------------
    stats = {k: 0 for k in ["bold", "amp", "apos", "numeric_entity", "spaces", "p", "div", "br_end",
                            "edge", "empty_cell_mess", "newline_br", "newline_br/",
                            "newline_p", "newline_raw"]}
    csv_rows = [tuple(mess_cell(r[f], rng, stats) for f in ("instruction", "input", "output"))
                for r in train]
    positions = sorted(rng.sample(range(len(csv_rows) + N_JUNK), N_JUNK))
    for pos, junk in zip(positions, JUNK_ROWS):
        csv_rows.insert(pos, junk)

    buf = io.StringIO(newline="")
    writer = csv.writer(buf)                # Excel dialect: minimal quoting, \r\n line ends
    writer.writerow(["instruction", "input", "output"])
    writer.writerows(csv_rows)
    csv_text = buf.getvalue()

    # Read the CSV back the way a loader would and check that cleaning gives train.json back.
    reread = list(csv.DictReader(io.StringIO(csv_text, newline="")))
    assert len(reread) == len(train) + N_JUNK
    cleaned = [{f: clean_cell(row[f]) for f in ("instruction", "input", "output")} for row in reread]
    empty = [c for c in cleaned if not c["instruction"] or not c["output"]]
    kept = [c for c in cleaned if c["instruction"] and c["output"]]
    assert len(empty) == N_JUNK, len(empty)
    assert kept == train, "cleaning train.csv does not reproduce train.json"
    junk_norm = {normalise(c["instruction"]) for c in empty} - {""}
    assert not junk_norm & set(test_norm)
    messy = sum(tuple(row.values()) != tuple(c.values()) for row, c in zip(reread, cleaned))
    assert messy >= 0.4 * len(reread), messy
    assert stats["newline_br"] and stats["newline_p"], "a two-line cell as <br> and as <p>..</p>"
    for needle in ["<p>", "<br>", "<b>", "&nbsp;", "&amp;", "\t", "  "]:
        assert needle in csv_text, f"train.csv lacks {needle!r}"

    # ---- write ----------------------------------------------------------
    for name, rows in (("train.json", train), ("test.json", test)):
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            json.dump(rows, f, ensure_ascii=False, indent=2)
            f.write("\n")
    with open(os.path.join(HERE, "train.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(csv_text)

    # ---- summary --------------------------------------------------------
    for name, rows in (("train", train), ("test", test)):
        zh = sum(bool(CJK_RE.search(r["output"])) for r in rows)
        n_input = sum(bool(r["input"]) for r in rows)
        facts = {fact_of[question_of(r)] for r in rows}
        print(f"{name}: {len(rows)} rows, {len(facts)} facts, zh {zh} / en {len(rows) - zh}, "
              f"question in input: {n_input}")
    print(f"facts: {N_FACTS} (zh {sum(l == 'zh' for l, _, _ in FACTS.values())}, "
          f"en {sum(l == 'en' for l, _, _ in FACTS.values())}); "
          f"{N_FACTS_ONE_TEST} facts 5+1 phrasings, {N_FACTS - N_FACTS_ONE_TEST} facts 4+2")
    print(f"train.csv: {len(reread)} rows = {len(kept)} clean + {len(empty)} junk; "
          f"{messy} rows changed by cleaning; mess counts {stats}")


if __name__ == "__main__":
    main()
