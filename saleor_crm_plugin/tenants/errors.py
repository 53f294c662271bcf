class TenantError(Exception):
    code = "tenant_error"


class NotAllowed(TenantError):
    code = "saleor_not_allowed"


class UnknownTenant(TenantError):
    code = "unknown_saleor"
