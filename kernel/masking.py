"""Masking of personal data for roles that do not need to see it whole."""


def mask_phone(phone: str) -> str:
    """Keep enough to recognise a number, never enough to call it: 138****5678, 05****01."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 10:
        return f"{phone[:3]}****{phone[-4:]}"
    return f"{phone[:2]}****{phone[-2:]}" if len(phone) > 4 else "****"
