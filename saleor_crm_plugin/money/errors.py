"""Money errors carry a stable code, recorded on the delivery that caused them."""


class MoneyError(ValueError):
    code = "money_error"


class UnknownCurrency(MoneyError):
    code = "unknown_currency"


class InvalidAmount(MoneyError):
    code = "invalid_amount"


class MissingRate(MoneyError):
    code = "missing_fx_rate"
