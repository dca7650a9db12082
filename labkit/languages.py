"""The languages labkit speaks, and how a locale name maps onto one of them (pure)."""

from __future__ import annotations

#: languages labkit speaks; the first is the fallback
LANGUAGES = ("en", "zh")


def normalize(name: str | None) -> str | None:
    """'zh_CN.UTF-8', 'zh-Hans', 'ZH' → 'zh'; 'en_US' → 'en'; 'C', '' or an unknown language → None."""
    if not name:
        return None
    code = name.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None
