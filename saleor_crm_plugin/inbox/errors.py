"""Reasons a stored delivery could not be applied; the code is recorded on the delivery."""


class PayloadError(ValueError):
    code = "bad_payload"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
