"""Masking of personal data for roles that do not need to see it whole."""


def mask_phone(phone: str) -> str:
    """Keep enough to recognise a number, never enough to call it: 138****5678, 05****01."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 10:
        return f"{phone[:3]}****{phone[-4:]}"
    return f"{phone[:2]}****{phone[-2:]}" if len(phone) > 4 else "****"


def mask_id_number(number: str) -> str:
    """Enough to tell two people apart on a list, never enough to use: 3501**********1234."""
    number = number or ""
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
