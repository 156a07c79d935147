"""Deterministic generator for the meeting voice assistant tool-call dataset (for the
tool-call tutorial).

What it is
----------
Short Chinese voice commands (with some English mixed in) for a meeting assistant, each paired
with the one tool call that carries it out, in the tool-call tutorial's layout::

    {"instruct": "马上开一个周例会", "input": "",
     "output": {"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}}

``output`` is a JSON object, not a string.  About 8% of the rows are NOT tool calls (small talk,
out-of-scope requests such as "今天天气怎么样"); their ``output`` is the plain text NO_CALL_REPLY,
the same string in every such row.

There are 10 tools (TOOLS, written to tools.json as OpenAI function schemas): 4 without
parameters, 4 with one, and 2 with several.  Slot convention: every string parameter is copied
verbatim from the utterance (start_time "明天下午3点" stays "明天下午3点"); integer parameters
(minutes) are said as Arabic digits in the utterance and written as JSON integers.

Split
-----
Train and test use disjoint phrasing templates AND disjoint slot-value pools (meeting names,
person names, rooms, times, minute counts), and disjoint no-call utterances.  main() asserts
that no test utterance is a train utterance, that no test string slot value occurs anywhere in a
train row, and that no test integer value is a train integer value.

Files
-----
tools.json         the 10 tool schemas (a JSON list, OpenAI "tools" layout)
train.json         JSON array of rows in the tool-call tutorial's layout
test.json          JSON array of rows in the tool-call tutorial's layout
test_openai.jsonl  the test rows again, in OpenAI chat layout (system + user + assistant with
                   tool_calls; no-call rows: assistant content = NO_CALL_REPLY), with "tools"

Run:  python3 data/toolcall/build.py   (standard library only; byte-identical output on every run)
"""

import json
import os
import random
import re
from collections import Counter

SEED = 20240613
HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PROMPT = "你是会议语音助手，请把用户的指令转换为工具调用。"
NO_CALL_REPLY = "抱歉，我只能帮您处理会议相关的操作。"
NO_CALL = "NONE"                 # internal key for the no-call rows (never written to a file)
N_TRAIN_PER_TOOL, N_TRAIN_NO_CALL = 42, 38
N_TEST_PER_TOOL, N_TEST_NO_CALL = 11, 10
SHORT = 25                       # "short" utterance: at most 25 characters
MIN_SHORT_SHARE = 0.90           # at least this share of rows is short
MAX_LEN = 32                     # no utterance is longer than this
P_PREFIX, P_SUFFIX = 0.18, 0.12  # chance of a filler before / after the command

# --------------------------------------------------------------------------
# Tools: name -> (description, [(param, type, description)]); every parameter is required.
# --------------------------------------------------------------------------
TOOLS_SPEC = {
    "INSTANT_MEETING": ("立即发起一个会议。", [
        ("meeting_name", "string", "会议名称，照用户原话填写，如“周例会”。"),
    ]),
    "SCHEDULE_MEETING": ("预约一个将来的会议。", [
        ("meeting_name", "string", "会议名称，照用户原话填写，如“需求评审”。"),
        ("start_time", "string", "开始时间，照用户原话填写（日期+时刻），如“明天下午3点”、“周五14:30”。"),
        ("duration_minutes", "integer", "会议时长，单位分钟。"),
    ]),
    "CANCEL_MEETING": ("取消一个已预约的会议。", [
        ("meeting_name", "string", "要取消的会议名称，照用户原话填写。"),
    ]),
    "END_MEETING": ("结束当前正在进行的会议。", []),
    "MUTE_ALL": ("将所有参会人静音。", []),
    "START_RECORDING": ("开始录制当前会议。", []),
    "SHARE_SCREEN": ("共享用户的屏幕。", []),
    "INVITE_PARTICIPANT": ("邀请一个人加入当前会议。", [
        ("name", "string", "被邀请人的姓名或称呼，照用户原话填写，如“张伟”、“王经理”。"),
    ]),
    "SET_REMINDER": ("在某个会议开始前提醒用户。", [
        ("meeting_name", "string", "会议名称，照用户原话填写。"),
        ("minutes_before", "integer", "提前多少分钟提醒。"),
    ]),
    "CHANGE_ROOM": ("把当前会议换到另一个会议室。", [
        ("room", "string", "新的会议室名称，照用户原话填写，如“天山厅”、“3号会议室”。"),
    ]),
}


def tool_schemas():
    tools = []
    for name, (description, params) in TOOLS_SPEC.items():
        properties = {}
        for pname, ptype, pdesc in params:
            prop = {"type": ptype, "description": pdesc}
            if ptype == "integer":
                prop["minimum"] = 1
            properties[pname] = prop
        tools.append({"type": "function", "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties,
                           "required": [p for p, _, _ in params], "additionalProperties": False},
        }})
    return tools


# --------------------------------------------------------------------------
# Phrasing templates, per tool and split.  Slots: {m} meeting name, {t} start time,
# {d} duration in minutes, {n} person, {k} minutes before, {r} room.
# A template starting with "~" is an indirect/exclamatory one: no polite suffix is added.
# Typos on purpose: 会意 取销 结速 净音 录象 共想 邀情 题醒 会议事.
# --------------------------------------------------------------------------
TEMPLATES = {
    "INSTANT_MEETING": {
        "train": [
            "马上开一个{m}", "现在开{m}", "开个{m}", "立刻发起{m}", "帮我开一下{m}",
            "我要现在开{m}", "start一个{m}", "咱们现在就开{m}吧", "请立即召开{m}",
            "~快，{m}现在开始", "发起一个即时会议，叫{m}", "开个会议，名字叫{m}", "~人都齐了，开{m}",
            "马上开个会意，{m}", "现在拉个{m}的会", "new meeting：{m}",
        ],
        "test": [
            "立即开始{m}", "赶紧把{m}开起来", "现在就发起{m}", "~来来来，开{m}",
            "直接开一场{m}", "open一个{m}", "请马上召集{m}",
        ],
    },
    "SCHEDULE_MEETING": {
        "train": [
            "{t}开{m}，{d}分钟", "帮我约{t}的{m}，开{d}分钟", "预约{t}{m}，时长{d}分钟",
            "{t}安排一个{m}，{d}分钟", "schedule一个{m}，{t}，{d}min", "{m}定在{t}，开{d}分钟",
            "订个{t}的{m}，大概{d}分钟", "{t}要开{m}，预计{d}分钟", "帮我排个{m}，{t}开始，{d}分钟",
            "请预定{t}的{m}，时长{d}分钟", "{t}约个{m}吧，{d}分钟就够", "把{m}安排到{t}，{d}分钟",
            "预定一下{t}的{m}，开{d}分钟左右", "{t}有个{m}，帮我订{d}分钟",
            "{t}的{m}帮我约一下，{d}分钟", "预约会议：{m}，{t}，{d}分钟",
        ],
        "test": [
            "{t}组织{m}，开{d}分钟", "安排{m}在{t}，持续{d}分钟", "{m}约到{t}吧，{d}分钟",
            "帮我book{t}的{m}，{d}min", "{t}召开{m}，时长大约{d}分钟", "新建{m}，{t}开始，开{d}分钟",
            "定一个{d}分钟的{m}，{t}",
        ],
    },
    "CANCEL_MEETING": {
        "train": [
            "取消{m}", "把{m}取消掉", "{m}不开了", "帮我取消一下{m}", "{m}取消吧",
            "请取消原定的{m}", "cancel掉{m}", "~{m}先不开了，取消", "把{m}给撤了",
            "{m}那个会取消掉", "取销{m}", "~{m}改天再说，先取消", "不用开{m}了", "麻烦取消{m}",
        ],
        "test": [
            "撤销{m}", "{m}就别开了", "麻烦把{m}删掉", "帮我cancel {m}", "原定的{m}作废",
            "把{m}从日程里去掉", "{m}这次不办了",
        ],
    },
    "END_MEETING": {
        "train": [
            "结束会议", "散会", "~今天就到这吧", "会议结束", "把会结束掉", "end meeting",
            "~好了，大家散了吧", "结束当前会议", "~这个会就开到这", "请结束本次会议", "挂断会议",
            "~可以散会了", "~会开完了，关掉吧", "结速会议", "退出并结束会议", "~over，结束吧",
        ],
        "test": [
            "会议到此结束", "~大家辛苦了，收了吧", "把会议关了", "结束掉这个会", "end the meeting吧",
            "~就开到这儿，收工", "关闭本场会议",
            "会议可以结束了", "~散了散了", "stop这个会议", "请终止当前会议",
        ],
    },
    "MUTE_ALL": {
        "train": [
            "全体静音", "把大家都静音", "mute all", "所有人静音", "全员闭麦", "~大家太吵了",
            "把所有人的麦关了", "一键静音所有人", "请将全体参会人静音", "静音全部", "其他人都先静音",
            "全部禁麦", "~太吵了，全都mute掉", "把参会者麦克风都关掉", "净音所有人", "开启全员静音",
        ],
        "test": [
            "让所有人都闭麦", "全场静音一下", "参会人全部静音", "mute一下所有人", "把全部人的麦克风关闭",
            "~吵死了，都静音", "所有麦都关掉",
            "全员mute", "把大家的麦都静掉", "请对所有参会者静音", "~大家先别说话，都静音",
        ],
    },
    "START_RECORDING": {
        "train": [
            "开始录像", "开始录制", "把会议录下来", "start recording", "录一下这个会", "帮我开启录屏",
            "打开会议录制", "~这段要留个记录，录一下", "开录", "启动录制", "请开始录制本次会议",
            "录象开一下", "记得录下来", "开始record", "会议全程录下来", "开一下录制功能",
        ],
        "test": [
            "录制开起来", "把这次会录一下", "开启录像功能", "帮我record一下会议", "现在开始录",
            "~这个会需要录像", "给会议录个像",
            "开始录音录像", "录制一下当前会议", "请启动会议录像", "~这段挺重要，录下来",
        ],
    },
    "SHARE_SCREEN": {
        "train": [
            "共享屏幕", "我要共享屏幕", "share screen", "把我的屏幕共享出去", "开始屏幕共享",
            "~我想给大家看看PPT", "共享一下桌面", "投屏", "打开屏幕分享", "请开启屏幕共享",
            "share一下屏幕", "共想屏幕", "让大家看我的屏幕", "分享我的桌面", "~我来演示一下，共享屏幕",
            "开个屏幕共享",
        ],
        "test": [
            "屏幕共享一下", "把屏幕分享给大家", "我要投个屏", "给大家展示下我的屏幕", "share my screen",
            "开启桌面共享", "~我放一下文档给大家看",
            "共享下我的屏", "开始投屏", "请把我的屏幕共享给大家", "screen share一下",
        ],
    },
    "INVITE_PARTICIPANT": {
        "train": [
            "邀请{n}", "把{n}拉进来", "邀请{n}参加会议", "叫{n}也进来", "invite {n}", "请{n}加入会议",
            "帮我把{n}加进会议", "~{n}也得听一下，拉进来", "拉{n}入会", "邀情{n}", "把{n}加进来",
            "给{n}发个会议邀请", "~{n}还没进会，邀请一下", "加一下{n}", "请邀请{n}入会", "add {n}进会议",
        ],
        "test": [
            "把{n}请进来", "让{n}也参加", "邀{n}加入", "call一下{n}进会", "~{n}需要参会，邀请下",
            "拉上{n}", "把{n}叫进会议",
        ],
    },
    "SET_REMINDER": {
        "train": [
            "{m}开始前{k}分钟提醒我", "提前{k}分钟提醒我开{m}", "{m}前{k}分钟叫我一下",
            "设个提醒，{m}提前{k}分钟", "remind我{m}，提前{k}分钟", "{m}提前{k}分钟通知我",
            "开{m}前{k}分钟提醒一下", "帮我设置{m}的提醒，提前{k}分钟", "~别让我忘了{m}，提前{k}分钟提醒",
            "{m}记得提前{k}分钟题醒我", "请在{m}开始前{k}分钟提醒我", "{k}分钟前提醒我参加{m}",
            "{m}提醒：提前{k}分钟", "给{m}加个提醒，提前{k}分钟",
        ],
        "test": [
            "{m}快开始时提前{k}分钟喊我", "提醒我{m}，早{k}分钟", "{m}开之前{k}分钟给我个提醒",
            "设置提醒：{m}，{k}分钟前", "{k}分钟前叫我去开{m}", "{m}开始前{k}min提醒下",
            "记得{m}开始前{k}分钟通知我",
        ],
    },
    "CHANGE_ROOM": {
        "train": [
            "换到{r}", "会议室换成{r}", "把会议换到{r}", "改去{r}开", "我们去{r}吧",
            "~这屋太小了，换到{r}", "change room to {r}", "把会议室改成{r}", "换个会议室，{r}",
            "移到{r}开会", "会议地点改为{r}", "切换到{r}", "请将会议调整到{r}", "挪到{r}去",
            "换会议事到{r}", "~{r}空着，换过去",
        ],
        "test": [
            "转到{r}开吧", "咱们换去{r}", "会议改在{r}", "地点换成{r}", "搬到{r}开会",
            "去{r}开，换一下房间", "move到{r}",
        ],
    },
}

# More train phrasings, written after the first train/test split: 16 train templates per
# tool taught the small model the phrasings rather than the task (test exact match stalled near
# 0.78 whatever the epochs). They fill extra train rows drawn after the test rows
# (extra_train_rows), so test.json stayed byte-identical; check_static keeps them disjoint from
# every test template and from each other.
EXTRA_TRAIN_TEMPLATES = {
    "INSTANT_MEETING": [
        "{m}这就开", "~{m}的人都到了，开始吧", "帮忙开个{m}", "我想马上开{m}", "launch一个{m}",
        "快速发起{m}", "一键开启{m}", "现在启动{m}", "请帮我立刻开{m}", "即刻开{m}", "开会，{m}",
        "拉个会：{m}", "马上组个{m}", "发起{m}会议", "现在进行{m}", "~大家都上线了，开{m}",
        "给我开个{m}的会", "start {m}", "{m}，现在就开",
    ],
    "SCHEDULE_MEETING": [
        "{t}的{m}，{d}分钟，帮我预约", "给我订{t}的{m}，{d}分钟", "安排一下：{m}，{t}，{d}分钟",
        "{m}放在{t}，{d}分钟", "{t}开个{d}分钟的{m}", "帮我在{t}建个{m}，{d}分钟",
        "{t}需要开{m}，{d}分钟", "预约：{t}，{m}，{d}min", "set up一个{m}，{t}，{d}分钟",
        "麻烦{t}安排{m}，开{d}分钟", "{m}，{t}，{d}分钟，帮我约上", "日程加一个{m}，{t}，{d}分钟",
        "我想{t}开{m}，{d}分钟", "{t}预留{d}分钟开{m}", "在{t}给我排{m}，开{d}分钟",
        "{t}搞个{m}，{d}分钟", "发个会议邀约，{m}，{t}，{d}分钟", "{m}约在{t}，时长{d}min",
    ],
    "CANCEL_MEETING": [
        "{m}取消了吧", "{m}用不着开了", "删除{m}", "{m}那个会不开了", "我要取消{m}", "{m}临时取消",
        "{m}暂停，先不开", "{m}cancel掉吧", "请帮我撤掉{m}", "{m}取消掉", "~{m}没必要开了，取消",
        "把{m}停掉", "{m}先取消吧", "~{m}的人来不了，取消吧", "取消今天的{m}", "{m}不开，取消",
        "把{m}的预约取消", "{m}黄了，取消吧",
    ],
    "END_MEETING": [
        "结束吧", "关掉会议", "结束本场会议", "~就到这里吧，散会", "finish meeting",
        "~今天先这样，结束", "退出会议并结束", "把会议结束了", "~大家都讲完了，结束会议",
        "close meeting", "停止会议", "~差不多了，散会吧", "结束这场会", "会散了吧", "终止会议",
    ],
    "MUTE_ALL": [
        "都静音", "把所有人静音", "全体闭麦", "mute everyone", "~外面好吵，全员静音",
        "所有人都mute", "全场禁言", "关掉所有人的麦克风", "静音所有参会者", "~有杂音，把大家都静音",
        "麦克风全部关闭", "一起静音", "所有人麦克风静音", "把大家麦克风都关上", "全部人静音",
    ],
    "START_RECORDING": [
        "录制会议", "开始录会", "record this meeting", "开启录制", "录像开始", "帮我录制会议",
        "开始会议录像", "~这个要存档，开始录制", "start record", "打开录像", "会议录制开一下",
        "录屏开始", "启动录像", "~留个底，录下来", "把录制打开",
    ],
    "SHARE_SCREEN": [
        "共享我的屏幕", "打开共享", "我来共享屏幕", "share屏幕", "开启屏幕共享功能",
        "~我给大家演示一下", "把桌面共享出去", "开屏幕分享", "~看一下我这边的画面", "共享画面",
        "我要分享屏幕", "start screen sharing", "屏幕给大家共享下", "把屏幕投出去", "共享桌面",
    ],
    "INVITE_PARTICIPANT": [
        "把{n}邀请进来", "{n}也叫上", "拉一下{n}", "叫上{n}一起开会", "邀请{n}进会", "{n}拉进会议",
        "把{n}也加上", "请{n}进来开会", "给{n}发邀请", "invite一下{n}", "~这事得问{n}，拉进来",
        "帮我邀请{n}入会", "让{n}进会", "把{n}加到会议里", "{n}加入会议", "邀请{n}一起",
        "{n}请进会议", "把{n}拉到会里",
    ],
    "SET_REMINDER": [
        "{m}开始前{k}分钟叫我", "提前{k}分钟提醒我{m}", "{m}前{k}分钟通知我", "{m}开会前{k}分钟提醒",
        "提醒我提前{k}分钟去{m}", "{m}的提醒设在提前{k}分钟", "~怕忘了{m}，提前{k}分钟叫我",
        "{m}，提前{k}分钟提醒", "帮我在{m}前{k}分钟提醒一下", "reminder：{m}，提前{k}分钟",
        "开{m}之前提前{k}分钟通知", "{m}请提前{k}分钟提醒我", "提前{k}分钟叫我去{m}",
        "{m}要提前{k}分钟提醒", "设提醒：{m}前{k}分钟", "到{m}前{k}分钟提醒我",
    ],
    "CHANGE_ROOM": [
        "换{r}", "改到{r}", "会议挪到{r}", "调到{r}开会", "去{r}", "~{r}更大，换过去吧",
        "换到{r}开会", "会议室调整为{r}", "改用{r}", "场地换到{r}", "change to {r}",
        "把地方换到{r}", "会议转移到{r}", "~这边有人用，换到{r}", "换房间，去{r}",
        "把会议室换成{r}吧",
    ],
}
EXTRA_NO_CALL_TRAIN = [
    "帮我订个酒店", "明天几点日出", "给我讲个故事", "怎么做番茄炒蛋", "你喜欢什么颜色",
    "帮我查一下天气预报", "play some music", "what time is it", "帮我设置一个闹钟",
    "今晚吃火锅怎么样", "地球有多大", "帮我查下银行卡余额", "哪家餐厅好吃", "帮我发个朋友圈",
    "你会做饭吗", "打开导航去公司", "今天限行尾号是多少", "我想听相声", "给我来杯咖啡", "你好呀",
    "谢谢你", "good morning", "帮我查一下火车票", "这个周末有什么活动", "世界上最高的山是哪座",
    "帮我写个请假条", "今天几号", "who are you",
]
N_EXTRA_TRAIN_PER_TOOL = 40
EXTRA_SEED = SEED + 2

# Fillers, shared by both splits (the command itself is what train and test keep apart).
PREFIXES = ["嗯，", "那个，", "小助手，", "呃，", "Hi，", "好，", "ok，"]
SUFFIXES = ["，谢谢", "，快点", "，谢啦", "！", "。"]

# --------------------------------------------------------------------------
# No-call utterances (small talk and out-of-scope requests), disjoint per split.
# --------------------------------------------------------------------------
NO_CALL_UTTERANCES = {
    "train": [
        "今天天气怎么样", "讲个笑话吧", "你叫什么名字", "帮我订一份外卖", "现在几点了", "明天会下雨吗",
        "帮我打个车去机场", "推荐一部电影", "1加1等于几", "给我放首歌", "今天股市怎么样",
        "帮我翻译一下hello", "你是机器人吗", "中午吃什么好", "北京到上海多远", "帮我查下快递到哪了",
        "把灯关了", "空调开低一点", "帮我写首诗", "你会说英语吗", "what's the weather like",
        "tell me a joke", "我好累啊", "今天星期几", "帮我订张去深圳的机票", "周末去哪玩比较好",
        "附近有咖啡店吗", "查一下美元汇率", "你觉得我帅吗", "唱首歌听听", "最近有什么新闻",
        "帮我算一下12乘8", "给我妈打个电话", "帮我点杯奶茶", "你几岁了", "搜一下Python教程",
        "讲讲三国的故事", "我的工资什么时候发",
    ],
    "test": [
        "上海今天多少度", "来个冷笑话", "你是谁开发的", "帮我叫个外卖", "这周末会下雪吗",
        "推荐本好书", "帮我查下航班", "今天油价多少", "how are you", "红烧肉怎么做",
    ],
}
# Words that would make a no-call utterance look like a tool call.
TOOL_WORDS = ["会议", "开会", "散会", "静音", "闭麦", "录像", "录制", "屏幕", "投屏", "邀请",
              "提醒", "会议室", "mute", "record", "screen", "meeting", "invite", "remind"]

# --------------------------------------------------------------------------
# Slot-value pools, disjoint per split.
# --------------------------------------------------------------------------
MEETING_NAMES = {
    "train": [
        "周例会", "项目复盘", "需求评审", "产品周会", "技术分享会", "预算讨论", "晨会", "站会",
        "季度总结", "客户沟通会", "版本发布会", "设计评审", "招聘面试", "团建筹备", "月度汇报",
        "销售周会", "安全培训", "代码评审", "运营例会", "新人培训", "年终总结", "市场分析会",
        "部门例会", "进度同步", "架构讨论", "财务对账", "用户访谈", "OKR对齐", "Q3规划", "1on1",
        "迭代评审", "Demo演示", "KPI复盘", "茶话会", "产品路演", "法务审核",
    ],
    "test": [
        "竞品分析", "上线评审", "供应商洽谈", "品牌策划会", "合同评审", "数据周报会", "客诉复盘",
        "流程优化", "培训答疑", "跨部门协调", "Q4冲刺", "OKR复盘", "年会彩排", "样品评估",
    ],
}
PERSON_NAMES = {
    "train": [
        "张伟", "李娜", "王磊", "刘洋", "陈静", "杨帆", "赵敏", "黄强", "周杰", "吴昊", "徐丽",
        "孙浩", "马超", "朱琳", "胡军", "郭婷", "何勇", "高峰", "林晓", "罗敏", "王经理", "李总",
        "张老师", "陈主管", "Tom", "Lisa", "Kevin", "Amy", "小刘", "老王",
    ],
    "test": [
        "宋佳", "郑凯", "谢雨", "韩梅", "钱总", "蒋经理", "Jason", "Emma",
        "小周", "老陈", "潘老师",
    ],
}
ROOMS = {
    "train": [
        "天山厅", "泰山厅", "黄山厅", "长江厅", "珠江厅", "3号会议室", "5号会议室", "12号会议室",
        "A301", "B202", "C501", "大会议室", "8楼会议室", "2楼培训室", "路演厅", "多功能厅",
    ],
    "test": [
        "华山厅", "黄河厅", "7号会议室", "9号会议室", "D105", "A408", "6楼洽谈室", "贵宾室",
    ],
}
# More train values for the name-like slots. The rows are first filled from the pools above
# (which fixes the random sequence the test rows are drawn from), then the train rows' names,
# people and rooms are re-drawn from these wider pools with a second seed (widen_train_values),
# so test.json stayed byte-identical when they were added. With only 36 meeting names a small
# model learns the names themselves; with 120 it has to learn where a name starts and ends.
WIDE_TRAIN_EXTRA = {
    "meeting_name": [
        "战略研讨", "渠道对接", "投标准备", "验收会", "立项会", "结项评审", "风险排查", "质量分析会",
        "服务复盘", "库存盘点", "预算复核", "活动策划", "直播筹备", "用户调研", "测试评审", "故障复盘",
        "性能优化", "接口联调", "需求澄清", "排期会", "方案讨论", "年度规划", "半年总结", "部门团建",
        "读书会", "午餐分享", "岗前培训", "绩效面谈", "薪酬讨论", "离职交接", "入职引导", "客户拜访",
        "展会筹备", "采购评审", "招标答疑", "物流协调", "仓储例会", "品控会", "安全巡检", "应急演练",
        "消防培训", "IT支持会", "数据治理", "模型评审", "算法分享", "论文研读", "专利讨论", "法规解读",
        "税务筹划", "审计沟通", "投资人会", "董事会", "股东会", "路演彩排", "发布会彩排", "Q1规划",
        "Q2复盘", "H1总结", "OKR共创", "KPI对齐", "SOP评审", "UI评审", "UX走查", "API评审",
        "PRD评审", "BP讨论", "CRM培训", "ERP上线会", "APP改版", "小程序评审", "官网改版", "海报评审",
        "文案评审", "视频脚本会", "品牌升级", "会员运营", "社群运营会", "增长复盘", "转化分析", "留存分析",
        "定价讨论", "合作洽谈", "商务谈判", "门店巡检",
    ],
    "name": [
        "王芳", "李强", "刘敏", "陈磊", "杨静", "赵军", "周涛", "徐明", "刘总", "赵经理", "Mike", "Sarah",
    ],
    "room": [
        "庐山厅", "峨眉厅", "淮河厅", "洞庭厅", "西湖厅", "松花江厅", "1号会议室", "2号会议室",
        "4号会议室", "10号会议室", "A201", "A512", "B108", "B315", "C203", "E601",
        "3楼会议室", "5楼洽谈室", "10楼培训室", "VIP室", "视频会议室", "小会议室", "接待室", "报告厅",
        "阶梯教室", "创客空间",
    ],
}
WIDEN_SEED = SEED + 1
DURATIONS = {"train": [15, 30, 45, 60, 90, 120], "test": [40, 50, 75, 80, 100]}
REMINDER_MINUTES = {"train": [5, 10, 15, 20, 30], "test": [2, 3, 8, 12, 25]}

# Start times: a day word + a clock time, kept verbatim.  (day, hour) pairs are split between
# train and test, so no test time is a train time or a prefix of one ("明天下午3点" / "明天下午3点半").
DAYS = ["今天", "明天", "后天", "周一", "周三", "周五", "下周二", "下周四"]
HOURS = [9, 10, 11, 14, 15, 16, 17, 19]
N_TEST_TIME_KEYS = 16


def clock_forms(hour):
    if hour < 12:
        word, h = "上午", hour
    elif hour < 18:
        word, h = "下午", hour - 12
    else:
        word, h = "晚上", hour - 12
    return [f"{word}{h}点", f"{word}{h}点半", f"{hour}:00", f"{hour}:30"]


def time_pools(rng):
    keys = [(d, h) for d in DAYS for h in HOURS]
    test_keys = set(rng.sample(keys, N_TEST_TIME_KEYS))
    pools = {"train": [], "test": []}
    for d, h in keys:
        split = "test" if (d, h) in test_keys else "train"
        pools[split] += [d + c for c in clock_forms(h)]
    return pools


# --------------------------------------------------------------------------
def normalise(text):
    """Lowercase, no whitespace or punctuation: what 'the same utterance' means."""
    return re.sub(r"[\s\W_]+", "", text.lower())


class Cycler:
    """Hands out a pool's values in shuffled rounds, so every value is used about equally."""

    def __init__(self, values, rng):
        self.values, self.rng, self.queue = list(values), rng, []

    def next(self):
        if not self.queue:
            self.queue = list(self.values)
            self.rng.shuffle(self.queue)
        return self.queue.pop()


def make_rows(split, n_per_tool, n_no_call, rng, times):
    """The rows of one split, from that split's templates and slot-value pools."""
    slot_values = {"m": MEETING_NAMES[split], "t": times[split], "d": DURATIONS[split],
                   "n": PERSON_NAMES[split], "k": REMINDER_MINUTES[split], "r": ROOMS[split]}
    templates = {tool: TEMPLATES[tool][split] for tool in TOOLS_SPEC}
    return fill_rows(split, templates, slot_values, n_per_tool, NO_CALL_UTTERANCES[split],
                     n_no_call, rng, set())


def fill_rows(label, templates_by_tool, slot_values, n_per_tool, no_call, n_no_call, rng, seen):
    """n_per_tool rows per tool from its templates and n_no_call no-call rows, shuffled.

    Templates and values are handed out in shuffled rounds; an utterance already in `seen`
    (normalised) or over MAX_LEN is drawn again.  `seen` is updated with the new utterances."""
    pools = {slot: Cycler(values, rng) for slot, values in slot_values.items()}
    slot_param = {"m": "meeting_name", "t": "start_time", "d": "duration_minutes",
                  "n": "name", "k": "minutes_before", "r": "room"}
    rows, used_templates = [], Counter()
    for tool in TOOLS_SPEC:
        templates = Cycler(templates_by_tool[tool], rng)
        for _ in range(n_per_tool):
            for _attempt in range(200):
                template = templates.next()
                indirect = template.startswith("~")
                text = template.lstrip("~")
                values = {s: pools[s].next() for s in re.findall(r"\{(\w)\}", text)}
                utterance = text.format(**values)
                if rng.random() < P_PREFIX:
                    utterance = rng.choice(PREFIXES) + utterance
                if not indirect and rng.random() < P_SUFFIX:
                    utterance += rng.choice(SUFFIXES)
                if normalise(utterance) not in seen and len(utterance) <= MAX_LEN:
                    break
            else:
                raise AssertionError(f"no new utterance for {tool} ({label})")
            seen.add(normalise(utterance))
            used_templates[(tool, template)] += 1
            by_param = {slot_param[s]: v for s, v in values.items()}
            params = {p: by_param[p] for p, _, _ in TOOLS_SPEC[tool][1]}
            rows.append({"instruct": utterance, "input": "",
                         "output": {"tool_name": tool, "parameters": params}})
    no_call = list(no_call)
    rng.shuffle(no_call)
    assert len(no_call) >= n_no_call, (label, len(no_call))
    for utterance in no_call[:n_no_call]:
        seen.add(normalise(utterance))
        rows.append({"instruct": utterance, "input": "", "output": NO_CALL_REPLY})
    rng.shuffle(rows)
    for tool in TOOLS_SPEC:
        for template in templates_by_tool[tool]:
            assert used_templates[(tool, template)] >= 1, f"{label} never uses {tool} {template!r}"
    return rows


def extra_train_rows(train, test, times):
    """Rows from EXTRA_TRAIN_TEMPLATES and EXTRA_NO_CALL_TRAIN, filled from the wide train
    pools with their own seed, none repeating a train or test utterance."""
    wide = wide_train_pools()
    slot_values = {"m": wide["meeting_name"], "t": times["train"], "d": DURATIONS["train"],
                   "n": wide["name"], "k": REMINDER_MINUTES["train"], "r": wide["room"]}
    seen = {normalise(r["instruct"]) for r in train + test}
    return fill_rows("extra train", EXTRA_TRAIN_TEMPLATES, slot_values, N_EXTRA_TRAIN_PER_TOOL,
                     EXTRA_NO_CALL_TRAIN, len(EXTRA_NO_CALL_TRAIN), random.Random(EXTRA_SEED), seen)


def wide_train_pools():
    """Train values of each name-like slot: the pool the rows were filled from plus the extras."""
    base = {"meeting_name": MEETING_NAMES, "name": PERSON_NAMES, "room": ROOMS}
    return {param: pools["train"] + WIDE_TRAIN_EXTRA[param] for param, pools in base.items()}


def widen_train_values(rows):
    """Re-draw the train rows' meeting names, people and rooms from the wider pools (in rounds,
    so every value is used); the phrasing around each value stays as it was."""
    rng = random.Random(WIDEN_SEED)
    pools = {param: Cycler(values, rng) for param, values in wide_train_pools().items()}
    seen = {normalise(r["instruct"]) for r in rows}
    out = []
    for row in rows:
        params = row["output"]["parameters"] if isinstance(row["output"], dict) else {}
        utterance, params = row["instruct"], dict(params)
        for param in [p for p in params if p in pools]:
            old = params[param]
            assert utterance.count(old) == 1, (old, utterance)
            for _attempt in range(50):
                new = pools[param].next()
                candidate = utterance.replace(old, new)
                if len(candidate) <= MAX_LEN and normalise(candidate) not in seen:
                    break
                pools[param].queue.insert(0, new)  # does not fit here: hand it out later instead
            else:
                raise AssertionError(f"no new value for {param} in {utterance!r}")
            seen.discard(normalise(utterance))
            seen.add(normalise(candidate))
            utterance, params[param] = candidate, new
        if params:
            row = {**row, "instruct": utterance, "output": {**row["output"], "parameters": params}}
        out.append(row)
    return out


def tool_of(row):
    return row["output"]["tool_name"] if isinstance(row["output"], dict) else NO_CALL


def build():
    rng = random.Random(SEED)
    times = time_pools(rng)
    train = make_rows("train", N_TRAIN_PER_TOOL, N_TRAIN_NO_CALL, rng, times)
    test = make_rows("test", N_TEST_PER_TOOL, N_TEST_NO_CALL, rng, times)
    train = widen_train_values(train)
    train += extra_train_rows(train, test, times)
    openai = [openai_row(r) for r in test]
    return tool_schemas(), train, test, times, openai


def openai_row(row):
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": row["instruct"]}]
    if isinstance(row["output"], dict):
        arguments = json.dumps(row["output"]["parameters"], ensure_ascii=False, separators=(",", ":"))
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": row["output"]["tool_name"], "arguments": arguments}}]})
    else:
        messages.append({"role": "assistant", "content": row["output"]})
    return {"messages": messages, "tools": tool_schemas()}


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
def template_key(template):
    """What 'the same template' means: slots, the indirect mark, punctuation and case ignored."""
    return normalise(re.sub(r"\{\w\}", "#", template.lstrip("~")))


def all_templates(tool):
    """A tool's train, test and extra train templates."""
    return TEMPLATES[tool]["train"] + TEMPLATES[tool]["test"] + EXTRA_TRAIN_TEMPLATES[tool]


def check_static():
    names = list(TOOLS_SPEC)
    assert len(names) >= 8 and all(re.fullmatch(r"[A-Z][A-Z_]+", n) for n in names), names
    arity = Counter(min(len(p), 2) for _, p in TOOLS_SPEC.values())
    assert arity[0] >= 3 and arity[1] >= 3 and arity[2] >= 2, arity
    assert set(TEMPLATES) == set(TOOLS_SPEC)
    for tool, (_, params) in TOOLS_SPEC.items():
        slots_needed = {{"meeting_name": "m", "start_time": "t", "duration_minutes": "d", "name": "n",
                         "minutes_before": "k", "room": "r"}[p] for p, _, _ in params}
        train_keys = {template_key(t) for t in TEMPLATES[tool]["train"]}
        test_keys = {template_key(t) for t in TEMPLATES[tool]["test"]}
        assert len(train_keys) == len(TEMPLATES[tool]["train"]), f"{tool}: duplicate train template"
        assert len(test_keys) == len(TEMPLATES[tool]["test"]), f"{tool}: duplicate test template"
        assert not train_keys & test_keys, f"{tool}: template in both splits: {train_keys & test_keys}"
        extra_keys = {template_key(t) for t in EXTRA_TRAIN_TEMPLATES[tool]}
        assert len(extra_keys) == len(EXTRA_TRAIN_TEMPLATES[tool]), f"{tool}: duplicate extra template"
        assert not extra_keys & (train_keys | test_keys), f"{tool}: extra template already used"
        for t in all_templates(tool):
            slots = re.findall(r"\{(\w)\}", t)
            assert set(slots) == slots_needed and len(slots) == len(set(slots)), (tool, t)
    # templates are unique across tools too (an utterance means one thing)
    all_keys = [template_key(t) for tool in TEMPLATES for t in all_templates(tool)]
    assert len(all_keys) == len(set(all_keys)), "a template is used by two tools"
    for pools in (MEETING_NAMES, PERSON_NAMES, ROOMS, DURATIONS, REMINDER_MINUTES, NO_CALL_UTTERANCES):
        for split in ("train", "test"):
            assert len(set(pools[split])) == len(pools[split]), ("duplicate pool value", pools[split])
        assert not set(pools["train"]) & set(pools["test"]), set(pools["train"]) & set(pools["test"])
    assert all(2 <= len(m) <= 6 for s in MEETING_NAMES.values() for m in s), "meeting names: 2-6 chars"
    test_pools = {"meeting_name": MEETING_NAMES["test"], "name": PERSON_NAMES["test"], "room": ROOMS["test"]}
    for param, wide in wide_train_pools().items():
        assert len(set(wide)) == len(wide), ("duplicate wide train value", param)
        assert not any(t in w or w in t for w in wide for t in test_pools[param]), ("wide train vs test", param)
    assert all(2 <= len(m) <= 6 for m in wide_train_pools()["meeting_name"]), "meeting names: 2-6 chars"
    no_call_train = NO_CALL_UTTERANCES["train"] + EXTRA_NO_CALL_TRAIN
    for u in no_call_train + NO_CALL_UTTERANCES["test"]:
        assert not any(w in u.lower() for w in TOOL_WORDS), f"no-call utterance looks like a call: {u}"
    assert len({normalise(u) for u in no_call_train}) == len(no_call_train), "duplicate no-call utterance"
    assert not {normalise(u) for u in no_call_train} & {normalise(u) for u in NO_CALL_UTTERANCES["test"]}


def check_row(row, tools_by_name):
    assert set(row) == {"instruct", "input", "output"} and row["input"] == "", row
    u = row["instruct"]
    assert u == u.strip() and u and "\n" not in u, row
    assert len(u) <= MAX_LEN, (len(u), u)
    if not isinstance(row["output"], dict):
        assert row["output"] == NO_CALL_REPLY, row
        return
    out = row["output"]
    assert list(out) == ["tool_name", "parameters"], out
    schema = tools_by_name[out["tool_name"]]["parameters"]
    params = out["parameters"]
    assert list(params) == list(schema["properties"]), (list(params), "schema order")
    assert set(schema["required"]) == set(params)
    for p, v in params.items():
        ptype = schema["properties"][p]["type"]
        if ptype == "integer":
            assert type(v) is int and v >= 1, (p, v)
            assert re.search(rf"(?<!\d){v}(?!\d)", u), f"{v} not said as digits in {u!r}"
        else:
            assert type(v) is str and v and v in u, f"{p}={v!r} not verbatim in {u!r}"


def check_splits(tools, train, test, times):
    tools_by_name = {t["function"]["name"]: t["function"] for t in tools}
    for row in train + test:
        check_row(row, tools_by_name)
    for name, rows, per_tool, n_no in (("train", train, N_TRAIN_PER_TOOL + N_EXTRA_TRAIN_PER_TOOL,
                                        N_TRAIN_NO_CALL + len(EXTRA_NO_CALL_TRAIN)),
                                       ("test", test, N_TEST_PER_TOOL, N_TEST_NO_CALL)):
        counts = Counter(tool_of(r) for r in rows)
        assert all(counts[t] == per_tool for t in TOOLS_SPEC) and counts[NO_CALL] == n_no, counts
        assert 0.06 <= counts[NO_CALL] / len(rows) <= 0.10, counts[NO_CALL] / len(rows)
        norm = [normalise(r["instruct"]) for r in rows]
        assert len(set(norm)) == len(norm), f"{name}: repeated utterance"
        short = sum(len(r["instruct"]) <= SHORT for r in rows) / len(rows)
        assert short >= MIN_SHORT_SHARE, (name, short)
    assert len(train) >= 400 and len(test) >= 100
    assert all(Counter(tool_of(r) for r in test)[t] >= 8 for t in TOOLS_SPEC)

    # utterances: no test utterance is a train utterance
    train_norm = {normalise(r["instruct"]) for r in train}
    assert not any(normalise(r["instruct"]) in train_norm for r in test), "test utterance in train"

    # slot values: disjoint, and no test string value anywhere in a train row
    def values(rows, kind):
        return {v for r in rows if isinstance(r["output"], dict)
                for v in r["output"]["parameters"].values() if isinstance(v, kind)}
    train_str, test_str = values(train, str), values(test, str)
    train_int, test_int = values(train, int), values(test, int)
    assert not train_str & test_str and not train_int & test_int
    train_text = [json.dumps(r, ensure_ascii=False) for r in train]
    for v in test_str:
        hits = [t for t in train_text if v in t]
        assert not hits, f"test value {v!r} occurs in a train row: {hits[0]}"
    for v in test_int:
        pattern = re.compile(rf"(?<!\d){v}\s*(分钟|分|min)")
        assert not any(pattern.search(r["instruct"]) for r in train), f"'{v}分钟' said in train"
    # every pool value is used where it belongs, and never in the other split
    for split, rows in (("train", train), ("test", test)):
        used = values(rows, str) | values(rows, int)
        for pools in (MEETING_NAMES, PERSON_NAMES, ROOMS, DURATIONS, REMINDER_MINUTES):
            missing = set(pools[split]) - used
            assert not missing, (split, missing)
        if split == "train":
            missing = set().union(*wide_train_pools().values()) - used
            assert not missing, ("wide train pools", missing)
        assert values(rows, str) & set(times[split])
        other = "test" if split == "train" else "train"
        assert not used & set(times[other])
    # start times of the two splits: none is a substring of another across splits
    for a in times["test"]:
        assert not any(a in b or b in a for b in times["train"]), a


def check_openai(tools, test, openai):
    assert len(openai) == len(test)
    for row, o in zip(test, openai):
        assert o["tools"] == tools
        m = o["messages"]
        assert [x["role"] for x in m] == ["system", "user", "assistant"]
        assert m[0]["content"] == SYSTEM_PROMPT and m[1]["content"] == row["instruct"]
        if isinstance(row["output"], dict):
            (call,) = m[2]["tool_calls"]
            assert m[2]["content"] == "" and call["type"] == "function"
            assert call["function"]["name"] == row["output"]["tool_name"]
            assert json.loads(call["function"]["arguments"]) == row["output"]["parameters"]
        else:
            assert "tool_calls" not in m[2] and m[2]["content"] == NO_CALL_REPLY


# --------------------------------------------------------------------------
def dump_json(name, value):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    check_static()
    tools, train, test, times, openai = build()
    assert build() == (tools, train, test, times, openai), "build is not deterministic"
    check_splits(tools, train, test, times)
    check_openai(tools, test, openai)

    dump_json("tools.json", tools)
    dump_json("train.json", train)
    dump_json("test.json", test)
    with open(os.path.join(HERE, "test_openai.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for o in openai:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")

    # ---- summary --------------------------------------------------------
    print(f"tools: {len(tools)} ({', '.join(TOOLS_SPEC)})")
    for name, rows in (("train", train), ("test", test)):
        counts = Counter(tool_of(r) for r in rows)
        lengths = sorted(len(r["instruct"]) for r in rows)
        short = sum(n <= SHORT for n in lengths)
        per_tool = N_TRAIN_PER_TOOL + N_EXTRA_TRAIN_PER_TOOL if name == "train" else N_TEST_PER_TOOL
        print(f"{name}: {len(rows)} rows; per tool {per_tool}, "
              f"no-call {counts[NO_CALL]} ({counts[NO_CALL] / len(rows):.1%}); utterance length "
              f"min {lengths[0]} / median {lengths[len(lengths) // 2]} / max {lengths[-1]} chars, "
              f"{short} ({short / len(rows):.0%}) <= {SHORT}")
    wide = wide_train_pools()
    names = {"train": wide["meeting_name"], "test": MEETING_NAMES["test"]}
    people = {"train": wide["name"], "test": PERSON_NAMES["test"]}
    rooms = {"train": wide["room"], "test": ROOMS["test"]}
    for split in ("train", "test"):
        n_templates = sum(len(TEMPLATES[t][split]) for t in TEMPLATES)
        if split == "train":
            n_templates += sum(len(t) for t in EXTRA_TRAIN_TEMPLATES.values())
        print(f"{split} pools: templates {n_templates}, "
              f"meeting names {len(names[split])}, people {len(people[split])}, "
              f"rooms {len(rooms[split])}, start times {len(times[split])}, "
              f"durations {DURATIONS[split]}, reminder minutes {REMINDER_MINUTES[split]}, "
              f"no-call utterances {len(NO_CALL_UTTERANCES[split]) + (len(EXTRA_NO_CALL_TRAIN) if split == 'train' else 0)}")
    print(f"test_openai.jsonl: {len(openai)} rows "
          f"({sum('tool_calls' in o['messages'][2] for o in openai)} with tool_calls)")


if __name__ == "__main__":
    main()
