"""Build the office_tools set: a small Chinese tool-call data set written for plugtune's tests.

An office/business assistant with 8 tools (BOOK_ROOM, SEND_EMAIL, CREATE_TODO, QUERY_EXPENSE,
APPLY_LEAVE, BOOK_TAXI, CALL_CONTACT, CHECK_WEATHER). Each row is one colloquial Chinese request
and the one call it should produce, in the row format of data/toolcall/train.json:

    {"instruct": <utterance>, "input": "", "output": {"tool_name": NAME, "parameters": {...}}}

Every argument value is copied verbatim from the utterance. The test rows use argument values
(names, times, cities, subjects, ...) that never occur in train.json, with some phrasing templates
shared with train and some new ones, so a model has to copy from the utterance rather than recall.

Standard library only, seeded with random.Random(0), so the output is deterministic. Rebuild with:

    python tests/e2e/data/office_tools/build.py

It writes train.json, test.json and tools.json next to itself and checks its own invariants.
"""

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN_PER_TOOL = 13
TEST_PER_TOOL = 3


def _str(description):
    return {"type": "string", "description": description}


def _tool(name, description, properties):
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


TOOLS = [
    _tool("BOOK_ROOM", "预订一间会议室（订的是房间，不是车）。", {
        "room": _str("会议室名称，照用户原话填写，如“3号会议室”、“天山厅”。"),
        "date": _str("使用日期，照用户原话填写，如“明天”、“下周三”。"),
        "time": _str("开始时刻，照用户原话填写，如“下午三点”、“上午十点”。"),
    }),
    _tool("BOOK_TAXI", "叫一辆出租车/网约车（订的是车，不是会议室）。", {
        "destination": _str("目的地，照用户原话填写，如“首都机场”、“国贸大厦”。"),
        "time": _str("用车时间，照用户原话填写（可带日期），如“后天晚上七点”、“早上八点”。"),
    }),
    _tool("SEND_EMAIL", "给某人发送一封邮件（不是打电话）。", {
        "recipient": _str("收件人姓名，照用户原话填写，如“王建国”。"),
        "subject": _str("邮件主题，照用户原话填写，如“季度报表”。"),
    }),
    _tool("CALL_CONTACT", "给某个联系人打电话（不是发邮件）。", {
        "name": _str("联系人姓名，照用户原话填写，如“李娜”。"),
    }),
    _tool("CREATE_TODO", "在待办清单里新建一条待办事项。", {
        "content": _str("待办内容，照用户原话填写，如“提交报销单”。"),
        "deadline": _str("截止时间，照用户原话填写，如“周五”、“今天下班”。"),
    }),
    _tool("QUERY_EXPENSE", "查询某位员工某个月的报销/费用情况。", {
        "employee": _str("员工姓名，照用户原话填写，如“张伟”。"),
        "month": _str("月份，照用户原话填写，如“上个月”、“3月”。"),
    }),
    _tool("APPLY_LEAVE", "提交一份请假申请。", {
        "date": _str("请假开始日期，照用户原话填写，如“下周一”。"),
        "days": _str("请假时长，照用户原话填写，如“两天”、“半天”。"),
        "reason": _str("请假原因，照用户原话填写，如“家里有事”。"),
    }),
    _tool("CHECK_WEATHER", "查询某个城市某天的天气。", {
        "city": _str("城市名，照用户原话填写，如“上海”。"),
        "date": _str("日期，照用户原话填写，如“明天”、“周末”。"),
    }),
]

# Value pools: (train values, test values). No test value may occur anywhere in train.json.
POOLS = {
    "name": (["王建国", "李娜", "张伟", "刘芳", "陈静", "赵磊", "孙丽", "周杰", "吴敏", "郑浩",
              "马丽华", "林小雨", "何志强"],
             ["高婷婷", "罗文斌", "宋佳", "谢国栋", "唐小燕", "韩雪"]),
    "date": (["今天", "明天", "后天", "周五", "下周一", "下周三", "这周六", "3月12号", "周末"],
             ["大后天", "下周四", "下下周二", "6月18号", "星期天"]),
    "clock": (["上午十点", "下午三点", "下午三点半", "下午两点半", "晚上七点", "早上八点",
               "上午九点半", "中午十二点", "下午四点"],
              ["上午十一点", "下午五点半", "晚上八点一刻", "早上七点四十", "下午一点"]),
    "room": (["3号会议室", "大会议室", "5楼小会议室", "201会议室", "天山厅", "洽谈室A"],
             ["7号会议室", "黄山厅", "12楼培训室", "洽谈室C"]),
    "destination": (["首都机场", "虹桥火车站", "公司总部", "国贸大厦", "北京南站", "浦东机场",
                     "望京SOHO"],
                    ["大兴机场", "西湖文化广场", "科技园南门", "会展中心"]),
    "subject": (["季度报表", "项目进度", "本周周报", "合同草稿", "报价单", "会议纪要", "培训通知"],
                ["年度预算", "招聘计划", "验收报告", "出差行程"]),
    "content": (["提交报销单", "给客户回电话", "整理会议纪要", "更新项目排期", "打印合同",
                 "预订年会场地"],
                ["续签供应商合同", "准备述职PPT", "核对发票", "给新同事开通账号"]),
    "deadline": (["今天下班", "周五", "明天中午", "下周一上午", "月底", "后天下午三点", "这周六"],
                 ["下周二", "本周日晚上", "大后天中午", "6月30号"]),
    "month": (["上个月", "3月", "十月份", "这个月", "5月份", "去年12月"],
              ["8月", "二月份", "上上个月"]),
    "days": (["一天", "两天", "三天", "半天", "3天"], ["5天", "四天", "一周"]),
    "reason": (["家里有事", "身体不舒服", "孩子开家长会", "回老家办事", "看牙医"],
               ["参加婚礼", "搬家", "陪老人看病"]),
    "city": (["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京"],
             ["西安", "重庆", "厦门", "青岛", "苏州", "长沙"]),
}

# Per tool: which pool fills each parameter ("taxi_time" is built from date + clock),
# phrasing templates shared by train and test, and templates only the test split uses.
SPECS = {
    "BOOK_ROOM": {
        "slots": {"room": "room", "date": "date", "time": "clock"},
        "shared": [
            "帮我订一下{date}{time}的{room}",
            "{date}{time}要开会，订个{room}",
            "预订{room}，时间是{date}{time}",
            "{room}{date}{time}还空着吗？空的话帮我订上",
            "把{room}订下来，{date}{time}用",
            "我要约{room}，{date}，{time}开始",
        ],
        "test_only": [
            "{date}{time}那场会放在{room}，帮忙预订一下",
            "能不能给我锁定{room}？{date}{time}",
        ],
    },
    "BOOK_TAXI": {
        "slots": {"destination": "destination", "time": "taxi_time"},
        "shared": [
            "帮我叫辆车，{time}去{destination}",
            "{time}要去{destination}，帮我约个车",
            "订一辆{time}出发去{destination}的出租车",
            "打车去{destination}，{time}出发",
            "{time}帮我叫个车到{destination}",
        ],
        "test_only": [
            "安排一下用车：目的地{destination}，{time}",
            "我{time}从公司出发去{destination}，帮我约车",
        ],
    },
    "SEND_EMAIL": {
        "slots": {"recipient": "name", "subject": "subject"},
        "shared": [
            "给{recipient}发封邮件，主题是{subject}",
            "帮我发个邮件给{recipient}，标题写{subject}",
            "发邮件：收件人{recipient}，主题{subject}",
            "把{subject}用邮件发给{recipient}",
            "写一封主题为{subject}的邮件给{recipient}",
        ],
        "test_only": [
            "邮件通知一下{recipient}，主题就叫{subject}",
            "{recipient}那边要{subject}，给对方发个邮件",
        ],
    },
    "CALL_CONTACT": {
        "slots": {"name": "name"},
        "shared": [
            "给{name}打个电话",
            "帮我拨一下{name}的电话",
            "呼叫{name}",
            "打电话给{name}",
            "联系一下{name}，直接打电话",
            "我要跟{name}通个电话",
        ],
        "test_only": [
            "帮我把电话打到{name}那里",
            "接通{name}",
        ],
    },
    "CREATE_TODO": {
        "slots": {"content": "content", "deadline": "deadline"},
        "shared": [
            "加个待办：{content}，{deadline}之前完成",
            "新建一条待办，{deadline}前{content}",
            "帮我记一下，{content}，截止时间{deadline}",
            "待办清单里加上{content}，期限是{deadline}",
            "{deadline}之前我得{content}，记到待办里",
        ],
        "test_only": [
            "别让我忘了{content}，最晚{deadline}",
            "创建任务：{content}，{deadline}截止",
        ],
    },
    "QUERY_EXPENSE": {
        "slots": {"employee": "name", "month": "month"},
        "shared": [
            "查一下{employee}{month}的报销",
            "{employee}{month}花了多少钱？",
            "帮我看看{employee}{month}的费用",
            "{month}{employee}报销了多少",
            "查询{employee}的开销，{month}的",
        ],
        "test_only": [
            "统计一下{employee}在{month}的支出",
            "我想知道{month}{employee}的差旅费用",
        ],
    },
    "APPLY_LEAVE": {
        "slots": {"date": "date", "days": "days", "reason": "reason"},
        "shared": [
            "我想{date}请{days}假，{reason}",
            "帮我提个请假申请，从{date}开始，请{days}，原因是{reason}",
            "{reason}，{date}要请{days}假",
            "请假：{date}起{days}，事由{reason}",
            "{date}开始休{days}，理由写{reason}",
        ],
        "test_only": [
            "因为{reason}，打算{date}请{days}的假，帮我申请",
            "提交请假单，{days}，{date}开始，{reason}",
        ],
    },
    "CHECK_WEATHER": {
        "slots": {"city": "city", "date": "date"},
        "shared": [
            "{city}{date}天气怎么样",
            "查一下{date}{city}的天气",
            "{date}去{city}，那边天气如何？",
            "帮我看看{city}{date}会不会下雨",
            "{city}{date}的天气预报",
        ],
        "test_only": [
            "{date}{city}冷不冷？查下天气",
            "出差到{city}，{date}需要带伞吗",
        ],
    },
}

PREFIXES = ["", "", "", "", "嗯，", "那个，", "麻烦你，", "你好，", "喂，"]
SUFFIXES = ["", "", "", "，谢谢", "，谢了", "。", "，辛苦了"]


class _Draw:
    """Draws pool values in shuffled rounds, so every value of a split gets used evenly."""

    def __init__(self, rng, split):
        self.rng, self.index, self.queues = rng, 0 if split == "train" else 1, {}

    def __call__(self, pool):
        if pool == "taxi_time":
            clock = self("clock")
            return self("date") + clock if self.rng.random() < 0.7 else clock
        queue = self.queues.get(pool)
        if not queue:
            queue = self.queues[pool] = list(POOLS[pool][self.index])
            self.rng.shuffle(queue)
        return queue.pop()


def _row(rng, draw, tool, template):
    params = {param: draw(pool) for param, pool in SPECS[tool]["slots"].items()}
    text = template.format(**params)
    if text[-1] not in "？?。！":
        text += rng.choice(SUFFIXES)
    text = rng.choice(PREFIXES) + text
    return {"instruct": text, "input": "", "output": {"tool_name": tool, "parameters": params}}


def build(rng):
    train, test = [], []
    draw_train, draw_test = _Draw(rng, "train"), _Draw(rng, "test")
    for tool, spec in SPECS.items():
        seen, i = set(), 0
        while len(seen) < TRAIN_PER_TOOL:
            row = _row(rng, draw_train, tool, spec["shared"][i % len(spec["shared"])])
            i += 1
            if row["instruct"] not in seen:
                seen.add(row["instruct"])
                train.append(row)
        shared = rng.sample(spec["shared"], TEST_PER_TOOL - 1)
        templates = shared + [rng.choice(spec["test_only"])]
        for template in templates:
            test.append(_row(rng, draw_test, tool, template))
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def check(train, test, tools):
    names = {t["function"]["name"] for t in tools}
    for row in train + test:
        out = row["output"]
        assert out["tool_name"] in names, out
        for value in out["parameters"].values():
            assert value in row["instruct"], row
    train_texts = {r["instruct"] for r in train}
    assert not train_texts & {r["instruct"] for r in test}, "utterance in both splits"
    assert len({r["instruct"] for r in test}) == len(test), "duplicate test utterance"
    train_dump = json.dumps(train, ensure_ascii=False)
    for row in test:
        for value in row["output"]["parameters"].values():
            assert value not in train_dump, f"test value {value!r} occurs in train"


def _write(name, data):
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    (HERE / name).write_text(text, encoding="utf-8")


def main():
    train, test = build(random.Random(0))
    check(train, test, TOOLS)
    _write("tools.json", TOOLS)
    _write("train.json", train)
    _write("test.json", test)
    print(f"train.json: {len(train)} rows, test.json: {len(test)} rows, "
          f"tools.json: {len(TOOLS)} tools")


if __name__ == "__main__":
    main()
