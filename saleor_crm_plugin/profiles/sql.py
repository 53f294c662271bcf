"""SQL fragments shared by the set-based statements of this capability."""

# The profile an order, checkout or timeline entry belongs to: the account's profile when Saleor
# names a user; for a guest, the registered profile with that e-mail (a guest's history joins
# the account), else the guest profile. Expects ``t`` (tenant id) and ``v.user_id``/``v.email``.
PROFILE_FOR = """
COALESCE(
  (SELECT p.id FROM crm_profile p WHERE p.tenant_id = %(tenant)s AND p.user_id = v.user_id),
  CASE WHEN v.user_id IS NULL AND v.email <> '' THEN
    (SELECT p.id FROM crm_profile p WHERE p.tenant_id = %(tenant)s AND p.email = v.email
     ORDER BY p.user_id IS NULL, p.id LIMIT 1)
  END)
"""

# Salted e-mail hash of a deletion tombstone, computed the same way in SQL everywhere.
EMAIL_HASH = "encode(sha256(convert_to({tenant}::text || ':' || {email}, 'UTF8')), 'hex')"
