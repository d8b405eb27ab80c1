"""What the node library knows of the two languages it reads: which characters are Chinese, and which
words carry no topic. One place for each, so that the BM25 analyser, the question's own words and the
language test agree.
"""
from __future__ import annotations

import re

# CJK ideographs: the unified block and Extension A, the compatibility ideographs, and Extensions B to I
# with the compatibility supplement in the supplementary planes (rare characters, but they occur in
# names and classical texts, and a document that holds one must not be split in the middle of a word).
CJK_RANGES = ("\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
              "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002ebf0-\U0002ee5f"
              "\U0002f800-\U0002fa1f\U00030000-\U000323af")
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
CJK_RUN = re.compile(f"[{CJK_RANGES}]+")

# An English month's name, in full or cut short ("December", "Dec."): what makes a number a date's day.
MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?")

# English numbers in words: 0-19, and the tens from 20 ("twenty-one" is the two joined).
NUMBER_WORDS = tuple("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                     "fifteen sixteen seventeen eighteen nineteen".split())
TENS_WORDS = dict(zip(range(2, 10), "twenty thirty forty fifty sixty seventy eighty ninety".split()))

# What names a nationality in English, generously: a capitalised word built like a people's name ("English",
# "Austrian", "Danish", "Japanese", "French", "Greek", "Thai"), or like a country's ("Australia",
# "Iceland", "Pakistan", "Netherlands", "Norway"), or one of the countries built otherwise.
NATIONALITY_EN = re.compile(
    r"\b[A-Z][a-z]+(?:an|ian|ese|ish|ic|i|ch|sh|ss|ek|ia|land|stan|ands|ay|ey)\b|\b(?:U\.?S\.?A?|U\.?K\.?)(?!\w)"
    r"|\b(?:France|Spain|Japan|China|Italy|Germany|Brazil|Canada|Mexico|Peru|Chile|Egypt|Israel|Iran|Iraq|Cuba|"
    r"Nepal|Portugal|Greece|Sweden|Denmark|Vietnam|Korea|Belgium|Luxembourg|Monaco|Morocco|Kenya|Ghana|"
    r"Uganda|Jamaica|Argentina|Venezuela|Ecuador|Britain|England|Wales|America|States|Kingdom|Union|Empire|"
    r"Republic|Taiwan|Sudan|Chad|Niger|Mali|Haiti|Fiji|Malta|Cyprus|Lebanon|Jordan|Yemen|Oman|Qatar|Kuwait|"
    r"Bahrain|Singapore|Laos|Myanmar|Burma|Philippines|Bhutan|Bangladesh|Lanka|Maldives|Zimbabwe|Congo|Gabon|"
    r"Cameroon|Senegal|Togo|Benin|Guinea|Leone|Mozambique|Madagascar|Angola|Botswana|Lesotho|Malawi|Rwanda|"
    r"Burundi|Djibouti|Guyana|Suriname|Belize|Honduras|Nicaragua|Panama|Guatemala|Salvador|Rica|Bahamas|"
    r"Barbados|Trinidad|Hungary|Czechia|Ukraine|Belarus|Georgia|Azerbaijan|Zealand|Samoa|Tonga|Emirates|"
    r"Vatican|Faso|Africa|Coast|Palestine|Liechtenstein|Andorra|Tibet|Kong|Macau|Bermuda)\b")

# English function words (BM25's idf handles the rest).
STOP_EN = frozenset("""
a about above after again against all am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each few for
from further had hadn has hasn have haven having he her here hers herself him himself his how i if in
into is isn it its itself just ll me might more most must mustn my myself no nor not now of off on once
only or other ought our ours ourselves out over own re same shall shan she should shouldn so some such
than that the their theirs them themselves then there these they this those through to too under until
up upon us ve very was wasn we were weren what when where which while who whom whose why will with
won would wouldn yet you your yours yourself yourselves also however thus hence said say says
""".split())

# English verbs whose past forms a stemmer cannot bring back to them ("wrote", "written" -> "write"): a
# question asks "Who wrote X?" and the text says "X was written by". Forms that are also other words
# ("found", "left", "saw", "lay", "bore", "bit", "ground", "wound", "rose", "won", a stop word) are left out.
_IRREGULAR = """
arise arose arisen; awake awoke awoken; become became; begin began begun; bend bent;
blow blew blown; break broke broken; bring brought; build built; burn burnt; buy bought; catch caught;
choose chose chosen; come came; creep crept; deal dealt; dig dug; draw drew drawn; dream dreamt;
drink drank drunk; drive drove driven; eat ate eaten; fall fell fallen; feed fed; feel felt; fight fought;
flee fled; fly flew flown; forbid forbade forbidden; forget forgot forgotten; forgive forgave forgiven;
freeze froze frozen; get got gotten; give gave given; go went gone; grow grew grown;
hang hung; hear heard; hide hid hidden; hold held; keep kept; kneel knelt; know knew known; lead led;
lend lent; lose lost; make made; mean meant; meet met; pay paid; ride rode ridden; ring rang rung;
run ran; seek sought; sell sold; send sent; shake shook shaken; shine shone; shoot shot;
show shown; shrink shrank shrunk; sing sang sung; sink sank sunk; sit sat; sleep slept; slide slid;
speak spoke spoken; spend spent; spin spun; stand stood; steal stole stolen;
stick stuck; sting stung; stink stank stunk; strike struck stricken; strive strove striven; swear swore sworn;
sweep swept; swim swam swum; swing swung; take took taken; teach taught; tear tore torn; tell told;
think thought; throw threw thrown; tread trod trodden; understand understood; wake woke woken;
wear wore worn; weave wove woven; weep wept; withdraw withdrew withdrawn;
write wrote written
"""
IRREGULAR_EN = {form: forms.split()[0] for forms in _IRREGULAR.replace("\n", " ").split(";")
                for form in forms.split()[1:]}

# Chinese function words and characters that carry no topic (modern and classical).
STOP_ZH = frozenset("""
的 了 是 在 和 与 及 或 而 也 就 都 又 还 着 过 把 被 让 给 向 从 对 于 以 之 其 乎 者 矣 焉 哉 兮 耶 欤
这 那 此 彼 个 些 吗 呢 吧 啊 呀 哇 么 嘛 哦 罢 便 则 即 乃 亦 且 若 如 因 为 所 得 地 但 并 而且 或者
我 你 他 她 它 我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这样 那样 什么 怎么 怎样 为什么
一个 没有 不是 就是 可以 已经 因为 所以 但是 如果 虽然 然后 还是 只是 这里 那里 哪里 之后 之前
""".split())

# Words that are topic-free in a question about a document, beyond the function words: how people ask,
# not what they ask about. Kept out of the question's own search words.
ASKING_EN = frozenset("""
please tell find give answer document text book story question questions one may
""".split())
ASKING_ZH = frozenset("哪 哪个 谁 如何 多少 几 请 问 有 中 里".split())

QUESTION_STOP = STOP_EN | STOP_ZH | ASKING_EN | ASKING_ZH

# The English question words, in a question of either language.
EN_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
# Chinese question words, which jieba leaves inside longer words ("哪家", "哪一年"; "几" is also "a few"): no
# text that answers holds one, and a reply that still does has not answered.
ZH_QUESTION_WORD = re.compile(r"什么|哪|谁|何时|何地|何处|多少")
