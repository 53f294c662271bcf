class TrackingError(ValueError):
    code = "INVALID"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class RateLimited(TrackingError):
    code = "RATE_LIMITED"
