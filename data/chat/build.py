"""Deterministic generator for the e-commerce title -> core product name dataset (for the
business Q&A tutorial's cloud half).

Format (Alibaba Bailian / OpenAI chat ``messages``), one JSON object per line:

    {"messages": [{"role": "system", "content": SYSTEM_PROMPT},
                  {"role": "user", "content": "<long e-commerce title>"},
                  {"role": "assistant", "content": "<core product name>"}]}

About 10% of the rows are two-turn: after the first answer the user sends another title (bare,
or as "再提取一个：<title>" and similar) and the assistant answers again.

How titles are made
-------------------
Every title is synthetic.  TRAIN_CATEGORIES and TEST_ONLY_CATEGORIES list, per product
category: the core product name (a short generic noun phrase such as 蓝牙耳机 or 保温杯; the
answer), a kind (electronics, appliance, home, clothing, shoes, bags, beauty, food, pet, baby,
sport, office), brands, category-specific attributes and specs.  A title is one of several templates that put the product at the start,
the middle or the end, filled with a brand, a generated model number, attributes (sometimes
glued to the product: 主动降噪蓝牙耳机), specs, colours, audience words (男女同款, 学生党, ...)
and marketing words (【官方正品】, 2024新款, 包邮, 限时秒杀, ...).  The answer is always the
category's core product name, which appears verbatim in the title; no title contains the core
product name of another category.

Split
-----
* Train: 300 rows (30 two-turn) over the TRAIN categories, using the train part of each
  category's brands and specs.
* Test: 80 rows (8 two-turn).  54 rows (5 two-turn) use TRAIN categories but only the test part
  of their brands and specs (brands and specs disjoint from train for the category); 26 rows
  (3 two-turn) use TEST_ONLY categories that never appear in train, to measure extraction
  rather than recall.  All titles of a test row come from the same group.
* No title (even ignoring spaces and case) appears in both files.

Run:  python3 data/chat/build.py   (standard library only; byte-identical output on every run)
"""

import json
import os
import random
import re
from collections import Counter

SEED = 20240612
HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PROMPT = "你是电商商品信息抽取助手。请从用户给出的商品标题中提取核心商品名称，只输出名称本身。"
N_TRAIN, N_TRAIN_TWO_TURN = 300, 30
N_TEST_SEEN, N_TEST_SEEN_TWO_TURN = 54, 5
N_TEST_NEW, N_TEST_NEW_TWO_TURN = 26, 3
MIN_LEN, MAX_LEN = 25, 60
N_TEST_BRANDS = 2            # per train category, the last 2 brands are kept for test

# --------------------------------------------------------------------------
# Categories: product|kind|brands|attributes|specs   (lists are comma-separated)
# --------------------------------------------------------------------------
TRAIN_CATEGORIES = """
蓝牙耳机|elec|Apple/苹果,漫步者EDIFIER,SONY索尼,QCY,倍思Baseus,华为HUAWEI|主动降噪,入耳式,半入耳式,超长续航,游戏低延迟,运动防汗,HiFi音质,无线|蓝牙5.3,Type-C快充,续航40小时,IPX5防水,双设备连接,单耳仅4g
机械键盘|elec|罗技Logitech,达尔优,雷蛇Razer,ikbc,Cherry樱桃,黑峡谷|RGB背光,热插拔,三模,有线,无线,电竞游戏,客制化,办公|87键,104键,青轴,红轴,茶轴,68键
无线鼠标|elec|罗技Logitech,雷柏Rapoo,微软Microsoft,绿联UGREEN,联想Lenovo,惠普HP|静音,蓝牙双模,可充电,人体工学,轻量化,办公|2400DPI,Type-C充电,2.4G接收器,续航90天,带侧键
充电宝|elec|Anker安克,小米,罗马仕ROMOSS,倍思Baseus,绿联UGREEN,紫米ZMI|超薄,快充,磁吸,大容量,便携,可带上飞机|10000毫安,20000mAh,22.5W,PD20W,自带双线
手机壳|elec|ESCASE,图拉斯TORRAS,邦克仕Benks,闪魔,亿色ESR,犀牛盾|适用iPhone15,适用华为Mate60,磁吸,全包防摔,透明,液态硅胶|Pro Max,6.7英寸,MagSafe,镜头全包
智能手表|elec|华为HUAWEI,Apple/苹果,小米,华米Amazfit,佳明Garmin,OPPO|血氧监测,心率,运动,NFC,蓝牙通话,长续航,防水|Watch GT4,S9,46mm,1.43英寸AMOLED,eSIM,14天续航
笔记本电脑|elec|联想Lenovo,戴尔DELL,华硕ASUS,机械革命,惠普HP,华为HUAWEI|轻薄,游戏本,商务办公,高性能,学生,全面屏|i5-13500H,16G+512G,RTX4060,14英寸,2.8K屏,Ryzen7
显示器|elec|AOC,戴尔DELL,三星SAMSUNG,LG,小米,飞利浦PHILIPS|电竞,高刷,护眼,IPS,曲面,升降旋转|27英寸,2K,4K,165Hz,144Hz,1ms,Type-C 65W
路由器|elec|TP-LINK,华为HUAWEI,小米,华硕ASUS,中兴ZTE,锐捷|千兆,双频,穿墙王,Mesh组网,家用,大户型|WiFi6,AX3000,5G双频,2.5G网口,AX1500
蓝牙音箱|elec|JBL,小米,漫步者EDIFIER,哈曼卡顿,Marshall马歇尔,SONY索尼|便携,户外,重低音,防水,迷你,桌面,复古|IP67,续航24小时,蓝牙5.3,20W,TWS互联
移动硬盘|elec|西部数据WD,希捷Seagate,东芝TOSHIBA,闪迪SanDisk,三星SAMSUNG,忆捷EAGET|高速,加密,机械,固态,便携,金属|1TB,2TB,4TB,USB3.0,Type-C,500GB
U盘|elec|闪迪SanDisk,金士顿Kingston,爱国者aigo,朗科Netac,雷克沙Lexar,东芝TOSHIBA|高速,金属,双接口,迷你,车载,学生,刻字|64G,128G,256G,USB3.2,Type-C双头,32GB
投影仪|elec|极米XGIMI,当贝Dangbei,坚果JMGO,小米,明基BenQ,哈趣|家用,卧室,高清,智能,便携,自动对焦|1080P,4K,1200ANSI流明,激光光源,安卓系统
行车记录仪|elec|70迈,360,盯盯拍,小米,凌度,善领|高清夜视,前后双录,免走线,停车监控,语音声控,隐藏式|4K,2K,1600P,送32G卡,WiFi互联
游戏手柄|elec|北通BETOP,八爪鱼,盖世小鸡,飞智,微软Xbox,索尼PS5|无线,有线,蓝牙,震动,体感,霍尔摇杆,PC电脑|Switch,Steam,安卓iOS,宏定义,六轴陀螺仪
电动牙刷|appl|飞利浦PHILIPS,欧乐B Oral-B,usmile,舒客Saky,小米,徕芬|声波,成人,情侣款,软毛,智能提醒,美白,防水|IPX7,5种模式,续航60天,HX6730,送4个刷头
电吹风|appl|戴森Dyson,徕芬Laifen,松下Panasonic,飞科FLYCO,飞利浦PHILIPS,追觅|高速,负离子,护发,大功率,静音,速干,宿舍用|1800W,11万转,恒温,HD08,可折叠
空气炸锅|appl|美的Midea,九阳Joyoung,苏泊尔SUPOR,小熊Bear,飞利浦PHILIPS,利仁|家用,可视,多功能,大容量,无油,智能|5L,6.5L,4.5升,1400W,双层烤架
电饭煲|appl|美的Midea,苏泊尔SUPOR,九阳Joyoung,象印ZOJIRUSHI,虎牌TIGER,东芝TOSHIBA|IH加热,家用,智能预约,多功能,迷你,柴火饭|3L,4升,5L,1-2人,球釜内胆
扫地机器人|appl|石头Roborock,科沃斯ECOVACS,追觅Dreame,云鲸Narwal,小米,iRobot|扫拖一体,自动集尘,全自动,激光导航,洗地,智能|T20,6000Pa吸力,自清洁,AI避障,上下水
加湿器|appl|美的Midea,小熊Bear,德尔玛Deerma,亚都YADU,小米,352|静音,卧室,大雾量,上加水,办公室,无雾,香薰|4L,5升,UV除菌,恒湿,桌面款
空气净化器|appl|小米,352,飞利浦PHILIPS,IQAir,霍尼韦尔Honeywell,美的Midea|除甲醛,除异味,宠物,家用,卧室,负离子|CADR 500,HEPA滤网,H13级,除菌,智能APP
电热水壶|appl|美的Midea,苏泊尔SUPOR,九阳Joyoung,小熊Bear,北鼎Buydeem,摩飞|304不锈钢,家用,恒温,保温,防烫,自动断电|1.5L,1.7升,1800W,316内胆,6档控温
破壁机|appl|九阳Joyoung,美的Midea,苏泊尔SUPOR,小熊Bear,摩飞,奥克斯AUX|家用,静音,多功能,免滤,加热,豆浆,辅食|1.75L,8叶刀,预约,1200W,低音款
剃须刀|appl|飞利浦PHILIPS,博朗Braun,小米,飞科FLYCO,松下Panasonic,须眉|电动,男士,往复式,旋转式,全身水洗,便携|三刀头,S5000,Type-C充电,续航60天,礼盒装
保温杯|home|膳魔师THERMOS,象印ZOJIRUSHI,富光,哈尔斯HAERS,虎牌TIGER,物生物|316不锈钢,大容量,便携,女士,男士,儿童,吸管,茶水分离|500ml,1000ml,350ml,12小时保温,带刻度
不粘锅|home|苏泊尔SUPOR,炊大皇,爱仕达ASD,双立人ZWILLING,美的Midea,康宁|麦饭石色,家用,平底,少油烟,燃气电磁炉通用,轻量|28cm,32cm,30厘米,带锅盖,钛晶涂层
收纳箱|home|禧天龙Citylong,茶花CHAHUA,百露,爱丽思IRIS,佳帮手,家の物语|加厚,塑料,大号,衣物,可折叠,带轮,透明|60L,80升,3个装,特大号,带盖
四件套|home|罗莱LUOLAI,水星家纺,富安娜,梦洁MENDALE,无印良品MUJI,博洋|纯棉,全棉,ins风,简约,水洗棉,公主风|1.5m床,1.8m床,200x230cm,40支,60支长绒棉
枕头|home|慕思DeRUCCI,水星家纺,富安娜,亚朵,网易严选,邓禄普Dunlopillo|乳胶,护颈椎,助睡眠,单人,记忆棉,低枕,成人|一对装,60x40cm,48x74cm,高低枕,单只装
毛巾|home|洁丽雅Grace,金号KINGSHORE,三利,孚日,最生活,内野UCHINO|纯棉,吸水,不掉毛,加厚,A类,成人,情侣|34x76cm,3条装,长绒棉,120g
台灯|home|松下Panasonic,飞利浦PHILIPS,明基BenQ,欧普OPPLE,雷士NVC,孩视宝|护眼,LED,学习,书桌,宿舍,充电,国AA级|全光谱,无频闪,三档调光,USB供电,夹子款
床垫|home|喜临门,慕思DeRUCCI,金可儿,丝涟Sealy,穗宝,顾家家居|乳胶,独立弹簧,椰棕,软硬两用,护脊,可折叠|1.5x2m,1.8米,20cm厚,榻榻米,5D独袋
拖把|home|美丽雅,妙洁,3M思高,好媳妇,家杰优品,茶花CHAHUA|免手洗,平板,旋转,家用,吸水,懒人|一拖净,配3块布,360度,不锈钢杆,大号
雨伞|home|天堂伞,蕉下BANANAUNDER,红叶,C'mon,美度,UV100|晴雨两用,折叠,防晒,自动,黑胶,超轻,大号|三折,十骨,UPF50+,自动开收,加固
连衣裙|cloth|ONLY,太平鸟PEACEBIRD,UR,欧时力Ochirly,Vero Moda,伊芙丽|法式,碎花,收腰,显瘦,长款,气质,小众,赫本风|夏季,雪纺,S-XL,中长款,V领
羽绒服|cloth|波司登BOSIDENG,鸭鸭YAYA,雪中飞,优衣库UNIQLO,坦博尔,高梵|白鸭绒,短款,长款,加厚,连帽,轻薄,面包服|90绒,250g充绒,冬季,防风,可拆帽
卫衣|cloth|李宁LI-NING,安踏ANTA,Champion,特步XTEP,HLA海澜之家,森马Semir|连帽,宽松,加绒,oversize,情侣,圆领,美式|重磅,纯棉,秋冬,M-3XL,拉链开衫
牛仔裤|cloth|Levi's李维斯,Lee,优衣库UNIQLO,杰克琼斯JACKJONES,太平鸟PEACEBIRD,森马Semir|直筒,阔腿,高腰,修身,破洞,宽松,小脚|弹力,水洗,九分,501,26-34码
T恤|cloth|优衣库UNIQLO,Nike耐克,adidas阿迪达斯,HLA海澜之家,真维斯,GAP|纯棉,短袖,圆领,宽松,印花,百搭,oversize|夏季,重磅250g,M-4XL,速干,冰丝
运动鞋|shoe|Nike耐克,adidas阿迪达斯,李宁LI-NING,安踏ANTA,New Balance,特步XTEP|跑步,减震,透气,轻便,休闲,网面|36-45码,气垫,回弹,防滑,飞织
帆布鞋|shoe|匡威Converse,回力WARRIOR,VANS,飞跃Feiyue,人本,Keds|高帮,低帮,经典,百搭,学生,硫化|35-44码,1970s,帆布面,橡胶底,厚底
冲锋衣|cloth|始祖鸟ARC'TERYX,凯乐石KAILAS,骆驼CAMEL,探路者TOREAD,北面The North Face,伯希和|三合一,防水,防风,户外,登山,可拆卸,硬壳|Gore-Tex,抓绒内胆,秋冬,M-4XL,加厚
衬衫|cloth|雅戈尔YOUNGOR,海澜之家HLA,G2000,报喜鸟,衣品天成,罗蒙ROMON|长袖,免烫,商务,修身,白色,条纹,纯棉|38-45码,抗皱,正装,牛津纺,法式袖
双肩包|bag|新秀丽Samsonite,小米,SWISSGEAR,卡拉羊,Jansport杰斯伯,北面The North Face|电脑,大容量,防水,通勤,学生,旅行|15.6英寸,USB充电口,30L,防泼水,多隔层
行李箱|bag|新秀丽Samsonite,美旅AmericanTourister,小米90分,外交官Diplomat,不莱玫,卡拉羊|拉杆,万向轮,登机,铝框,静音,大容量|20寸,24寸,28寸,PC材质,TSA海关锁
袜子|cloth|南极人,浪莎,猫人,棉本,蕉内Bananain,恒源祥|纯棉,中筒,短款,防臭,吸汗,运动|5双装,10双装,秋冬,精梳棉,加厚毛圈
瑜伽裤|cloth|lululemon,Keep,暴走的萝莉,MAIAACTIVE,粒子狂热,adidas阿迪达斯|高腰,提臀,裸感,紧身,健身,跑步,九分|XS-XL,夏季,无尴尬线,速干,带口袋
口红|beauty|迪奥Dior,圣罗兰YSL,阿玛尼Armani,完美日记,花西子,MAC魅可|丝绒,哑光,滋润,显白,不掉色,小金条,雾面|999,#1966,3.5g,正红色,豆沙色,礼盒
洗面奶|beauty|芙丽芳丝Freeplus,珂润Curel,理肤泉,旁氏POND'S,至本,薇诺娜|氨基酸,温和,深层清洁,控油,补水,敏感肌,男士|100g,150ml,绵密泡沫,祛痘,去黑头
面膜|beauty|可复美,润百颜,敷尔佳,薇诺娜,美迪惠尔Mediheal,SK-II|补水,保湿,修护,敏感肌,贴片,舒缓,涂抹式|10片,25ml,玻尿酸,胶原蛋白,烟酰胺
防晒霜|beauty|安热沙ANESSA,资生堂,碧柔Biore,理肤泉,怡思丁ISDIN,薇诺娜|小金瓶,清爽,防水防汗,户外,军训,全身,面部|SPF50+,PA++++,60ml,90g,隔离
洗发水|beauty|海飞丝,潘婷,清扬CLEAR,阿道夫ADOLPH,吕Ryo,卡诗KERASTASE|去屑,控油,蓬松,止痒,无硅油,修护,男士|500ml,750g,持久留香,氨基酸,800ml
猫粮|pet|皇家ROYAL CANIN,渴望ORIJEN,网易严选,麦富迪,伯纳天纯,诚实一口|全价,成猫,幼猫,无谷,冻干,鲜肉,增肥发腮|2kg,10kg,1.5kg,英短美短,20斤
狗粮|pet|皇家ROYAL CANIN,冠能PRO PLAN,比瑞吉,麦富迪,伯纳天纯,耐威克|全价,成犬,幼犬,小型犬,大型犬,泰迪,金毛|2.5kg,10kg,15kg,牛肉味,美毛
猫砂|pet|pidan,洁客Drymax,许翠花,N1,福丸,CATURE小壳|豆腐,膨润土,混合,除臭,无尘,结团快,可冲厕所|6L,10kg,2.4kg,20斤,活性炭
纸尿裤|baby|帮宝适Pampers,花王Merries,好奇Huggies,大王GOO.N,babycare,尤妮佳MOONY|超薄,透气,婴儿,新生儿,夜用,干爽|NB码,S码,M码,L码,XL码,84片
奶瓶|baby|贝亲Pigeon,可么多么Comotomo,NUK,Hegen,世喜,babycare|宽口径,玻璃,PPSU,防胀气,新生儿,硅胶,防摔|160ml,240ml,330ml,带吸管,0-6个月
积木|baby|乐高LEGO,布鲁可Blokees,森宝,星堡,启蒙Enlighten,费雪Fisher-Price|拼装,益智,大颗粒,男孩,女孩,儿童玩具,科技|3-6岁,6岁+,城市系列,1000+颗粒,礼盒装
瑜伽垫|sport|Keep,lululemon,李宁LI-NING,迪卡侬DECATHLON,Liforme,奥义|防滑,加厚,加宽,初学者,TPE,天然橡胶,静音|6mm,10mm,183x61cm,185cm,双面
跳绳|sport|Keep,李宁LI-NING,迪卡侬DECATHLON,凯速,得力deli,小米|计数,负重,钢丝,无绳,健身,中考,竞速|智能计数,可调节,3米,轴承,防缠绕
哑铃|sport|迪卡侬DECATHLON,Keep,威尔胜Wilson,舒华SHUA,莫比MERACH,凯速|可调节,包胶,男士,家用,健身,女士,六角|10kg,20公斤,5kg一对,电镀,40kg套装
羽毛球拍|sport|尤尼克斯YONEX,李宁LI-NING,威克多VICTOR,川崎KAWASAKI,亚狮龙RSL,凯胜|全碳素,超轻,进攻型,单拍,双拍,专业级,初学者|4U,5U,28磅,已穿线,碳纤维
中性笔|office|晨光M&G,得力deli,百乐PILOT,斑马ZEBRA,三菱uni,齐心Comix|速干,按动,学生,考试,办公,大容量,顺滑|0.5mm,0.38mm,黑色,12支装,子弹头
咖啡豆|food|星巴克Starbucks,Seesaw,三顿半,隅田川,雀巢Nestle,辛鹿|意式,中度烘焙,深烘,阿拉比卡,手冲,新鲜烘焙|454g,1kg,500g,埃塞俄比亚,拼配
螺蛳粉|food|李子柒,好欢螺,螺霸王,柳全,嘻螺会,臭宝|广西柳州,正宗,加辣,酸辣,速食,袋装|5袋,10包,400g,整箱,330g
牛肉干|food|科尔沁,棒棒娃,良品铺子,三只松鼠,牧纯,天莱香|内蒙古,风干,手撕,麻辣,五香,休闲零食|500g,250g,独立包装,1斤,超干
纯牛奶|food|伊利,蒙牛,特仑苏,光明,认养一头牛,安佳Anchor|全脂,早餐,高钙,脱脂,学生,营养|250ml*24盒,整箱,200ml*12,3.6g蛋白,礼盒装
"""

TEST_ONLY_CATEGORIES = """
电子阅读器|elec|Kindle,掌阅iReader,文石BOOX,汉王Hanvon,科大讯飞,墨案|墨水屏,护眼,便携,看书,读书,学生|6英寸,7.8英寸,32G,300PPI,带背光
手机支架|elec|绿联UGREEN,倍思Baseus,品胜PISEN,卡斐乐,古尚古,Anker安克|桌面,懒人,车载,可折叠,铝合金,直播,升降|360度旋转,平板通用,磁吸,伸缩,重力感应
打印机|elec|惠普HP,佳能Canon,爱普生EPSON,兄弟Brother,奔图Pantum,得力deli|家用,小型,彩色,黑白,学生作业,办公,无线|喷墨,激光,WiFi,复印扫描一体,连供
洗碗机|appl|西门子SIEMENS,美的Midea,方太FOTILE,海尔Haier,老板Robam,华帝|嵌入式,台式,全自动,家用,热风烘干,除菌|13套,8套,独立式,一级水效,大容量
挂烫机|appl|美的Midea,飞利浦PHILIPS,小熊Bear,苏泊尔SUPOR,SKG,康佳|手持,家用,蒸汽,便携,立式|大蒸汽,1500W,可折叠,即热,双杆
微波炉|appl|格兰仕Galanz,美的Midea,松下Panasonic,东芝TOSHIBA,海尔Haier,西门子SIEMENS|家用,变频,光波,平板式,转盘式,智能|20L,23升,700W,烧烤,一体机
卷发棒|appl|飞利浦PHILIPS,SKG,小米,康夫Kangfu,戴森Dyson,徕芬Laifen|大波浪,负离子,不伤发,自动,陶瓷,懒人,蛋卷头|32mm,28mm,恒温,双电压,便携
除螨仪|appl|莱克LEXY,美的Midea,小米,德尔玛Deerma,苏泊尔SUPOR,追觅|家用,床上,紫外线,小型,手持,无线|UV杀菌,大吸力,12000Pa,热风,拍打
晾衣架|home|好太太,邦先生,晾霸,欧派,禧天龙Citylong,心家宜|落地,折叠,阳台,室内,不锈钢,伸缩,电动|1.6米,加粗,双杆,智能,免安装
垃圾桶|home|拓牛TOWNEW,佳帮手,禧天龙Citylong,EKO宜可,小米,茶花CHAHUA|智能感应,带盖,家用,厨房,卫生间,大号,脚踏|12L,20升,自动打包,不锈钢,夹缝
窗帘|home|伊美尔,简约时代,北极绒,罗莱LUOLAI,布先生,富安娜|遮光,全遮光,卧室,客厅,北欧,隔热,免打孔|成品,定制,2米宽,挂钩式,打孔式
保鲜盒|home|乐扣乐扣LocknLock,特百惠Tupperware,康宁Corning,茶花CHAHUA,格拉斯乐扣,膳魔师THERMOS|玻璃,可微波加热,冰箱,密封,耐热,带盖|3件套,1000ml,长方形,分隔,便当
香薰蜡烛|home|野兽派,Diptyque,观夏,Yankee Candle扬基,气味图书馆,Jo Malone|无烟,卧室,助眠,伴手礼,大豆蜡,ins风|200g,玻璃杯,礼盒,香柠檬,檀木
棒球帽|cloth|MLB,New Era,Nike耐克,NY,李宁LI-NING,卡蔓|遮阳,男女同款,软顶,硬顶,刺绣,百搭|可调节,纯棉,秋冬,56-60cm,弯檐
围巾|cloth|鄂尔多斯ERDOS,恒源祥,Burberry,南极人,秋水伊人,鹿王|羊绒,格子,纯色,加厚,男女,保暖,长款|180x30cm,冬季,流苏,礼盒装,双面
睡衣|cloth|蕉内Bananain,南极人,猫人,都市丽人,芬腾,红豆|纯棉,长袖,冰丝,套装,宽松,卡通|春秋,M-XXL,夏季,薄款,两件套
马丁靴|shoe|Dr.Martens,奥康,红蜻蜓,百丽BeLLE,骆驼CAMEL,热风|英伦,厚底,增高,真皮,8孔,1460|35-44码,秋冬,加绒,侧拉链,防滑
太阳镜|cloth|雷朋Ray-Ban,暴龙BOLON,陌森MOLSION,GM,帕森Parzin,海伦凯勒|偏光,防紫外线,开车,大框,圆脸,复古|UV400,尼龙镜片,金属框,TR90
粉底液|beauty|雅诗兰黛Estee Lauder,阿玛尼Armani,毛戈平,花西子,娇兰,兰蔻Lancome|持妆,控油,遮瑕,油皮,干皮,奶油肌,养肤|30ml,SPF15,1C0,象牙白,哑光
蜂蜜|food|冠生园,汪氏,百花,康维他Comvita,北大荒,蜂之语|天然,农家,土蜂蜜,纯正,麦卢卡,结晶,野生|500g,1kg,UMF10+,玻璃瓶,挤压瓶
大米|food|五常,金龙鱼,福临门,十月稻田,柴火大院,北大荒|东北,新米,香米,稻花香,长粒,珍珠米|5kg,10斤,25kg,真空包装,2024新米
牵引绳|pet|Hipidog,疯狂的小狗,福丸,派可为,TRIXIE,小佩PETKIT|自动伸缩,中大型犬,小型犬,反光,防爆冲,背心式|3米,5米,遛狗,尼龙,可调节
婴儿推车|baby|好孩子gb,Babyzen YOYO,宝宝好,Bugaboo,小龙哈彼,babycare|轻便,可坐可躺,折叠,高景观,减震,登机|0-3岁,双向,四轮,一键收车,避震
篮球|sport|斯伯丁Spalding,威尔胜Wilson,李宁LI-NING,摩腾Molten,安踏ANTA,NBA|7号,室外,耐磨,PU,成人,比赛用|5号,6号,吸湿,防滑,真皮手感
帐篷|sport|牧高笛MOBIGARDEN,骆驼CAMEL,探路者TOREAD,迪卡侬DECATHLON,挪客Naturehike,北山狼|户外,露营,全自动,速开,防雨,加厚,野营|3-4人,双层,2人,防晒,铝杆
"""


def parse_categories(block):
    cats = []
    for line in block.strip().splitlines():
        product, kind, brands, attrs, specs = line.split("|")
        cats.append({"product": product, "kind": kind, "brands": brands.split(","),
                     "attrs": attrs.split(","), "specs": specs.split(",")})
    return cats


# --------------------------------------------------------------------------
# Shared word pools
# --------------------------------------------------------------------------
HEADS = ["【官方正品】", "【限时秒杀】", "【品牌直营】", "【顺丰包邮】", "【2024新款】", "【爆款热卖】",
         "【官方旗舰店】", "【现货速发】", "【618狂欢】", "【双11预售】", "【买一送一】", "【新品首发】",
         "[正品保障]", "【百亿补贴】", "【直播专享】", "【假一赔十】", "官方旗舰", "【到手价】"]
TAILS = ["包邮", "顺丰包邮", "正品保障", "现货速发", "七天无理由", "官方旗舰店", "限时秒杀", "送礼物",
         "生日礼物", "网红同款", "官方正品", "假一赔十", "热卖爆款", "工厂直销", "一件代发",
         "全国联保", "以旧换新", "当天发货", "Free Shipping", "券后价", "学生党必备"]
YEARS = ["2024新款", "2025新款", "2024年新款", "24年新款", "新款", "秋冬新款", "夏季新款", "2024春季新款",
         "新品", "升级款", "2025年升级版"]
COLORS = ["黑色", "白色", "象牙白", "星空灰", "雾霾蓝", "樱花粉", "奶油白", "墨绿色", "香槟金", "深空黑",
          "薄荷绿", "卡其色", "酒红色", "藏青色", "燕麦色", "克莱因蓝"]
AUDIENCE = {
    "elec": ["学生党", "电竞", "办公", "商务", "游戏", "家用"],
    "appl": ["家用", "宿舍", "小型", "迷你", "租房", "送长辈"],
    "home": ["家用", "宿舍", "北欧风", "ins风", "加厚款", "网红"],
    "cloth": ["男女同款", "女士", "男士", "情侣款", "学生", "大码", "宽松版"],
    "beauty": ["女士", "男士", "敏感肌", "学生党", "孕妇可用", "油皮"],
    "food": ["办公室", "囤货", "家庭装", "送礼", "独立小包", "量贩装"],
    "pet": ["全阶段", "室内", "通用型", "多猫家庭", "宠物店同款"],
    "baby": ["新生儿", "0-3岁", "婴幼儿", "宝宝", "男童女童"],
    "sport": ["男女款", "专业级", "初学者", "健身房", "家用", "学生"],
    "office": ["学生", "办公", "考试专用", "文具"],
    "shoe": ["男女同款", "情侣款", "学生", "男款", "女款", "大码"],
    "bag": ["男女同款", "学生", "商务", "出差", "大学生", "情侣款"],
}
HAS_COLOR = {"elec", "appl", "home", "cloth", "shoe", "sport", "office", "baby", "bag"}
P_MODEL = {"elec": 0.8, "appl": 0.7, "home": 0.3, "cloth": 0.2, "beauty": 0.15, "food": 0.05,
           "pet": 0.1, "baby": 0.3, "sport": 0.35, "office": 0.4, "bag": 0.3, "shoe": 0.3}
LETTERS = "ABCDEFGHJKMNPRSTVXZ"

# Templates: "front" / "mid" / "end" says where the product usually lands.  {attr_glue} is an
# attribute glued in front of the product (or empty).
TEMPLATES = [
    ("end", "{head}{brand} {model} {attr2} {spec} {color} {aud} {attr_glue}{product}"),
    ("end", "{year} {brand} {model} {spec} {aud} {attr2} {attr_glue}{product} {tail}"),
    ("end", "{head}{brand} {year} {attr2} {spec} {aud}{attr_glue}{product}"),
    ("end", "{brand}官方旗舰店 {year} {attr} {attr2} {spec} {color} {attr_glue}{product} {tail}"),
    ("mid", "{head}{brand}{attr_glue}{product}{aud} {year} {attr2} {spec} {color} {tail}"),
    ("mid", "{head}{brand} {model} {product} {attr} {attr2} {spec} {tail}"),
    ("mid", "{head}{year}{attr_glue}{product}{aud} {brand} {model} {spec} {color} {tail}"),
    ("mid", "{brand}官方旗舰店 {attr_glue}{product} {spec} {attr2} {aud} {tail}"),
    ("front", "{product}{aud}{year} {attr} {attr2} {brand} {model} {spec} {color} {tail}"),
    ("front", "{attr_glue}{product} {brand} {model} {spec} {aud} {color} {head}"),
    ("front", "{product} {attr} {attr2} {spec} {brand} {year} {tail}"),
]

FOLLOW_UPS = ["{t}", "{t}", "{t}", "再提取一个：{t}", "这个呢？{t}", "还有这个：{t}", "下一个 {t}",
              "继续：{t}", "再帮我提取下这个：{t}", "再提去一个：{t}", "Next: {t}", "同样的，{t}",
              "再来一个\n{t}"]


def make_model(rng):
    d = lambda: str(rng.randint(0, 9))
    L = lambda: rng.choice(LETTERS)
    pattern = rng.choice(["LDD", "LLDDD", "L-DDD", "LD Pro", "LDD Max", "D代", "LDDD", "LD Plus",
                          "LL-DD", "DDDD款", "LD SE", "Pro D"])
    return "".join(d() if c == "D" else L() if c == "L" else c for c in pattern)


def tidy(title):
    title = re.sub(r" {2,}", " ", title).strip()
    title = re.sub(r" ?/ ?", "/", title)
    return title.strip("/ ")


def make_title(cat, brands, specs, rng):
    kind = cat["kind"]
    for _ in range(500):
        position, template = rng.choice(TEMPLATES)
        attrs = rng.sample(cat["attrs"], 3)
        values = {
            "product": cat["product"],
            "brand": rng.choice(brands),
            "model": make_model(rng) if rng.random() < P_MODEL[kind] else "",
            "attr": attrs[0],
            "attr_glue": attrs[2] if rng.random() < 0.6 else "",
            "attr2": attrs[1] if rng.random() < 0.6 else "",
            "spec": " ".join(rng.sample(specs, min(len(specs), rng.choice([1, 1, 2])))),
            "color": rng.choice(COLORS) if kind in HAS_COLOR and rng.random() < 0.4 else "",
            "aud": rng.choice(AUDIENCE[kind]) if rng.random() < 0.4 else "",
            "year": rng.choice(YEARS) if rng.random() < 0.5 else "",
            "head": rng.choice(HEADS) if rng.random() < 0.55 else "",
            "tail": rng.choice(TAILS) if rng.random() < 0.7 else "",
        }
        # no slot may repeat another (加厚 + 加厚款, 计数 + 智能计数)
        words = [values[k] for k in ("attr", "attr2", "aud", "color", "year", "head", "tail")
                 if values[k] and "{" + k + "}" in template]
        words += values["spec"].split()
        if "{attr_glue}" in template and values["attr_glue"]:
            words.append(values["attr_glue"])
        if any(a != b and a in b for a in words for b in words):
            continue
        title = tidy(template.format(**values))
        if any(title.count(w) > 1 for w in words + [values["brand"], "官方旗舰店"]):
            continue
        if MIN_LEN <= len(title) <= MAX_LEN:
            return title, values["brand"]
    raise AssertionError(f"cannot make a title for {cat['product']}")


def split_pools(cat):
    """Train / test brands and specs of a train category (disjoint)."""
    brands_train, brands_test = cat["brands"][:-N_TEST_BRANDS], cat["brands"][-N_TEST_BRANDS:]
    specs_train = [s for i, s in enumerate(cat["specs"]) if i % 3 != 2]
    specs_test = [s for i, s in enumerate(cat["specs"]) if i % 3 == 2]
    return (brands_train, specs_train), (brands_test, specs_test)


def make_rows(plan, two_turn_flags, rng, used_titles, banned_norm=frozenset()):
    """plan: list of (category, brands, specs) per title slot; returns rows and their titles."""
    rows, titles = [], []

    def fresh_title(cat, brands, specs):
        for _ in range(200):
            t, brand = make_title(cat, brands, specs, rng)
            n = norm(t)
            if n not in used_titles and n not in banned_norm:
                used_titles.add(n)
                brand_of[t] = brand
                return t
        raise AssertionError(f"no fresh title for {cat['product']}")

    slots = iter(plan)
    for two in two_turn_flags:
        cat, brands, specs = next(slots)
        t1 = fresh_title(cat, brands, specs)
        msgs = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": t1},
                {"role": "assistant", "content": cat["product"]}]
        titles.append((t1, cat["product"]))
        if two:
            cat2, brands2, specs2 = next(slots)
            t2 = fresh_title(cat2, brands2, specs2)
            msgs += [{"role": "user", "content": rng.choice(FOLLOW_UPS).format(t=t2)},
                     {"role": "assistant", "content": cat2["product"]}]
            titles.append((t2, cat2["product"]))
        rows.append({"messages": msgs})
    return rows, titles


brand_of = {}                # title -> the brand it was made with


def norm(title):
    return re.sub(r"\s+", "", title).lower()


def flags(n_rows, n_two, rng):
    f = [True] * n_two + [False] * (n_rows - n_two)
    rng.shuffle(f)
    return f


def balanced_plan(cats, n, rng, pools):
    """n (category, brands, specs) slots, spreading categories as evenly as possible."""
    plan = []
    while len(plan) < n:
        order = list(cats)
        rng.shuffle(order)
        for cat in order[: n - len(plan)]:
            plan.append((cat, *pools(cat)))
    return plan


def position(title, product):
    """Where the product sits: front / mid / end third of the title."""
    i = title.index(product)
    return "front" if i < len(title) / 3 else "end" if i + len(product) > 2 * len(title) / 3 else "mid"


def check_categories(train_cats, test_cats):
    all_cats = train_cats + test_cats
    products = [c["product"] for c in all_cats]
    assert len(set(products)) == len(products) >= 60, len(products)
    for a in products:
        for b in products:
            assert a == b or a not in b, f"{a} is inside {b}"
    for c in all_cats:
        assert c["kind"] in AUDIENCE and len(c["brands"]) >= 4 and len(c["attrs"]) >= 4, c["product"]
        assert len(c["specs"]) >= 4 and len(set(c["brands"])) == len(c["brands"]), c["product"]
    for c in train_cats:
        (b_tr, s_tr), (b_te, s_te) = split_pools(c)
        assert not set(b_tr) & set(b_te) and not set(s_tr) & set(s_te) and s_te, c["product"]


def main():
    train_cats = parse_categories(TRAIN_CATEGORIES)
    test_cats = parse_categories(TEST_ONLY_CATEGORIES)
    check_categories(train_cats, test_cats)
    rng = random.Random(SEED)
    products = [c["product"] for c in train_cats + test_cats]

    # ---- train -----------------------------------------------------------
    train_flags = flags(N_TRAIN, N_TRAIN_TWO_TURN, rng)
    train_plan = balanced_plan(train_cats, N_TRAIN + N_TRAIN_TWO_TURN, rng, lambda c: split_pools(c)[0])
    used = set()
    train, train_titles = make_rows(train_plan, train_flags, rng, used)

    # ---- test: seen categories (test brands/specs) + new categories ----
    train_norm = set(used)
    seen_flags = flags(N_TEST_SEEN, N_TEST_SEEN_TWO_TURN, rng)
    seen_plan = balanced_plan(train_cats, N_TEST_SEEN + N_TEST_SEEN_TWO_TURN, rng, lambda c: split_pools(c)[1])
    test_seen, seen_titles = make_rows(seen_plan, seen_flags, rng, used, train_norm)
    new_flags = flags(N_TEST_NEW, N_TEST_NEW_TWO_TURN, rng)
    new_plan = balanced_plan(test_cats, N_TEST_NEW + N_TEST_NEW_TWO_TURN, rng, lambda c: (c["brands"], c["specs"]))
    test_new, new_titles = make_rows(new_plan, new_flags, rng, used, train_norm)
    test = test_seen + test_new
    rng.shuffle(test)

    # ---- assertions -------------------------------------------------------
    test_titles = seen_titles + new_titles
    assert len(train) == N_TRAIN and len(test) == N_TEST_SEEN + N_TEST_NEW
    for rows, n_two in ((train, N_TRAIN_TWO_TURN), (test, N_TEST_SEEN_TWO_TURN + N_TEST_NEW_TWO_TURN)):
        assert sum(len(r["messages"]) == 5 for r in rows) == n_two
        for r in rows:
            m = r["messages"]
            assert [x["role"] for x in m] == ["system", "user", "assistant", "user", "assistant"][:len(m)]
            assert m[0]["content"] == SYSTEM_PROMPT
            for user, answer in ((m[1], m[2]), (m[3], m[4])) if len(m) == 5 else ((m[1], m[2]),):
                assert answer["content"] in user["content"], (answer, user)
    for title, product in train_titles + test_titles:
        assert MIN_LEN <= len(title) <= MAX_LEN, title
        assert product in title, (product, title)
        others = [p for p in products if p != product and p in title]
        assert not others, f"{title} also contains {others}"
    tr_norm = [norm(t) for t, _ in train_titles]
    te_norm = [norm(t) for t, _ in test_titles]
    assert len(set(tr_norm)) == len(tr_norm) and len(set(te_norm)) == len(te_norm)
    assert not set(tr_norm) & set(te_norm), "a test title is also in train"
    train_products = {p for _, p in train_titles}
    assert train_products == {c["product"] for c in train_cats}
    assert {p for _, p in seen_titles} <= train_products
    assert not {p for _, p in new_titles} & train_products
    assert {p for _, p in new_titles} == {c["product"] for c in test_cats}
    # seen categories in test use brands never used for that category in train
    train_pairs = {(p, brand_of[t]) for t, p in train_titles}
    for title, product in seen_titles:
        cat = next(c for c in train_cats if c["product"] == product)
        assert brand_of[title] in split_pools(cat)[1][0] and (product, brand_of[title]) not in train_pairs

    pos = Counter(position(t, p) for t, p in train_titles + test_titles)
    assert all(pos[k] >= 0.15 * sum(pos.values()) for k in ("front", "mid", "end")), pos

    # ---- write ------------------------------------------------------------
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    # ---- summary ----------------------------------------------------------
    for name, rows, titles in (("train", train, train_titles), ("test", test, test_titles)):
        lens = [len(t) for t, _ in titles]
        pos = Counter(position(t, p) for t, p in titles)
        eng = sum(bool(re.search(r"[A-Za-z]", t)) for t, _ in titles)
        print(f"{name}: {len(rows)} rows ({sum(len(r['messages']) == 5 for r in rows)} two-turn), "
              f"{len(titles)} titles, {len({p for _, p in titles})} categories, "
              f"title len {min(lens)}-{max(lens)} (mean {sum(lens) / len(lens):.1f}), "
              f"with English {eng / len(titles):.0%}, product position {dict(sorted(pos.items()))}")
    print(f"test rows: {N_TEST_SEEN} seen-category rows ({len(seen_titles)} titles), "
          f"{N_TEST_NEW} new-category rows ({len(new_titles)} titles); categories: "
          f"{len(train_cats)} train + {len(test_cats)} test-only = {len(train_cats) + len(test_cats)}")


if __name__ == "__main__":
    main()
