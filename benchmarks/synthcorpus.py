"""A synthetic, clearly fictional corpus of Chinese employment-policy documents.

Every document is about 示范市 (a city that does not exist), dated 2099, and
starts with the same 【虚构测试材料】 banner as tests/fixtures/shifan.  Text is
composed from a few hundred domain terms and ~40 sentence templates with
random groups, amounts, durations, districts, programme names and materials,
so that BM25 sees a realistic, growing vocabulary and the dense side sees
varied sentences.  Generation is deterministic: document ``i`` depends only on
(seed, i), so a larger level is a superset of a smaller one.

Three layouts, roughly as in real corpora: 办法/通知 with 第X条 articles (most),
政策问答 with 问/答 pairs, and 新闻 with plain paragraphs.
"""

from __future__ import annotations

import random

BANNER = "【虚构测试材料:示范市并不存在,本文件由基准测试脚本随机生成,不是真实政策】"

DISTRICTS = ["临江区", "青山区", "云溪区", "北湖区", "南屏区", "金台区", "枫林区", "松岗区", "白沙区", "东湾区",
             "西岭区", "望海区", "石桥区", "柳营区", "新港区", "高新区", "经开区", "滨河区"]
GROUPS = ["高校毕业生", "离校未就业高校毕业生", "失业青年", "退役军人", "就业困难人员", "脱贫人口", "农民工",
          "返乡创业农民工", "城镇登记失业人员", "零就业家庭成员", "残疾人", "大龄失业人员", "长期失业人员",
          "灵活就业人员", "新就业形态劳动者", "网约配送员", "留学回国人员", "技工院校毕业生", "随军家属",
          "低保家庭成员", "刑满释放人员", "妇女创业者", "科技人员", "小微企业主", "个体工商户", "家政服务人员",
          "外卖骑手", "快递员", "网络主播", "农村转移劳动力", "易地搬迁群众", "见习人员", "失业人员",
          "困难职工", "毕业2年内的中职学生"]
EMPLOYERS = ["小微企业", "中小企业", "民营企业", "国有企业", "社会组织", "事业单位", "个体工商户", "劳务派遣单位",
             "人力资源服务机构", "职业技能培训机构", "创业孵化基地", "创业园区", "就业帮扶车间", "见习单位",
             "家庭农场", "农民专业合作社", "养老服务机构", "托育机构", "制造业企业", "物流企业", "平台企业",
             "外贸企业", "文旅企业", "建筑业企业", "餐饮企业", "商贸企业", "科技型中小企业", "专精特新企业"]
BENEFITS = ["一次性创业补贴", "就业见习补贴", "社会保险补贴", "岗位补贴", "职业培训补贴", "职业技能提升补贴",
            "创业担保贷款贴息", "一次性扩岗补助", "稳岗返还", "求职创业补贴", "公益性岗位补贴",
            "灵活就业社会保险补贴", "生活费补贴", "场地租金补贴", "带动就业奖励", "一次性吸纳就业补贴",
            "技能评价补贴", "以工代训补贴", "交通补贴", "住房租赁补贴", "安家补贴", "创业孵化补贴",
            "就业创业服务补助", "职业介绍补贴", "劳务协作奖补", "跨区域就业交通补助", "见习留用奖励",
            "技能竞赛奖励", "首次创业补贴", "乡村就业工匠补贴", "失业保险金", "失业补助金", "临时生活补助",
            "技能人才培养补助", "新型学徒制培训补贴", "企业新录用人员岗前培训补贴", "创业导师津贴"]
ACTIVITIES = ["就业见习", "创业担保贷款", "职业技能培训", "失业登记", "就业登记", "公益性岗位安置", "技能等级认定",
              "创业培训", "劳务协作", "零工市场建设", "就业援助月活动", "春风行动", "百日千万招聘专项行动",
              "大中城市联合招聘", "职业指导", "创业孵化", "返乡入乡创业", "以工代赈", "家政服务提质扩容",
              "数字技能提升", "新职业培训", "企业新型学徒制", "技能大师工作室建设", "高技能人才培养",
              "稳岗扩岗", "援企稳岗", "困难群体就业帮扶", "重点群体就业", "就业服务站点建设", "社区就业服务"]
INDUSTRIES = ["先进制造业", "数字经济", "现代物流", "养老服务", "家政服务", "托育服务", "现代农业", "文化旅游",
              "跨境电商", "新能源汽车", "生物医药", "集成电路", "软件信息服务", "健康服务", "建筑业", "住宿餐饮",
              "批发零售", "海洋经济", "低空经济", "绿色低碳产业", "人工智能", "智能网联汽车"]
AGENCIES = ["示范市人力资源和社会保障局", "示范市财政局", "示范市发展和改革委员会", "示范市教育局",
            "示范市退役军人事务局", "示范市农业农村局", "示范市地方金融管理局", "示范市税务局",
            "示范市市场监督管理局", "示范市残疾人联合会", "示范市总工会", "示范市妇女联合会", "示范市团委",
            "示范市公共就业服务中心", "示范市职业技能鉴定指导中心", "示范市创业担保贷款担保中心",
            "示范市医疗保障局", "示范市商务局", "示范市民政局", "示范市乡村振兴局"]
DOC_KINDS = ["管理办法", "实施办法", "实施细则", "暂行办法", "操作规程", "工作方案", "若干措施", "实施意见"]
NOTICE_KINDS = ["通知", "补充通知", "公告", "通告"]
MATERIALS = ["居民身份证", "毕业证书", "劳动合同", "社会保险缴费凭证", "营业执照", "银行流水", "失业登记证明",
             "就业创业证", "退役证明", "残疾人证", "低保证明", "培训合格证书", "职业技能等级证书", "租赁合同",
             "纳税证明", "工资发放明细", "考勤记录", "申请表", "承诺书", "项目计划书", "贷款合同", "还款凭证",
             "场地使用证明", "学籍证明", "户口簿", "居住证", "脱贫户证明", "见习协议", "人身意外伤害保险单"]
CHANNELS = ["示范市人社网上服务大厅", "示范市就业服务平台", "示范市政务服务网", "示范市人社手机客户端",
            "各区公共就业服务机构", "街道(乡镇)社区服务中心", "示范市12333服务热线", "示范市政务服务中心人社窗口",
            "示范市公共招聘网", "示范市零工市场服务站"]
ACTIONS = ["申请", "申领", "受理", "审核", "公示", "拨付", "核定", "备案", "复核", "核验", "发放", "登记", "认定", "评估"]
CONDITIONS = ["签订1年以上劳动合同", "依法缴纳社会保险费", "正常经营6个月以上", "具有本市户籍", "持有本市有效居住证",
              "在本市办理失业登记", "无重大劳动保障违法行为", "按时足额发放工资", "未享受过同类补贴",
              "参保缴费满12个月", "在本市依法登记注册", "信用记录良好", "按规定完成实名登记", "无欠薪记录",
              "带动3人以上就业", "连续缴费满6个月", "离校2年内未就业", "年龄在16至24周岁之间", "首次在本市创业",
              "未被列入严重失信主体名单", "按月足额发放基本生活费"]
FIRSTS = "启航青苗扬帆领航春风暖心筑梦同心安业乐业聚才育才金蓝红烛星火磐石锦程鸿雁百川千帆晨光朝阳北斗灯塔匠心数智"
PROGRAM_SUFFIX = ["计划", "行动", "工程", "专项", "项目", "品牌", "服务季"]
PARKS = ["智造产业园", "创业孵化园", "数字产业园", "青年创业港", "人力资源服务产业园", "返乡创业园", "电商产业园", "科创走廊"]


def _cn_num(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


class _Doc:
    def __init__(self, rng: random.Random, index: int):
        r = self.r = rng
        self.index = index
        self.district = r.choice(DISTRICTS)
        self.groups = r.sample(GROUPS, 4)
        self.benefits = r.sample(BENEFITS, 4)
        self.activity = r.choice(ACTIVITIES)
        self.employer = r.sample(EMPLOYERS, 3)
        self.industry = r.sample(INDUSTRIES, 2)
        self.agency = r.sample(AGENCIES, 3)
        self.program = r.choice(FIRSTS[0::2]) + r.choice(FIRSTS[1::2]) + r.choice(PROGRAM_SUFFIX)
        self.park = self.district[:2] + r.choice(PARKS)
        self.month, self.day = r.randint(1, 12), r.randint(1, 28)
        self.number = index + 1

    # random slot values -------------------------------------------------
    def amount(self) -> str:
        r = self.r
        kind = r.random()
        if kind < 0.55:
            return f"{r.choice([200, 300, 500, 600, 800, 1000, 1200, 1500, 1800, 2000, 2500, 3000, 5000, 8000])}元"
        if kind < 0.85:
            return f"{r.choice([1, 2, 3, 5, 10, 15, 20, 30, 50, 100, 150, 300])}万元"
        return f"{r.randint(1, 99) * 100}元"

    def months(self) -> str:
        return f"{self.r.choice([1, 2, 3, 6, 9, 12, 18, 24, 36])}个月"

    def years(self) -> str:
        return f"{self.r.choice([1, 2, 3, 5])}年"

    def pct(self) -> str:
        return f"{self.r.choice([5, 8, 10, 15, 20, 30, 50, 60, 70, 80, 90])}%"

    def days(self) -> str:
        return f"{self.r.choice([5, 7, 10, 15, 20, 30, 60])}个工作日"

    def g(self) -> str:
        return self.r.choice(self.groups)

    def b(self) -> str:
        return self.r.choice(self.benefits)

    def e(self) -> str:
        return self.r.choice(self.employer)

    def mats(self) -> str:
        picked = self.r.sample(MATERIALS, self.r.randint(2, 5))
        return "、".join(picked)

    def cond(self) -> str:
        return self.r.choice(CONDITIONS)

    def sentence(self) -> str:
        r, g, b, e = self.r, self.g, self.b, self.e
        templates = [
            lambda: f"对{e()}吸纳{g()}就业并{self.cond()}的,按每人{self.amount()}的标准给予{b()}。",
            lambda: f"{g()}在本市{r.choice(['首次创办', '创办', '领办'])}{r.choice(['小微企业', '个体工商户', '家庭农场', '农民专业合作社'])}并正常经营{self.months()}以上的,可申请{self.amount()}的{b()}。",
            lambda: f"{b()}期限最长不超过{self.months()},每人只能享受一次,不得与{b()}重复享受。",
            lambda: f"{b()}实行按{r.choice(['月', '季度', '半年', '年度'])}申领,{e()}应当在{r.choice(['每季度结束后', '每月结束后', '次年3月底前', '年度终了后'])}{self.days()}内通过{r.choice(CHANNELS)}提出申请。",
            lambda: f"申请{b()}应当提交下列材料:{self.mats()}。已通过数据共享能够核验的信息,不再要求提供纸质材料。",
            lambda: f"{self.agency[1]}应当自受理之日起{self.days()}内完成{r.choice(ACTIONS)},符合条件的在{r.choice(CHANNELS)}公示{self.days()}。",
            lambda: f"公示无异议的,由区财政部门在{self.days()}内将资金拨付至{e()}在银行开立的基本存款账户。",
            lambda: f"{g()}个人创业担保贷款最高额度为{r.choice([20, 30, 50])}万元,贷款期限最长不超过{self.years()},财政按贷款市场报价利率的{self.pct()}给予贴息。",
            lambda: f"{e()}当年新招用{g()}人数达到现有在职职工人数{self.pct()}以上的,可申请不超过{r.choice([300, 500, 1000])}万元的创业担保贷款。",
            lambda: f"{r.choice(INDUSTRIES)}领域{e()}开展{self.activity},每培训1人给予{self.amount()}的{b()},同一人员每年最多享受{r.choice([1, 2, 3])}次。",
            lambda: f"参加{self.activity}的{g()},培训期间按每人每天{r.choice([30, 40, 50, 60, 80])}元给予生活费补贴,最长不超过{r.choice([20, 30, 60, 90])}天。",
            lambda: f"{self.district}设立“{self.program}”,面向{g()}每年开发不少于{r.choice([50, 100, 200, 500, 1000])}个{r.choice(['见习岗位', '公益性岗位', '就业岗位', '技能岗位', '乡村就业岗位'])}。",
            lambda: f"入驻{self.park}的{g()}创业实体,{r.choice(['前两年', '首年', '三年内'])}场地租金按{self.pct()}给予补贴,每户每年最高{self.amount()}。",
            lambda: f"{e()}招用{g()}并{self.cond()}的,按其实际缴纳的基本养老、失业、工伤保险费给予社会保险补贴,补贴期限不超过{self.years()}。",
            lambda: f"{g()}以灵活就业方式就业并缴纳社会保险费的,按实际缴费的{r.choice(['三分之二', '50%', '60%', '70%'])}给予补贴,期限最长{self.years()}。",
            lambda: f"公益性岗位主要安置{g()},岗位补贴按本市最低工资标准{self.pct()}执行,2099年为每人每月{r.choice([1800, 2000, 2100, 2300, 2500])}元。",
            lambda: f"{self.agency[0]}负责{self.activity}工作的统筹规划、政策制定和监督管理,{self.agency[1]}负责资金预算安排和使用监管。",
            lambda: f"各区人力资源和社会保障部门负责本辖区{e()}认定、{g()}组织和{b()}{r.choice(ACTIONS)}。",
            lambda: f"对{r.choice(['弄虚作假', '重复申领', '虚构劳动关系', '伪造材料', '挪用资金'])}骗取{b()}的,依法追回资金,{self.years()}内不得再次申请各类就业补贴。",
            lambda: f"{self.activity}工作纳入{self.district}就业工作目标责任考核,考核结果作为分配就业补助资金的重要依据。",
            lambda: f"鼓励{e()}与{r.choice(['技工院校', '职业院校', '高等学校', '公共实训基地'])}合作开展{r.choice(['订单式培训', '定向培训', '学徒制培训', '岗前培训', '转岗培训'])},按每人{self.amount()}给予补贴。",
            lambda: f"取得{r.choice(['初级工', '中级工', '高级工', '技师', '高级技师'])}职业技能等级证书的{g()},按{self.amount()}给予一次性技能提升补贴。",
            lambda: f"2099年全市计划开展{self.activity}{r.randint(2, 40) * 50}人次,帮助{g()}实现就业{r.randint(1, 30) * 100}人以上。",
            lambda: f"{g()}可以通过{r.choice(CHANNELS)}查询{r.choice(['岗位信息', '补贴进度', '政策清单', '培训项目目录', '办理指南'])},咨询电话为示范市12333。",
            lambda: f"{self.district}{r.choice(['零工市场', '就业服务站', '家门口就业服务点', '人力资源服务站'])}每周{r.choice(['一', '二', '三', '四', '五'])}举办专场招聘,重点服务{g()}和{g()}。",
            lambda: f"稳岗返还按{e()}上年度实际缴纳失业保险费的{self.pct()}返还,裁员率不高于{r.choice(['5.5%', '20%', '3%'])}。",
            lambda: f"{e()}每吸纳1名{g()}就业并签订劳动合同的,给予{self.amount()}的一次性扩岗补助,每户最多补助{r.choice([10, 20, 30, 50])}人。",
            lambda: f"{g()}到{r.choice(['乡镇', '村', '社区', '基层医疗机构', '中小学校'])}工作满{self.years()}的,给予{self.amount()}的{r.choice(['安家补贴', '基层服务补贴', '交通补贴'])}。",
            lambda: f"失业人员领取{r.choice(['失业保险金', '失业补助金'])}期间,按月发放标准为本市最低工资标准的{self.pct()},领取期限根据累计缴费时间确定,最长不超过{r.choice([12, 18, 24])}个月。",
            lambda: f"对{r.choice(INDUSTRIES)}重点项目,{self.agency[0]}会同{self.agency[2]}建立用工服务专员制度,每家{e()}配备{r.choice([1, 2])}名就业服务专员。",
            lambda: f"首次{r.choice(['创办', '领办'])}{r.choice(INDUSTRIES)}项目的{g()},经{self.agency[0]}评审后给予{self.amount()}的项目扶持资金。",
            lambda: f"{b()}资金从就业补助资金中列支,不得以现金方式发放,不得用于{r.choice(['发放工作人员津贴', '弥补行政经费', '购置交通工具', '楼堂馆所建设'])}。",
            lambda: f"本条所称{g()},是指{r.choice(['离校2年内', '毕业5年内', '登记失业6个月以上', '年满40周岁以上', '持有本市居住证'])}且{self.cond()}的人员。",
            lambda: f"同一{e()}在同一年度内享受{b()}和{b()}的,按照就高原则只享受一项。",
            lambda: f"{e()}对{r.choice(ACTIONS)}结果有异议的,可以在收到书面告知之日起{self.days()}内申请复核。",
            lambda: f"{self.district}对{self.program}中成效突出的{e()},给予{self.amount()}的奖励,并优先推荐评选{r.choice(['示范市就业友好型企业', '示范市和谐劳动关系企业', '示范市创业示范基地', '示范市技能人才培养示范单位'])}。",
        ]
        return r.choice(templates)()

    def paragraph(self, n_sentences: int) -> str:
        return "".join(self.sentence() for _ in range(n_sentences))

    # document layouts ------------------------------------------------------
    def policy(self) -> str:
        r = self.r
        kind = r.choice(DOC_KINDS)
        subject = f"{r.choice(self.groups)}{r.choice([self.activity, self.benefits[0]])}"
        title = f"示范市{self.district}{subject}{kind}(2099年第{self.number}号)"
        doc_no = f"示人社发〔2099〕{self.number}号"
        issuers = " ".join(self.agency[:2])
        lines = [BANNER, issuers, f"关于印发《{title}》的{r.choice(NOTICE_KINDS)}", doc_no, "",
                 "各区人力资源和社会保障局、财政局,市直各有关单位:",
                 f"现将《{title}》印发给你们,请结合实际认真贯彻执行。", "", issuers,
                 f"2099年{self.month}月{self.day}日", "", title, ""]
        n_articles = r.randint(18, 60)
        chapters = max(2, n_articles // r.randint(6, 10))
        per = n_articles // chapters
        article = 1
        chapter_names = ["总则", "适用对象", "补贴标准", "申请程序", "资金管理", "服务保障", "监督管理", "附则",
                         "扶持措施", "职责分工", "考核评估", "培训组织"]
        for c in range(chapters):
            lines += [f"第{_cn_num(c + 1)}章 {chapter_names[c % len(chapter_names)]}", ""]
            for _ in range(per if c < chapters - 1 else n_articles - per * (chapters - 1)):
                # most articles fit one chunk; a few are long and get split
                n = r.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 8])
                lines += [f"第{_cn_num(article)}条 {self.paragraph(n)}", ""]
                article += 1
        lines.append(f"第{_cn_num(article)}条 本{kind}自2099年{self.month}月{self.day}日起施行,有效期{self.years()}。")
        return "\n".join(lines)

    def qa(self) -> str:
        r = self.r
        title = f"示范市{self.district}{self.activity}政策问答(2099年第{self.number}期)"
        lines = [BANNER, title, f"发布机构:{self.agency[0]}", f"发布日期:2099年{self.month}月{self.day}日", ""]
        for i in range(1, r.randint(12, 40) + 1):
            b, g = self.b(), self.g()
            q = r.choice([f"{g}能申请{b}吗?", f"{b}的标准是多少?", f"{b}要准备哪些材料?", f"{b}多久能到账?",
                          f"{g}在{self.district}怎么办理{b}?", f"{b}可以和{self.b()}同时享受吗?",
                          f"{self.program}对{g}有什么支持?"])
            lines += [f"{i}.问:{q}", f"答:{self.paragraph(r.choice([1, 2, 2, 3, 4]))}", ""]
        return "\n".join(lines)

    def news(self) -> str:
        r = self.r
        title = f"{self.district}举办{self.activity}{r.choice(['推进会', '启动仪式', '专场招聘会', '现场会', '座谈会'])}"
        lines = [BANNER, title, f"2099年{self.month}月{self.day}日 来源:{self.agency[0]}", ""]
        for _ in range(r.randint(6, 20)):
            lines += [self.paragraph(r.choice([2, 3, 4])), ""]
        return "\n".join(lines)


def document(seed: int, index: int) -> tuple[str, str]:
    """(file name, text) of synthetic document ``index``."""
    rng = random.Random(f"{seed}:{index}")
    doc = _Doc(rng, index)
    kind = rng.random()
    if kind < 0.75:
        return f"shifan_bench_{index:05d}_policy.txt", doc.policy()
    if kind < 0.9:
        return f"shifan_bench_{index:05d}_qa.txt", doc.qa()
    return f"shifan_bench_{index:05d}_news.txt", doc.news()


def synthetic_questions(seed: int, n: int) -> list[str]:
    """Hotline-style questions over the same vocabulary (some colloquial, some keyword-only)."""
    rng = random.Random(f"{seed}:questions")
    out = []
    for _ in range(n):
        g, b, d = rng.choice(GROUPS), rng.choice(BENEFITS), rng.choice(DISTRICTS)
        out.append(rng.choice([
            f"我是{g},能申请{b}吗?",
            f"{b}标准是多少 示范市",
            f"{d}{b}怎么申领,要交哪些材料?",
            f"{rng.choice(EMPLOYERS)}招了{g}有什么补贴?",
            f"{b}多久能批下来",
            f"{rng.choice(ACTIVITIES)}期间有生活费补贴吗",
            "创业担保贷款最多能贷多少钱,贴息多少?",
            f"{g}灵活就业交社保有补贴吗?",
            f"骗取{b}会怎么处理",
            f"{rng.choice(INDUSTRIES)}企业培训员工能拿多少补贴",
        ]))
    return out
