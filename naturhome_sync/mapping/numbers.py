"""Amounts and quantities as the public types them: "250 000 €", "250.000,00 EUR", "€250k",
"1,2 mio", "180 m²".

Belgium, Luxembourg, France and Germany write "250.000,50" or "250 000,50"; English-speaking
clients write "250,000.50". One separator followed by exactly three digits ("250.000",
"250,000") is a thousands separator: nobody budgets a house in euro cents. Anything that
stays ambiguous (a range, "1,250k", badly grouped digits) is refused with a reason rather
than guessed, because a wrong budget mis-scores the lead silently.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from naturhome_sync.mapping.common import Rejected, normalise_spaces, quote

_CENT = Decimal("0.01")
#: More whole digits than any Salesforce number field holds (precision 18 at most); refusing
#: them here also keeps every later rounding within Decimal's default 28-digit context.
_MAX_DIGITS = 18

#: Words around an amount that do not change it for scoring purposes (VAT mentions are kept
#: in the message field; the budget is an order of magnitude, not an offer).
_HEDGES = re.compile(
    r"\b(environ|env|approx(imatively|imately)?|ca|circa|plus ou moins|ongeveer|ungef[aä]hr|"
    r"etwa|max(imum|imaal)?|jusqu'?[aà]|bis zu|tot|budget|total|tvac|ttc|htva|ht|hors tva|"
    r"tva (comprise|incluse)|inkl\.? ?mwst|incl\.? ?btw|excl\.? ?btw|exkl\.? ?mwst)\b\.?"
    r"|[~±≈:=]|\+/-",
)
_EURO = re.compile(r"€|\beur(o|os)?\b")
_FOREIGN_CURRENCY = re.compile(r"[$£¥]|\b(usd|gbp|chf|dollars?|livres?|pounds?|francs?)\b")
_MULTIPLIERS = (
    (re.compile(r"(?<=[\d\s.,])(mio|millions?|mln|m)$"), Decimal(1_000_000)),
    (re.compile(r"(?<=[\d\s.,])(k|mille|tsd|duizend)$"), Decimal(1_000)),
)
_UNITS = re.compile(
    r"(m²|m2|m\s?\^?\s?2|mq|sqm|qm|quadratmeter|vierkante meter|m[eè]tres? carr[eé]s?|"
    r"square met(er|re)s?)\.?$"
)
#: "250-300k", "250 000 à 300 000", "250/300 000", "200 tot 250 duizend": two amounts.
_RANGE = re.compile(r"\d\s*[-\u2212\u2013/]\s*\d|\d\s*(a|à|tot|bis|to|et|and|und|en|ou|or|of)\s*\d")


def _digits_and_separators(text: str) -> str:
    if re.search(r"^[-\u2212\u2013]|^\(.*\)$", text):
        raise Rejected("valeur négative")
    text = re.sub(r"[.,]\s*[-\u2013]+$", "", text).strip()  # "250.000,-" (Belgian/Swiss style)
    if not re.fullmatch(r"\d[\d .,']*", text):
        raise Rejected("texte inattendu")
    return text


def _split_separators(text: str, *, scaled: bool) -> tuple[str, str]:
    """(integer digits, fraction digits) once the decimal separator is identified."""
    text = text.strip()
    dots, commas = text.count("."), text.count(",")
    decimal_sep: str | None = None
    if dots and commas:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        if text.count(decimal_sep) > 1:
            raise Rejected("séparateurs incohérents")
    elif dots == 1 or commas == 1:
        sep = "." if dots else ","
        after = text.rsplit(sep, 1)[1].strip()
        if len(after) == 3 and scaled:
            raise Rejected("séparateur ambigu devant un multiplicateur")
        if len(after) in (1, 2) or scaled or text.split(sep)[0].strip() == "0":
            decimal_sep = sep
        elif len(after) != 3:
            raise Rejected("séparateur ambigu")
    if decimal_sep is None:
        whole, fraction = text, ""
    else:
        whole, fraction = text.rsplit(decimal_sep, 1)
    thousands = {".", ","} - {decimal_sep}
    groups = re.split(r"[ '" + "".join(re.escape(t) for t in thousands) + r"]+", whole.strip())
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or groups[0] == "0" or any(len(g) != 3 for g in groups[1:])
    ):
        raise Rejected("chiffres mal groupés")
    digits = "".join(groups)
    fraction = fraction.strip()
    if not digits.isdigit() or (fraction and not fraction.isdigit()):
        raise Rejected("chiffres mal groupés")
    return digits, fraction


def _parse(text: str, *, what: str, money: bool) -> Decimal:
    original = normalise_spaces(text).strip()
    cleaned = original.lower()
    if _RANGE.search(cleaned):
        raise Rejected(f"{what} illisible {quote(original)} : fourchette")
    cleaned = _HEDGES.sub(" ", cleaned)
    if money:
        if _FOREIGN_CURRENCY.search(cleaned):
            raise Rejected(f"devise non gérée {quote(original)}")
        cleaned = _EURO.sub(" ", cleaned)
    else:
        cleaned = _UNITS.sub("", cleaned.strip())
    cleaned = " ".join(cleaned.split())
    multiplier = Decimal(1)
    if money:
        for pattern, factor in _MULTIPLIERS:
            if pattern.search(cleaned):
                cleaned, multiplier = pattern.sub("", cleaned).strip(), factor
                break
    try:
        digits = _digits_and_separators(cleaned)
        whole, fraction = _split_separators(digits, scaled=multiplier != 1)
    except Rejected as exc:
        raise Rejected(f"{what} illisible {quote(original)} : {exc.reason}") from None
    if len(whole.lstrip("0")) + len(str(multiplier)) - 1 > _MAX_DIGITS:
        raise Rejected(f"{what} illisible {quote(original)} : trop de chiffres")
    return Decimal(f"{whole}.{fraction[:_MAX_DIGITS]}" if fraction else whole) * multiplier


def money(text: str) -> Decimal:
    """Euros as a Decimal rounded half-up to the cent: "250.000,00 EUR" -> 250000.00.

    Accepts spaces (also non-breaking) and apostrophes as thousands separators, "€", "EUR",
    "euros", hedges such as "environ" or "max.", VAT mentions, "k" and "mio"/"M" suffixes, and
    a trailing ",-". Refuses other currencies, negative amounts, ranges and anything whose
    separators could be read two ways.
    """
    value = _parse(text, what="montant", money=True)
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def number(text: str) -> Decimal:
    """A quantity, with a unit of area if any: "180 m²", "env. 1.250,5 m2" -> Decimal.

    Separators follow the same rules as ``money``; the engine rounds the result to the
    field's scale.
    """
    return _parse(text, what="nombre", money=False)


def integer(text: str) -> Decimal:
    """A whole quantity: like ``number``, rounded half-up ("180,5 m²" -> 181)."""
    return _parse(text, what="nombre", money=False).quantize(Decimal(1), rounding=ROUND_HALF_UP)
