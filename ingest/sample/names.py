"""Unique, plausible Chinese names for organizations, enterprises and (fake) people."""

from __future__ import annotations

import random

import zhconv

from ingest.parse.cells import normalize_name

BRAND = list(
    "华恒瑞达盛鑫泰隆信宏博创远嘉凯德联金美安康宇航海天星辰光明微芯智源禾润和丰晟昊晨锐峰诚鼎汇通腾飞云卓越凡力邦正兴睿捷启雅"
)
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红娟建国志")
ENTERPRISE_SUFFIX = ["有限公司", "股份有限公司", "科技有限公司", "技术有限公司", "集团有限公司"]


class NamePool:
    """Draws names that are unique in their matching form across one generated sample."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.organization_codes: set[str] = set()
        self.registration_serials: dict[str, int] = {}

    def organization_code(self, make) -> str:
        """A credit code from `make()` whose organization code (characters 9–17) no other organization of
        the sample has: organization codes are unique nationwide (GB 11714)."""
        for _ in range(1000):
            code = make()
            if code[8:17] not in self.organization_codes:
                self.organization_codes.add(code[8:17])
                return code
        raise RuntimeError("organization codes exhausted")

    def registration_number(self, prefix: str) -> str:
        """The next registration certificate number of a registrar's series, `深社证字第00012号`."""
        serial = self.registration_serials.get(prefix, 0) + 1
        self.registration_serials[prefix] = serial
        return f"{prefix}第{serial:05d}号"

    def _unique(self, make) -> str:
        for _ in range(1000):
            name = make()
            key = normalize_name(name)
            if key not in self.used:
                self.used.add(key)
                return name
        raise RuntimeError("name space exhausted; widen the name parts")

    def enterprise(self, city: str, trade: str) -> str:
        """An enterprise name such as 苏州瑞达医疗器械科技有限公司."""

        def make() -> str:
            brand = "".join(self.rng.sample(BRAND, 2))
            suffix = self.rng.choice(ENTERPRISE_SUFFIX)
            if self.rng.random() < 0.3:
                return f"{brand}{trade}({city}){suffix}"
            return f"{city}{brand}{trade}{suffix}"

        return self._unique(make)

    def organization(self, prefix: str, topic: str, suffix: str) -> str:
        """A social organization name such as 苏州市姑苏区恒达养老服务中心."""
        return self._unique(lambda: f"{prefix}{''.join(self.rng.sample(BRAND, 2))}{topic}{suffix}")

    def reserve(self, name: str) -> str:
        """Mark a given name (from reference data) as taken."""
        self.used.add(normalize_name(name))
        return name

    def person(self) -> str:
        """A fake person's name; personal data in exports, never published."""
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        """A fake mobile number."""
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice("0123456789") for _ in range(9))


def spelling_variant(name: str, rng: random.Random) -> str:
    """How an association might type a member's name: traditional, full-width or spaced."""
    kind = rng.random()
    if kind < 0.3 and "(" in name:
        opening = rng.choice("（【")
        variant = name.replace("(", opening).replace(")", "）" if opening == "（" else "】")
    elif kind < 0.8:
        variant = zhconv.convert(name, "zh-hant")
    else:
        variant = name[:2] + " " + name[2:]
    return variant if normalize_name(variant) == normalize_name(name) else name
