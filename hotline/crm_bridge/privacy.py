"""Phone numbers are personal data (art. 22): mask them wherever they are shown."""


def mask_number(number: str) -> str:
    """Keep the first 3 and last 2 digits: 13800138000 -> 138******00."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
