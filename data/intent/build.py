"""Deterministic generator for the bank customer-service intent dataset.

How the data is made
--------------------
Every sentence is synthetic.  For each of the five labels
(fraud_risk, refund, balance, card_lost, other) we hand-wrote *template
families*: small groups of 2-6 phrasings that express one concrete situation
("an ATM swallowed my card", "a fake merchant agent promised a refund", ...).
Templates contain slots such as {card}, {merchant}, {product}, {amt},
{place}, {time}, {app}, {org}, {person}, {salary}, {days}, {district}.

Generation for one (label, split):
  1. the target count (320 per label for train, 40 for test) is spread over
     that label's families with random weights (every family gets >= 1 row);
  2. a template is drawn from the family and its slots are filled from the
     slot pools of that split (the "core" sentence; each core is used at
     most three times);
  3. the core is decorated: polite prefixes, filler words (那个, 呃 ...),
     suffixes (谢谢, 在线等 ...), sentence-final particles, punctuation
     variation, homophone typos / dropped or doubled characters, and
     Chinese-English code-switching (卡 -> card, 退款 -> refund, ...).
     Several families are written fully or partly in English.

Keeping train and test apart
----------------------------
* Template families are partitioned: TRAIN_FAMILIES and TEST_FAMILIES are
  disjoint lists, so every test row comes from a family never seen in train.
* Slot values that are not core domain vocabulary (merchants, products,
  amounts, places, times, apps, impostor organisations, people, districts,
  day counts, bonus types) have disjoint train/test pools.  Card types
  (信用卡, 储蓄卡, ...) and decoration pools (prefixes, fillers, suffixes,
  particles, typos) are label-agnostic and shared.
* Asserted at the end: no duplicate texts inside a file, no test text (even
  after stripping punctuation/spaces/case) in train, no test core sentence
  in train, no template string or family id shared between the splits.

Extra rows: 12 rows with labels outside the label set (loan_inquiry,
credit_limit_raise, ...) are mixed into train.jsonl to exercise the
"drop unknown labels" code path.  They are *not* counted in the 1600.

Run:  python data/intent/build.py      (rewrites train.jsonl and test.jsonl)
Only the standard library is used; the output is byte-identical on re-runs.
"""

import json
import os
import random
import re
from collections import Counter

SEED = 20240607
HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]
N_TRAIN_PER_LABEL = 320
N_TEST_PER_LABEL = 40
MAX_CORE_REUSE = 3
MIN_LEN, MAX_LEN = 4, 64

# --------------------------------------------------------------------------
# Slot pools.  "shared" values are common domain vocabulary; the rest are
# split into disjoint train / test pools.
# --------------------------------------------------------------------------
SHARED_SLOTS = {
    "card": ["信用卡", "储蓄卡", "借记卡", "工资卡", "银行卡", "卡", "副卡",
             "visa卡", "联名卡", "白金卡"],
}

SPLIT_SLOTS = {
    "train": {
        "merchant": ["淘宝", "京东", "美团", "拼多多", "携程", "唯品会", "苏宁",
                     "饿了么", "盒马", "滴滴", "大众点评", "天猫超市", "闲鱼"],
        "product": ["衣服", "耳机", "手机壳", "运动鞋", "充电宝", "羽绒服",
                    "洗衣液", "电饭煲", "书包", "电风扇", "口红", "平板"],
        "amt_n": ["39", "58", "128", "199", "260", "388", "499", "1200", "2300",
                  "3680", "88.5", "15.9", "666", "1999", "750", "三百", "两千"],
        "place": ["地铁站", "商场", "超市", "公司楼下", "火车站",
                  "饭店", "健身房", "加油站"],
        "time": ["昨天", "今天早上", "前天晚上", "刚才", "上周五", "三天前",
                 "中午", "凌晨两点"],
        "app": ["手机银行", "网银", "微信", "支付宝"],
        "org": ["公安局", "快递客服", "银行客服", "法院", "医保局"],
        "person": ["我妈", "我老婆", "我爸", "同事", "朋友", "我儿子"],
        "salary": ["工资", "奖金", "绩效"],
        "days": ["三", "五", "七", "十", "好几"],
        "district": ["朝阳区", "浦东", "天河", "南山", "西湖区"],
        "caller": ["400开头的号码", "一个陌生座机", "170开头的号码"],
    },
    "test": {
        "merchant": ["抖音商城", "得物", "当当", "去哪儿", "飞猪", "叮咚买菜",
                     "网易严选", "小红书", "快手小店", "同程"],
        "product": ["台灯", "蓝牙音箱", "奶粉", "行李箱", "键盘", "保温杯",
                    "显示器", "扫地机器人", "床单", "跑步机"],
        "amt_n": ["45", "72", "156", "318", "540", "899", "1580", "2750", "4200",
                  "23.8", "9.9", "1288", "五百", "八千"],
        "place": ["机场", "医院", "咖啡店", "学校门口", "停车场", "菜市场", "银行门口"],
        "time": ["昨晚十点", "半小时前", "上周末", "今天下午", "大前天", "周一"],
        "app": ["掌上银行", "云闪付", "银行小程序"],
        "org": ["社保中心", "电商客服", "税务局", "航空公司"],
        "person": ["我奶奶", "我老公", "室友", "我姐"],
        "salary": ["年终奖", "退休金", "薪水"],
        "days": ["两", "四", "六", "八", "十几"],
        "district": ["海淀", "徐汇", "越秀", "福田"],
        "caller": ["境外号码", "一个虚拟号段"],
    },
}
AMT_FORMATS = ["{n}元", "{n}块", "{n}块钱", "{n}元"]

# --------------------------------------------------------------------------
# Template families.  family name -> list of phrasings.
# --------------------------------------------------------------------------
TRAIN_FAMILIES = {
    "fraud_risk": {
        "impostor_call": [
            "{time}有个自称{org}的人打电话给我，说我涉嫌洗钱，要我转账到安全账户",
            "接到{org}的电话说我账户有问题要转钱，这是不是骗子",
            "自称{org}的打电话来让我把钱转到指定账户",
            "有人冒充{org}说我名下有违法交易，要我配合转账",
        ],
        "otp_request": [
            "有人打电话问我要验证码，说是银行的，能给吗",
            "对方让我把手机收到的验证码念给他听",
            "刚刚有个客服要我的短信验证码，我给了，怎么办",
            "陌生人说发错验证码到我手机上了，让我转发给他",
        ],
        "unauthorised_charge": [
            "我的{card}{time}被刷了{amt}，不是我刷的",
            "{card}莫名其妙扣了{amt}，我根本没消费",
            "账户里少了{amt}，我没有任何操作",
            "{time}{card}被盗刷了{amt}",
        ],
        "phishing_link": [
            "收到一条短信说积分可以兑换现金，点进链接填了卡号",
            "我点了短信里的链接，输入了银行卡信息，会不会有危险",
            "短信让我点链接升级{app}，我点了还输了密码",
            "点了一个假的银行网站链接，怎么办",
        ],
        "account_taken_over": [
            "我的{app}账号好像被别人登录了",
            "{app}显示在陌生手机上登录过，不是我",
            "账号被盗了，密码也被人改了",
            "有人盗了我的{app}账户还绑了别的手机",
        ],
        "short_scammed": [
            "被骗了啊", "我被骗了", "遇到骗子了", "好像被骗了", "我上当了", "被诈骗了",
        ],
        "scam_want_money_back": [
            "被骗了能退款吗",
            "被人骗着转了{amt}，钱还能追回来吗",
            "上当受骗转出去的钱能不能退回来",
            "被骗子骗走{amt}，银行能不能帮我退回",
        ],
        "check_for_theft": [
            "查一下余额看看有没有被盗刷",
            "帮我看看余额，怀疑卡被人盗刷了",
            "我想查下流水，感觉有人偷偷用我的卡",
            "余额不对劲，是不是被人盗刷了",
        ],
        "task_scam": [
            "网上有人拉我做刷单兼职，先让我垫付{amt}",
            "做刷单返利被骗了{amt}",
            "投资群里的老师让我往平台充钱，现在提不出来了",
            "兼职刷单让我先转{amt}，说完成任务返佣金，靠谱吗",
        ],
        "fake_loan_fee": [
            "有个贷款app说我要先交{amt}保证金才能放款，靠谱吗",
            "网贷平台让我先转解冻费，是不是诈骗",
            "说我贷款账户被冻结了要交{amt}解冻，这是骗局吗",
        ],
        "relative_impersonation": [
            "有人冒充{person}在微信上找我借钱",
            "{person}的微信号被盗了，有人用它问我要钱，我已经转了",
            "骗子装成{person}让我打{amt}过去",
        ],
        "foreign_charge": [
            "收到一笔境外消费提醒{amt}，我人在国内",
            "{card}在国外被刷了，可我从来没出过国",
            "突然有一笔美元消费，我没出国也没海淘",
        ],
        "skimming": [
            "在{place}刷完卡之后就收到了陌生扣款短信",
            "怀疑在{place}的POS机上被盗了卡信息",
            "在{place}的取款机取完钱，后来卡被复制盗刷了",
        ],
        "freeze_because_fraud": [
            "有人盗刷我的卡，赶紧帮我冻结",
            "卡被盗刷了，麻烦先冻住账户",
            "{card}正在被人盗刷，快帮我停掉",
        ],
        "prize_sms": [
            "收到短信说我的{card}要过期了，让回复身份证号",
            "有短信说我中奖了要交手续费才能领",
            "短信说我信用卡积分清零，要点链接兑换，是真的吗",
        ],
        "screen_share": [
            "对方让我下载一个会议软件开屏幕共享，说帮我退款",
            "客服让我开屏幕共享操作{app}，安全吗",
            "有人让我装远程控制软件，说能帮我处理账户",
        ],
        "fake_merchant_refund": [
            "有人说是{merchant}客服，说我买的{product}有质量问题要给我理赔，让我提供卡号",
            "{merchant}客服打电话说要退我{amt}，让我去{app}操作借款",
            "自称{merchant}的人说给我双倍赔偿，要我扫码",
        ],
        "money_gone_emotional": [
            "天哪我的钱全没了，有人把我卡里的钱转走了",
            "急死了，卡里的钱被人转走了，我要报案",
            "我辛辛苦苦存的钱被骗光了",
        ],
        "unknown_merchant": [
            "账单上有几笔小额扣款，商户我完全不认识",
            "每个月都被一个陌生商户扣钱，我没授权过",
            "有个不认识的商家从我卡上扣了{amt}",
        ],
        "login_alert": [
            "收到{app}提醒说在异地登录，可我没登录",
            "为什么我收到了修改手机号的验证码，我没申请过",
            "突然收到重置密码的短信，不是我操作的",
        ],
        "english_fraud": [
            "I think someone stole my bank account",
            "There's a charge on my card I didn't make",
            "Someone called pretending to be the bank and asked for my PIN",
            "I got a weird text asking me to click a link",
            "fraud alert on my account, what should I do",
        ],
        "mixed_fraud": [
            "我的card被盗刷了，help",
            "收到一个phishing短信，要怎么处理",
            "有个scam电话让我转账",
            "对方要我的OTP，是不是诈骗",
        ],
        "is_it_a_scam": [
            "{caller}说是银行的，是真的吗",
            "怎么判断这个电话是不是诈骗电话",
            "{caller}打来说我信用卡逾期了，会不会是骗子",
        ],
        "stop_payment": [
            "刚被骗转了{amt}，能不能拦截",
            "转账给骗子了，能不能马上止付",
            "钱刚转给诈骗分子，现在追还来得及吗",
        ],
        "identity_theft": [
            "有人用我的身份证开了账户",
            "我的信息被泄露了，有人冒用我名义办卡",
            "有人冒用我的身份申请了信用卡",
        ],
        "app_payment": [
            "{app}里多了一笔我没付过的{amt}支付",
            "{time}有一笔{amt}的快捷支付，不是我",
            "快捷支付被人绑了，扣了我{amt}",
        ],
        "elder_scam": [
            "{person}被人骗去买保健品，刷了好几万",
            "{person}接到电话说是公检法，差点把钱都转了",
            "{person}被理财骗局骗了，钱都投进去了",
        ],
        "formal_report": [
            "本人账户出现可疑交易，请协助核查",
            "我要举报一起电信诈骗",
            "请问如何报告可疑交易",
            "本人疑似遭遇网络诈骗，请协助处理",
        ],
        "sim_swap": [
            "手机突然没信号，然后卡里钱就被转走了",
            "手机卡被人补办了，接着账户就被转账了",
        ],
        "qr_scam": [
            "扫了一个陌生二维码付款之后被扣了{amt}",
            "别人让我扫码领红包，结果钱被划走了",
            "扫码加了个群，之后卡里少了{amt}",
        ],
    },
    "refund": {
        "refund_not_arrived": [
            "我在{merchant}买的{product}退了，钱什么时候到账",
            "{merchant}说已经退款了，但我{card}上还没收到",
            "退款申请了{days}天了还没到账",
            "{merchant}的退款到现在都没到",
        ],
        "duplicate_charge": [
            "我买东西被多扣了一次钱要退回",
            "同一笔订单扣了两次款，多扣的{amt}怎么退",
            "付了一次钱却扣了两笔",
            "在{merchant}付款被重复扣费了，麻烦退一下",
        ],
        "cancelled_order": [
            "订单已经取消了，但钱没退回来",
            "{product}的订单取消了，{amt}怎么还没退",
            "取消了{merchant}的订单钱还扣着",
        ],
        "fee_reversal": [
            "年费被扣了{amt}，能不能退",
            "为什么扣我{amt}手续费，申请退还",
            "短信通知费我没开通过，要求退还",
            "小额账户管理费能不能退给我",
        ],
        "return_goods": [
            "{product}退货了，退款退到哪张卡",
            "把{product}寄回去了，商家同意退款了，钱多久回来",
            "{product}退货成功了，钱还没退",
        ],
        "short_refund": [
            "我要退款", "退款进度", "申请退款", "退钱啊", "钱能退吗", "退款呢",
        ],
        "failed_but_charged": [
            "付款失败了但是钱被扣了",
            "ATM取款没出钞但账户扣了{amt}",
            "交易没成功，{amt}却扣走了，要退回来",
        ],
        "ticket_refund": [
            "机票退了好几天钱没回来",
            "电影票退了，退款显示原路返回但没收到",
            "退票的钱去哪了",
        ],
        "refund_to_credit_card": [
            "退款到信用卡上会不会算还款",
            "信用卡的退款怎么没有冲抵账单",
            "退到信用卡的钱能不能取出来",
        ],
        "auto_renew": [
            "{merchant}会员自动续费扣了{amt}，想退",
            "不小心开了自动续费，能申请退回吗",
            "自动续费扣了我{amt}，我要退掉",
        ],
        "merchant_says_refunded": [
            "商家说退了，银行这边查不到",
            "商家那边显示退款成功，我这边没有入账",
            "{merchant}显示已退款，银行卡里没有",
        ],
        "overcharged": [
            "结账的时候多收了我{amt}",
            "在{place}刷卡多刷了一位数，要退差价",
            "收银员多刷了{amt}，怎么退回来",
        ],
        "english_refund": [
            "I want a refund for my order",
            "When will my refund arrive?",
            "I was charged twice, please refund the extra",
            "how long does a refund take",
        ],
        "mixed_refund": [
            "refund 还没到账",
            "我的refund什么时候回来",
            "{merchant}的退款pending好几天了",
            "退款status一直不更新",
        ],
        "refund_emotional": [
            "退个款要等这么久，气死了",
            "都半个月了退款还不到，你们怎么搞的",
            "退款拖了这么久，太离谱了",
        ],
        "refund_formal": [
            "请协助查询一笔退款的到账情况",
            "本人申请退还误扣款项{amt}",
            "请核实并退回重复扣除的{amt}",
        ],
        "partial_refund": [
            "退款只退了一部分，少了{amt}",
            "退回来的金额不对",
            "说好全额退款，结果只到了一半",
        ],
        "foreign_refund": [
            "境外消费退款，汇率差怎么算",
            "海淘退货后退回的钱比付的少",
            "外币消费退款什么时候能入账",
        ],
        "deposit_refund": [
            "酒店押金{amt}什么时候解冻退回",
            "租车押金还没退给我",
            "共享单车押金一直退不了",
        ],
        "indirect_refund": [
            "上周退的{product}，钱还没回到我卡里呢",
            "东西都寄回去了钱呢",
            "{product}都退回去了，钱还没影",
        ],
        "late_fee_reversal": [
            "我按时还款了还被收了滞纳金，申请退回",
            "违约金扣错了请退给我",
            "明明没逾期却扣了利息，能退吗",
        ],
        "refund_route": [
            "退款是原路返回吗",
            "退款会退到余额还是卡里",
            "退款会退回到哪个账户",
        ],
        "double_bill_payment": [
            "不小心重复缴了一次电费，能退吗",
            "话费交了两遍，多的怎么退",
            "物业费多交了一次，能退回来吗",
        ],
        "chargeback": [
            "商家不给退款，银行能帮我发起拒付吗",
            "想申请退单，商家一直拖",
            "商家跑路了不退钱，银行能帮我争议退款吗",
        ],
        "cancelled_service": [
            "健身课取消了，预付的钱退不退",
            "网课没上就退课了，费用什么时候退",
            "预订的酒店取消了，预付款能退吗",
        ],
        "refund_time": [
            "退款一般几天到账",
            "退款多久能到",
            "退款最快什么时候能到账",
        ],
        "merchant_cancelled": [
            "商家缺货取消了订单，款项何时返还",
            "{merchant}单方面取消订单，钱还没退",
        ],
    },
    "balance": {
        "basic_balance": [
            "查一下余额", "我卡里还有多少钱", "帮我查查账户余额", "余额多少",
            "查询余额",
        ],
        "credit_left": [
            "信用卡额度还剩多少",
            "我的{card}可用额度是多少",
            "这个月信用卡还能刷多少",
            "信用卡剩余额度查一下",
        ],
        "after_salary": [
            "上个月工资到了以后我卡里现在还能用多少",
            "发了{salary}之后账户里一共有多少钱",
            "{salary}到账了吗，现在余额多少",
            "{salary}进来以后卡里有多少",
        ],
        "card_balance": [
            "{card}里面还剩多少钱",
            "查一下我{card}的余额",
            "我的{card}余额是多少",
        ],
        "enough_to_pay": [
            "我卡里的钱够不够付{amt}",
            "想买个{amt}的东西，余额够吗",
            "余额够不够交{amt}的学费",
        ],
        "short_balance": [
            "查下余额", "还剩多少钱", "有多少钱", "余额查询", "卡里多少钱",
        ],
        "english_balance": [
            "What's my account balance?",
            "how much money do I have left",
            "check my balance please",
            "what is my available credit",
        ],
        "mixed_balance": [
            "帮我查一下balance",
            "我的credit card还有多少额度",
            "账户balance是多少",
            "available balance还有多少",
        ],
        "via_app": [
            "{app}上怎么看余额",
            "在{app}哪里能查到账户余额",
            "{app}里余额在哪显示",
        ],
        "available_vs_ledger": [
            "可用余额和账户余额有什么区别",
            "为什么可用余额比余额少",
            "可用余额是不是我能花的钱",
        ],
        "after_spending": [
            "{time}刷了{amt}之后还剩多少",
            "刚刚花了{amt}，卡里还有多少",
            "买完{product}还剩多少钱",
        ],
        "all_accounts": [
            "我名下所有账户加起来有多少钱",
            "几张卡的余额合计一下",
            "我在你们行一共存了多少钱",
        ],
        "temp_limit": [
            "临时额度还有多少没用",
            "分期后剩下的可用额度是多少",
            "临时额度剩多少",
        ],
        "balance_formal": [
            "请帮我查询本人储蓄账户当前余额",
            "烦请告知我账户的可用余额",
            "请告知本人借记卡当前可用金额",
        ],
        "colloquial_broke": [
            "我看看我还有几个钱",
            "穷了，看看卡里还剩啥",
            "卡里还有没有钱啊",
        ],
        "after_deposit": [
            "刚存了{amt}，现在余额是多少",
            "存完钱之后的余额帮我看下",
            "存了{amt}进去，现在一共多少",
        ],
        "foreign_currency_balance": [
            "我的美元账户还有多少",
            "外币账户余额怎么查",
            "港币账户里还剩多少钱",
        ],
        "insufficient_notice": [
            "收到余额不足的提醒，现在到底还有多少",
            "扣款提示余额不足，我卡里真的没钱了吗",
            "提示余额不足，帮我看下还剩多少",
        ],
        "month_end_emotional": [
            "月底了好慌，看看还剩多少钱",
            "穷死了，帮我看下卡里还剩多少",
            "感觉这个月花超了，查查余额",
        ],
        "savings_balance": [
            "定期存款现在有多少",
            "我活期里还有多少钱",
            "活期账户余额是多少",
        ],
        "historical_balance": [
            "月初的时候余额是多少",
            "查一下{time}的账户余额",
            "上个月底卡里还有多少钱",
        ],
        "overdraft_left": [
            "信用卡还能透支多少",
            "透支额度剩多少",
            "还能透支多少钱",
        ],
        "before_transfer": [
            "转账前想确认一下余额",
            "我要给{person}转钱，先看看卡里有多少",
            "先查一下余额再转账",
        ],
        "withdrawable": [
            "我现在卡里的钱能取多少出来",
            "账户里能取出来的钱有多少",
        ],
        "e_account": [
            "二类账户里还剩多少钱",
            "电子账户余额是多少",
            "{app}绑定的账户里还有多少钱",
        ],
        "forgot_amount": [
            "不记得卡里还有多少钱了",
            "好久没用这张{card}了，里面还有钱吗",
            "那张旧{card}里还剩钱没",
        ],
    },
    "card_lost": {
        "basic_lost": [
            "我的{card}丢了", "{card}不见了怎么办", "我把卡弄丢了", "{card}丢了咋办",
        ],
        "report_loss": [
            "我要挂失", "帮我挂失一下{card}", "怎么挂失银行卡", "挂失{card}",
        ],
        "atm_swallow": [
            "ATM把我的卡吞了",
            "在{place}的取款机取钱，卡被吞了",
            "取款机吞卡了怎么办",
        ],
        "wallet_stolen": [
            "钱包被偷了，里面有{card}",
            "{time}在{place}包被偷了，卡都在里面",
            "钱包丢了，几张卡都在里面",
        ],
        "freeze_card": [
            "帮我冻结一下我的卡",
            "先把{card}冻住吧，找不到了",
            "卡找不到了，能先冻结吗",
        ],
        "reissue": [
            "卡丢了怎么补办",
            "挂失之后新卡多久能拿到",
            "补一张丢失的{card}",
        ],
        "balance_after_loss": [
            "卡丢了之后余额还在吗",
            "卡丢了里面的钱会不会没了",
            "{card}丢了，卡里的钱还安全吗",
        ],
        "english_lost": [
            "I lost my credit card",
            "I think someone stole my card",
            "my card is missing, please block it",
            "can you freeze my lost card",
        ],
        "mixed_lost": [
            "我的card丢了",
            "帮我block一下{card}",
            "card找不到了怎么办",
            "我的visa卡不见了，help",
        ],
        "short_lost": [
            "卡丢了啊", "挂失银行卡", "卡找不到了", "我卡丢了", "丢卡了啊",
        ],
        "card_in_phone_case": [
            "手机壳里夹着的卡掉了",
            "夹在手机壳里的{card}不见了",
        ],
        "left_somewhere": [
            "卡落在{place}了，找不到了",
            "刷完卡忘拿了，回去找没了",
            "{card}好像落在{place}了",
        ],
        "loss_types": [
            "口头挂失和正式挂失有什么区别",
            "电话挂失后还要去网点吗",
            "临时挂失有效期多久",
        ],
        "undo_loss": [
            "卡找到了，怎么解除挂失",
            "挂失的卡又找回来了，能解挂吗",
            "挂失以后卡找到了还能用吗",
        ],
        "lost_emotional": [
            "完了完了卡丢了，急死了",
            "卡不见了好慌啊",
            "天呐我的{card}丢了",
        ],
        "lost_formal": [
            "本人{card}遗失，申请挂失",
            "申请办理借记卡挂失补卡业务",
            "本人银行卡不慎遗失，请协助挂失",
        ],
        "lost_abroad": [
            "在国外把卡丢了怎么办",
            "出国旅游{card}丢了，能在当地补吗",
            "出差的时候把{card}弄丢了",
        ],
        "lost_via_app": [
            "怎么在{app}上挂失",
            "{app}能不能自助挂失",
            "用{app}挂失{card}的步骤",
        ],
        "family_card_lost": [
            "{person}的卡丢了，我能帮忙挂失吗",
            "替{person}挂失银行卡需要什么",
        ],
        "reissue_fee": [
            "补办丢失的卡要收费吗",
            "挂失补卡手续费多少",
            "挂失要不要钱",
        ],
        "left_in_atm": [
            "取完钱卡忘在机器里了",
            "卡插在ATM里忘拔了",
            "取钱后忘记拿卡，回去卡没了",
        ],
        "mail_lost": [
            "新卡寄丢了",
            "快递说卡已送达但我没收到",
            "寄给我的{card}在路上丢了",
        ],
        "card_and_id_lost": [
            "身份证和银行卡一起丢了",
            "证件和卡都丢了还能挂失吗",
        ],
        "searched_everywhere": [
            "找了一晚上都没找到我的{card}",
            "翻遍了家里也没找到那张卡",
            "到处找都找不到我的卡",
        ],
        "dropped_card": [
            "卡掉在{place}了",
            "{time}卡从口袋里掉了",
            "{time}在{place}把卡掉了",
        ],
        "worry_misuse": [
            "卡丢了会不会被别人拿去刷",
            "卡丢了怕被人用，赶紧锁卡",
            "丢了卡怎么防止被别人用",
        ],
        "stop_card": [
            "我要停用这张卡，卡丢了",
            "卡没了，先停掉",
            "丢了的{card}帮我停用",
        ],
        "autopay_after_loss": [
            "卡丢了，绑定的自动扣款怎么办",
            "挂失以后绑定的{app}支付还能用吗",
        ],
        "card_stolen": [
            "我的卡被偷了",
            "卡被小偷偷走了",
            "{card}被人偷了",
        ],
        "new_card_number": [
            "挂失补办的新卡号码会变吗",
            "挂失补卡后卡号还一样吗",
        ],
    },
    "other": {
        "opening_hours": [
            "银行几点开门", "周末营业吗", "你们几点下班", "网点中午休息吗",
        ],
        "loans": [
            "我想申请个人贷款", "消费贷怎么申请", "贷款利息多少", "能贷多少钱",
        ],
        "exchange_rate": [
            "今天美元汇率多少", "换欧元要手续费吗", "日元现在什么价",
        ],
        "change_phone": [
            "怎么修改预留手机号", "换手机号了，银行这边怎么改", "预留手机号能在{app}上改吗",
        ],
        "password": [
            "怎么修改密码", "忘记密码了怎么办", "密码输错三次卡被锁了", "交易密码怎么重置",
        ],
        "branch_address": [
            "最近的网点在哪", "{district}附近有没有你们银行", "{district}的营业网点地址",
        ],
        "staff_complaint": [
            "柜台工作人员态度太差了", "我要投诉你们的客服", "那个柜员一直玩手机不理人",
        ],
        "mortgage": [
            "房贷提前还款怎么办理", "公积金贷款能不能转商贷", "房贷利率现在是多少",
        ],
        "small_talk": [
            "你是机器人吗", "谢谢你的帮助", "好的我知道了", "今天天气真好", "你叫什么名字",
        ],
        "new_card": [
            "我想办张新卡", "怎么申请信用卡", "办一张储蓄卡需要带什么",
        ],
        "damaged_card": [
            "卡过期了要换新卡", "卡磁条坏了刷不了", "卡芯片坏了怎么换",
        ],
        "limit_raise": [
            "信用卡怎么提额", "能不能把额度调高一点", "申请提高信用卡额度",
        ],
        "transfer": [
            "怎么给别人转账", "跨行转账要多久到账", "转账限额是多少",
        ],
        "bill_repay": [
            "信用卡账单什么时候出", "这个月信用卡要还多少", "怎么设置自动还款",
        ],
        "statement": [
            "怎么打印银行流水", "查一下上个月的交易明细", "要一份近半年的流水",
        ],
        "wealth": [
            "有什么理财产品推荐", "定期存款利率是多少", "大额存单还有额度吗",
        ],
        "open_close_account": [
            "怎么注销账户", "我想开个户", "销户需要本人去吗",
        ],
        "english_other": [
            "What time does the branch open?",
            "How do I change my phone number?",
            "Can I apply for a loan online?",
            "do you have branches near me",
        ],
        "mixed_other": [
            "我想改一下password",
            "app登录不上去",
            "你们的app怎么老是闪退",
            "mortgage利率多少",
        ],
        "app_issue": [
            "{app}登不上去", "{app}一直提示网络错误", "{app}更新后打不开了",
        ],
        "foreign_cash": [
            "去日本旅游要换外币", "怎么预约取外币现金", "能换泰铢吗",
        ],
        "insurance": [
            "银行卖的保险靠谱吗", "怎么买意外险", "有没有适合老人的保险",
        ],
        "big_cash": [
            "取五万现金要预约吗", "大额取现怎么预约", "一次最多能取多少现金",
        ],
        "certificates": [
            "怎么开存款证明", "需要一份资信证明", "出国签证要的存款证明怎么办",
        ],
        "points": [
            "信用卡积分怎么兑换", "积分快过期了", "积分能换什么东西",
        ],
        "general_complaint": [
            "排队排了一个小时，太慢了", "你们银行服务越来越差", "电话一直打不进来",
        ],
        "update_info": [
            "身份证过期了要更新信息", "怎么修改账单地址", "改一下我的邮寄地址",
        ],
        "fee_policy": [
            "跨行取款收手续费吗", "信用卡年费标准是多少", "转账要手续费吗",
        ],
        "remittance": [
            "怎么往国外汇款", "收到国外汇款要怎么操作", "境外汇款要多久",
        ],
        "token_lost": [
            "U盾丢了怎么补办", "U盾坏了", "U盾密码忘了",
        ],
        "misc_services": [
            "你们招聘吗", "给小孩办卡需要什么", "数字人民币怎么开通",
        ],
    },
}

TEST_FAMILIES = {
    "fraud_risk": {
        "t_authority_call": [
            "{time}接了个电话，对面说是{org}，要我配合调查把存款转出去",
            "号称{org}工作人员的来电要求我把钱转给他们保管",
            "电话里的人说是{org}的，叫我把钱打到他们给的账号",
        ],
        "t_code_phish": [
            "对方一直催我报手机上的六位数字，说是核对身份",
            "陌生人想要我的动态码，这正常吗",
            "有人骗我说出了动态验证码",
        ],
        "t_mystery_charge": [
            "卡上出现一笔{amt}的消费，我压根不知道",
            "我没买过东西，怎么{card}被划走了{amt}",
            "{time}莫名多出一笔{amt}的支出，不是本人",
        ],
        "t_fake_site": [
            "点开了一个假冒银行的网址，还输了密码",
            "钓鱼网站把我的卡号和密码骗走了",
            "在山寨网站上填了信用卡信息",
        ],
        "t_romance_scam": [
            "网恋对象让我投资，现在人联系不上了",
            "杀猪盘骗了我{amt}",
            "网上认识的人带我炒币，钱全被卷走",
        ],
        "t_english_fraud": [
            "someone hacked my account and moved money out",
            "Is this call from the bank real or a scam?",
            "my card was used without my permission",
            "我遇到scammer了",
        ],
        "t_recover_scam_loss": [
            "钱被骗走了还能要回来不",
            "遭遇诈骗损失{amt}，银行能帮忙追回吗",
            "受骗的钱能不能返还给我",
        ],
        "t_verify_suspicious": [
            "看下账户余额，担心有人偷偷转账",
            "帮我核实一下这几笔交易是不是被盗用",
            "几笔消费看着不像我的，帮忙核对",
        ],
        "t_fake_claims": [
            "收到所谓退款理赔的电话，让我开通备用金",
            "{merchant}的假客服让我在{app}上贷款转给他",
            "冒充{merchant}的人说订单异常要退钱给我",
        ],
        "t_anomaly": [
            "银行卡有异常扣费，我怀疑是盗刷",
            "我的账户好像被黑了",
            "遇上诈骗了",
            "被人骗钱了",
        ],
    },
    "refund": {
        "t_return_no_money": [
            "{merchant}那边退货成功了，可卡里没见到钱",
            "东西退掉了，款项还没回来",
            "在{merchant}退了{product}，钱一直没回",
        ],
        "t_charged_twice": [
            "一笔{amt}的消费被重复扣了两回",
            "同样的账单被划了两次钱，麻烦退一笔",
            "刷一次卡出了两条扣款记录",
        ],
        "t_order_revoked": [
            "订单撤销后扣的{amt}退不退",
            "我把{merchant}的单子取消了，钱怎么处理",
            "撤单了但款项没有返还",
        ],
        "t_wrong_fee": [
            "误收的{amt}服务费请返还",
            "莫名多了一笔账户管理费，能退掉吗",
            "乱收的年费给我退回来",
        ],
        "t_english_refund": [
            "Can I get my money back for a cancelled order",
            "the merchant refunded me but I haven't received it",
            "refund咋还没到",
            "where is my refund",
        ],
        "t_refund_processing": [
            "退款卡在处理中好几天了",
            "退款状态一直显示处理中是什么意思",
            "退款审核要多久",
        ],
        "t_return_product": [
            "{product}不想要了，退了之后钱退到哪",
            "{product}有质量问题退回去了，啥时候退钱",
            "{product}退了，钱能退回原卡吗",
        ],
        "t_charged_failed": [
            "扣了款但交易没成功，钱能回来吗",
            "支付显示失败可是{amt}已经扣了",
            "取款机没吐钱但扣款了",
        ],
        "t_deposit_back": [
            "押金退还要多久",
            "{merchant}的押金一直不退给我",
            "预授权押金还冻着没退",
        ],
        "t_wrong_amount": [
            "这笔退款金额少退了",
            "退给我的钱跟付的对不上",
            "退款少了{amt}",
        ],
    },
    "balance": {
        "t_account_money": [
            "账上还有多少钱",
            "帮我看看账户里剩余金额",
            "户头里还剩多少",
        ],
        "t_remaining_credit": [
            "这张{card}的剩余额度还有多少",
            "本月能用的信用额度还剩多少",
            "额度还够用吗，剩多少",
        ],
        "t_after_pay": [
            "{salary}打进来以后我一共有多少",
            "发薪后卡内余额多少",
            "{salary}到了，现在账户总共多少钱",
        ],
        "t_english_balance": [
            "My balance please",
            "how much is left in my savings account",
            "我的account里还剩多少",
            "balance是多少啊",
        ],
        "t_affordability": [
            "付{amt}的话卡里的钱够用吗",
            "这点钱够不够我付{amt}",
            "卡内余额能付得起{amt}吗",
        ],
        "t_spendable": [
            "想知道现在能花的钱有多少",
            "能用的钱还剩多少",
            "还能花多少",
        ],
        "t_plain_balance": [
            "余额是多少呢",
            "看一下余额",
            "余额给我报一下",
        ],
        "t_app_balance": [
            "{app}里显示的余额准不准",
            "用{app}查余额的方法",
            "{app}上余额怎么查",
        ],
        "t_left_after_buy": [
            "消费完{amt}卡里还剩多少",
            "买完{product}以后还剩多少钱",
            "付了{amt}之后账户还剩几多",
        ],
        "t_spare_money": [
            "零钱不多了吧？查下我账户",
            "工资卡里还有余钱吗",
            "卡内剩余金额查询",
        ],
    },
    "card_lost": {
        "t_cant_find": [
            "我那张{card}找不着了",
            "{card}遗失了",
            "我的{card}不知道丢哪了",
        ],
        "t_report": [
            "办理挂失",
            "要给卡报失",
            "{card}申请报失",
        ],
        "t_machine_ate": [
            "自动取款机没把卡吐出来",
            "卡被柜员机吃了",
            "柜员机把卡吞进去不还了",
        ],
        "t_english_lost": [
            "my debit card got lost",
            "lost my wallet with all my cards",
            "卡lost了咋办",
            "need to report a lost card",
        ],
        "t_lock_lost": [
            "卡不见了，麻烦帮我锁一下",
            "请临时锁定我的{card}，弄丢了",
            "丢卡了，先给锁上",
        ],
        "t_remake": [
            "丢失的卡能重新做一张吗",
            "卡没了，要重办一张",
            "遗失的{card}怎么重新申领",
        ],
        "t_pickpocket": [
            "包被人顺走了，{card}在里面",
            "被扒手偷了钱包，卡也没了",
            "手提包被抢了，卡在包里",
        ],
        "t_money_safe": [
            "卡弄丢了，里头的钱安全吗",
            "丢卡了，里面存款会受影响吗",
            "卡丢了钱会不会被取走",
        ],
        "t_lost_at_place": [
            "{time}在{place}把卡搞丢了",
            "卡好像遗落在{place}了",
            "{place}那边卡弄丢了",
        ],
        "t_found_again": [
            "丢了的卡又找到了，还能用吗",
            "挂失后卡找回来了怎么恢复",
            "报失的卡找着了，要怎么解除",
        ],
    },
    "other": {
        "t_business_hours": [
            "营业时间是几点到几点", "节假日网点开不开", "星期天你们上班吗",
        ],
        "t_borrow": [
            "想借一笔钱装修，有什么贷款", "信用贷的利息怎么算", "车贷怎么办",
        ],
        "t_fx": [
            "人民币兑英镑现在多少", "exchange rate for USD today?", "澳元汇率怎么样",
        ],
        "t_phone_update": [
            "手机号码换了，要更新绑定", "预留号码不用了，要换新的", "绑定的手机号怎么换",
        ],
        "t_pin_reset": [
            "密码记不起来了", "重置登录密码的步骤", "取款密码想换一个",
        ],
        "t_nearest_branch": [
            "离{district}最近的支行地址", "你们在{district}有营业厅吗", "{district}哪里有ATM",
        ],
        "t_service_complaint": [
            "大堂经理服务很敷衍，我要反映", "I want to complain about the teller", "客服态度真差",
        ],
        "t_house_loan": [
            "房子按揭每月还款能调整吗", "二套房首付比例是多少", "按揭贷款能贷几年",
        ],
        "t_chitchat": [
            "在吗在吗", "你能听懂我说话吗", "辛苦了，没别的事了", "hello在不在",
        ],
        "t_apply_card": [
            "申请一张新的联名卡", "卡快到期了会自动寄新卡吗", "想再办一张副卡",
        ],
        "t_credit_admin": [
            "额度能不能提一提", "信用卡还款日是哪天", "最低还款额是多少",
        ],
    },
}

# Extra rows with labels outside LABELS (train only).
UNKNOWN_LABEL_ROWS = [
    ("我想咨询一下装修贷款的利率", "loan_inquiry"),
    ("经营贷审批要多久", "loan_inquiry"),
    ("信用卡额度能不能提高到五万", "credit_limit_raise"),
    ("申请临时提额", "credit_limit_raise"),
    ("今天日元兑人民币汇率多少", "exchange_rate"),
    ("换点港币要去哪个网点", "exchange_rate"),
    ("柜员办事太慢了，我要投诉", "complaint"),
    ("客服电话一直打不通，太气人了", "complaint"),
    ("想开一个新的储蓄账户", "account_opening"),
    ("Can I open an account online?", "account_opening"),
    ("给我妈跨行转账两千", "transfer"),
    ("How long does an international transfer take?", "transfer"),
]

# --------------------------------------------------------------------------
# Decoration pools (label-agnostic, shared by both splits).
# --------------------------------------------------------------------------
ZH_PREFIXES = [
    "你好，", "您好，", "请问", "请问一下，", "麻烦问下，", "麻烦帮我看下，", "客服，",
    "在吗？", "打扰一下，", "人工，", "银行客服你好，", "早上好，",
    "咨询一下，", "喂，", "你好啊，", "麻烦你，", "急！", "客服在吗，",
]
ZH_FILLERS = ["那个", "就是", "呃", "嗯", "那个啥，", "就是说", "额"]
ZH_SUFFIXES = [
    "，谢谢", "谢谢", "，麻烦了", "，急", "，在线等", "，求助", "，好烦", "，麻烦尽快",
    "。谢谢！", "，快点", "，帮帮我",
]
ZH_PARTICLES = ["啊", "呢", "呀", "哈", "啦"]
ZH_ENDINGS = ["", "", "", "？", "?", "。", "！", "!!", "…", "~", "？？", "。。"]
EN_PREFIXES = ["hi, ", "hello, ", "hey ", "excuse me, ", "Hi "]
EN_SUFFIXES = [" please", " thanks", ", thank you", " asap", " pls"]
EN_ENDINGS = ["", "", "?", ".", "!", "??"]

HOMOPHONES = {
    "退款": ["退宽", "推款", "退歀"],
    "余额": ["于额", "鱼额", "余鹅"],
    "挂失": ["挂是", "卦失", "挂湿"],
    "诈骗": ["炸骗", "诈片"],
    "账户": ["帐户"],
    "信用卡": ["信用咔", "信用k"],
    "银行": ["银航"],
    "密码": ["密马"],
    "多少": ["多小", "多稍"],
    "怎么": ["咋么", "怎莫", "怎么么"],
    "什么": ["神马", "什莫"],
    "到账": ["倒账", "到帐"],
    "验证码": ["验正码", "验证吗"],
    "盗刷": ["道刷", "盗涮"],
    "冻结": ["冻洁"],
    "丢了": ["丢拉", "丟了"],
    "还没": ["还木"],
    "能不能": ["能部能"],
    "是不是": ["事不是"],
    "工资": ["公资"],
    "取款机": ["取款鸡"],
}

EN_SWAPS = [
    ("信用卡", ["credit card", "信用card"]),
    ("银行卡", ["bank card", "银行card"]),
    ("退款", ["refund"]),
    ("余额", ["balance", "余额balance"]),
    ("账户", ["account", "账户account"]),
    ("密码", ["password", "密码password"]),
    ("验证码", ["验证code", "OTP"]),
    ("短信", ["SMS", "message"]),
    ("诈骗", ["scam", "诈骗scam"]),
    ("骗子", ["scammer", "骗子scammer"]),
    ("额度", ["limit", "credit limit"]),
    ("挂失", ["挂失report loss", "block"]),
    ("卡", ["card"]),
    ("手机银行", ["手机银行app", "mobile banking"]),
    ("订单", ["order", "订单order"]),
    ("转账", ["transfer", "转账transfer"]),
]
EN_TAGS_PRE = ["hi，", "hello，", "sorry，", "ok，", "hey，"]
EN_TAGS_POST = [" pls", " help", " thx", " asap", "，ok?", " thanks"]

P_PREFIX = 0.30
P_FILLER = 0.10
P_SUFFIX = 0.20
P_PARTICLE = 0.12
P_COMMA = 0.20
P_TYPO = 0.11
P_ENGLISH = 0.06

SLOT_RE = re.compile(r"\{(\w+)\}")
ASCII_RE = re.compile(r"[A-Za-z]")
NORM_RE = re.compile(r"[\s，,。.？?！!~～…、：:；;\"'“”‘’]+")


def has_english(text):
    return bool(ASCII_RE.search(text))


def mostly_english(text):
    letters = len(ASCII_RE.findall(text))
    return letters >= 0.5 * len(text.replace(" ", ""))


def normalise(text):
    return NORM_RE.sub("", text).lower()


def slot_pool(split, name):
    if name in SHARED_SLOTS:
        return SHARED_SLOTS[name]
    if name == "amt":
        return None
    return SPLIT_SLOTS[split][name]


def fill(template, split, rng):
    def repl(m):
        name = m.group(1)
        if name == "amt":
            n = rng.choice(SPLIT_SLOTS[split]["amt_n"])
            fmt = rng.choice(AMT_FORMATS)
            if not n.isascii():          # Chinese numerals read better with 块
                fmt = rng.choice(["{n}块", "{n}块钱", "{n}元"])
            return fmt.format(n=n)
        return rng.choice(slot_pool(split, name))
    return SLOT_RE.sub(repl, template)


def strip_end(text):
    return text.rstrip("？?。.！!~～… ")


def add_typo(text, rng):
    keys = [k for k in HOMOPHONES if k in text]
    r = rng.random()
    if keys and r < 0.7:
        k = rng.choice(keys)
        return text.replace(k, rng.choice(HOMOPHONES[k]), 1)
    idx = [i for i, ch in enumerate(text) if "\u4e00" <= ch <= "\u9fff"]
    if len(idx) < 5:
        return text
    i = rng.choice(idx[1:])
    if r < 0.85:
        return text[:i] + text[i + 1:]          # dropped character
    return text[:i] + text[i] + text[i:]         # doubled character


def add_english(text, rng):
    swaps = [(zh, en) for zh, en in EN_SWAPS if zh in text]
    if swaps and rng.random() < 0.8:
        zh, ens = rng.choice(swaps)
        en = rng.choice(ens)
        return text.replace(zh, en if zh == "卡" else " " + en + " ", 1).replace("  ", " ").strip()
    if rng.random() < 0.5:
        return rng.choice(EN_TAGS_PRE) + text
    return strip_end(text) + rng.choice(EN_TAGS_POST)


def decorate(core, rng):
    if mostly_english(core):
        text = strip_end(core)
        endings = EN_ENDINGS
        if rng.random() < 0.25:
            text = rng.choice(EN_PREFIXES) + text[0].lower() + text[1:]
        if rng.random() < 0.2:
            text += rng.choice(EN_SUFFIXES)
            endings = ["", ".", "!"]
        if rng.random() < 0.3:
            text = text.lower()
        if rng.random() < 0.06:
            text = add_typo(text, rng)
        return text + rng.choice(endings)

    text = strip_end(core)
    if rng.random() < P_COMMA and "，" in text:
        text = text.replace("，", rng.choice([" ", ",", "。", "，，", ""]))
    if rng.random() < P_FILLER:
        text = rng.choice(ZH_FILLERS) + text
    if rng.random() < P_PREFIX:
        text = rng.choice(ZH_PREFIXES) + text
    if rng.random() < P_TYPO:
        text = add_typo(text, rng)
    if rng.random() < P_ENGLISH:
        text = add_english(text, rng)
    if rng.random() < P_SUFFIX:
        text = strip_end(text) + rng.choice(ZH_SUFFIXES)
    elif (rng.random() < P_PARTICLE and "\u4e00" <= text[-1] <= "\u9fff"
          and text[-1] not in "吗呢啊吧呀哈啦么"):
        text = text + rng.choice(ZH_PARTICLES)
    return strip_end(text) + rng.choice(ZH_ENDINGS)


def allocate(n, families, rng):
    names = list(families)
    weights = [rng.uniform(0.6, 1.4) * (1 + 0.15 * len(families[f])) for f in names]
    total = sum(weights)
    counts = {f: max(1, int(n * w / total)) for f, w in zip(names, weights)}
    while sum(counts.values()) < n:
        counts[rng.choice(names)] += 1
    while sum(counts.values()) > n:
        f = rng.choice(names)
        if counts[f] > 1:
            counts[f] -= 1
    return counts


def generate(split, label, n, rng, forbidden_norm, forbidden_cores):
    families = (TRAIN_FAMILIES if split == "train" else TEST_FAMILIES)[label]
    counts = allocate(n, families, rng)
    rows, seen_norm, core_uses = [], set(), Counter()

    def try_family(fam, budget):
        made = 0
        for _ in range(400 * budget):
            if made == budget:
                break
            core = fill(rng.choice(families[fam]), split, rng)
            if core_uses[core] >= MAX_CORE_REUSE or core in forbidden_cores:
                continue
            text = decorate(core, rng)
            norm = normalise(text)
            if not (MIN_LEN <= len(text) <= MAX_LEN) or len(norm) < MIN_LEN - 1:
                continue
            if norm in seen_norm or norm in forbidden_norm:
                continue
            seen_norm.add(norm)
            core_uses[core] += 1
            rows.append({"text": text, "label": label,
                         "family": f"{label}/{split}/{fam}", "core": core})
            made += 1
        return made

    deficit = 0
    for fam in families:
        deficit += counts[fam] - try_family(fam, counts[fam])
    names = list(families)
    guard = 0
    while deficit > 0:
        deficit -= try_family(rng.choice(names), 1)
        guard += 1
        assert guard < 10000, f"cannot fill {label}/{split}"
    assert len(rows) == n
    return rows


def check_families():
    for label in LABELS:
        assert set(TRAIN_FAMILIES[label]).isdisjoint(TEST_FAMILIES[label])
        tr = {t for ts in TRAIN_FAMILIES[label].values() for t in ts}
        te = {t for ts in TEST_FAMILIES[label].values() for t in ts}
        all_tr = {t for lab in LABELS for ts in TRAIN_FAMILIES[lab].values() for t in ts}
        assert not (te & all_tr), f"template shared between splits: {te & all_tr}"
        assert len(TRAIN_FAMILIES[label]) >= 25, label
        assert len(TEST_FAMILIES[label]) >= 8, label
    for name, pool in SPLIT_SLOTS["train"].items():
        overlap = set(pool) & set(SPLIT_SLOTS["test"][name])
        assert not overlap, f"slot pool {name} shared: {overlap}"


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"], "label": r["label"]},
                               ensure_ascii=False) + "\n")


def main():
    check_families()
    rng = random.Random(SEED)

    train = []
    for label in LABELS:
        train += generate("train", label, N_TRAIN_PER_LABEL, rng, set(), set())
    train_norm = {normalise(r["text"]) for r in train}
    train_cores = {r["core"] for r in train}

    test = []
    for label in LABELS:
        test += generate("test", label, N_TEST_PER_LABEL, rng, train_norm, train_cores)

    # ---- assertions -----------------------------------------------------
    train_texts = [r["text"] for r in train]
    test_texts = [r["text"] for r in test]
    assert len(set(train_texts)) == len(train_texts), "duplicate text in train"
    assert len(set(test_texts)) == len(test_texts), "duplicate text in test"
    assert not set(test_texts) & set(train_texts), "test text appears in train"
    assert not {normalise(t) for t in test_texts} & train_norm
    assert not {r["core"] for r in test} & train_cores
    train_fams = {r["family"] for r in train}
    assert all(r["family"] not in train_fams for r in test), "family shared"
    assert Counter(r["label"] for r in train) == {l: N_TRAIN_PER_LABEL for l in LABELS}
    assert Counter(r["label"] for r in test) == {l: N_TEST_PER_LABEL for l in LABELS}

    extra = [{"text": t, "label": l} for t, l in UNKNOWN_LABEL_ROWS]
    assert all(l not in LABELS for _, l in UNKNOWN_LABEL_ROWS)
    known = set(train_texts) | set(test_texts)
    assert not any(e["text"] in known for e in extra)

    rng.shuffle(train)
    rng.shuffle(test)
    train_out = train + extra
    rng.shuffle(train_out)

    write_jsonl(os.path.join(HERE, "train.jsonl"), train_out)
    write_jsonl(os.path.join(HERE, "test.jsonl"), test)

    # ---- summary --------------------------------------------------------
    for split, rows in (("train", train), ("test", test)):
        en = sum(has_english(r["text"]) for r in rows) / len(rows)
        lens = [len(r["text"]) for r in rows]
        fams = Counter()
        for lab in LABELS:
            fams[lab] = len({r["family"] for r in rows if r["label"] == lab})
        print(f"{split}: {len(rows)} rows, english {en:.1%}, "
              f"len {min(lens)}-{max(lens)} (mean {sum(lens) / len(lens):.1f}), "
              f"families {dict(fams)}")
    print(f"train.jsonl: {len(train_out)} lines ({len(extra)} unknown-label rows)")


if __name__ == "__main__":
    main()
