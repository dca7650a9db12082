"""The languages labkit speaks, and how a locale name maps onto one of them (pure)."""

from __future__ import annotations

#: languages labkit speaks; the first is the fallback
LANGUAGES = ("en", "zh")
#: each one's HTML language tag: a browser draws Han characters in the forms of the page's language (a
#: Pan-CJK font such as Noto Sans CJK picks its Japanese forms for 令 骨 直 unless told "zh-CN")
HTML_TAGS = {"en": "en", "zh": "zh-CN"}


def page_language(lang: str) -> str:
    """An invisible HTML output that marks the notebook holding it as written in ``lang`` (its ``lang``
    attribute), so that the browser draws its Chinese in Simplified Chinese forms. Runs where the output is
    trusted (a cell run in this session); elsewhere it does nothing."""
    tag = HTML_TAGS[lang]
    return ("<script>(s => { const nb = s && s.closest('.jp-Notebook'); "
            f"if (nb) {{ nb.lang = '{tag}'; }} }})(document.currentScript)</script>")


def normalize(name: str | None) -> str | None:
    """'zh_CN.UTF-8', 'zh-Hans', 'ZH' → 'zh'; 'en_US' → 'en'; 'C', '' or an unknown language → None."""
    if not name:
        return None
    code = name.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None
