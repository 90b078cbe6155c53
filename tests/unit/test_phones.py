"""`clean` keeps what it parsed of a phone: `number_is_assigned` of that parse must say what
`phone_is_assigned` of the stored E.164 text says, which parsed it again."""

import phonenumbers
import pytest

from leadsite import values

REGIONS = ["US", "GB", "FR", "DE", "IT", "NL", "BR", "IN", "JP", "AU", "CI", "SM", "VA", "AR"]
KINDS = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.VOIP,
]


def _written() -> list[tuple[str, str | None]]:
    """Numbers as people write them: each region's examples nationally and internationally,
    with a digit changed (often unassigned), and the odd ones (555, extensions, letters,
    Italy's leading zero)."""
    written: list[tuple[str, str | None]] = [
        ("+1-555-123-4567", None),
        ("(202) 555-0100", "US"),
        ("+1 800 FLOWERS", None),
        ("+44 20 7946 0958 ext. 12", None),
        ("06 6982 0000", "IT"),
        ("+39 06 6982 0000", None),
        ("+39 0549 123456", None),
        ("0044 20 7946 0000", "FR"),
        ("+225 01 23 45 6789", None),
    ]
    for region in REGIONS:
        for kind in KINDS:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            written.append((national, region))
            international = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            written.append((international, None))
            written.append((international[:-1] + str(9 - int(international[-1])), None))
    return written


@pytest.mark.parametrize(("raw", "region"), _written())
def test_the_parse_kept_is_assigned_as_its_e164_text_is(raw, region):
    try:
        number = values.parsed_phone(raw, region)
    except values.Invalid:
        with pytest.raises(values.Invalid):
            values.phone(raw, region)
        return

    assert values.e164(number) == values.phone(raw, region)
    assert values.number_is_assigned(number) is values.phone_is_assigned(values.phone(raw, region))
