"""Phone numbers to E.164 ("+32475123456"), the one form Salesforce users can click to call
and the service can compare.

People type national numbers ("0475 12 34 56"), so the number is read in the client's
country first; then in the other countries Naturhome works in, because a Belgian living in
Luxembourg often gives a Belgian mobile number.
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers

from naturhome_sync.mapping.common import Rejected, normalise_spaces, quote


def phone_e164(text: str, *, regions: Sequence[str] = ("BE",)) -> str:
    """The number in E.164, read in ``regions`` in order (the first valid reading wins).

    An international number ("+352 621 123 456", "00352 621 123 456") ignores ``regions``.
    A number no region makes valid is rejected: a wrong number in Salesforce is worse than
    none, and the rep still has the e-mail address.
    """
    cleaned = normalise_spaces(text).strip()
    for region in regions or ("BE",):
        try:
            number = phonenumbers.parse(cleaned, region.upper())
        except phonenumbers.NumberParseException:
            break  # not a phone number at all, whatever the region
        if phonenumbers.is_valid_number(number):
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    raise Rejected(f"numéro de téléphone invalide {quote(cleaned)}")
