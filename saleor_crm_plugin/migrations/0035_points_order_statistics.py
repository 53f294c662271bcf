from django.db import migrations

# Statistics on an order's key, ``split_part(source_id, '@', 1)``: how the ledger finds an
# order's entries through the partial index ``crm_points_order`` (ledger.py).
#
# ANALYZE does gather statistics for that index's expression (pg_stats, tablename
# 'crm_points_order'), but the planner reads an expression index's statistics only when the
# index is not partial (selfuncs.c, examine_variable: "We only consider stats for non-partial
# indexes"; seen on 15.20 and 18.6). Without them it took the default equality selectivity,
# 0.5% of the ledger per order: at 1M entries 5,040 rows per lookup for about one, so a batch of
# 500 orders was costed at 4.1M and spent ~265 ms compiling JIT code for ~10 ms of work.
# Expression statistics of the table (PostgreSQL 14+) are read whatever the indexes: the
# lookup is now costed at the order's own entries (1 row), and the index stays partial (no
# entry for bonuses, redemptions or expiries). tests/loyalty/test_ledger_plans.py checks it.
#
# ANALYZE now rather than at autovacuum's next turn on the table (after another 10% of the
# ledger is written): it reads a sample of at most 30,000 rows, a second or so whatever the
# ledger's size, and takes no lock that blocks writes.
STATISTICS = """
CREATE STATISTICS IF NOT EXISTS crm_points_order_key
  ON (split_part(source_id::text, '@', 1)) FROM crm_points_entry;
ANALYZE crm_points_entry;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("saleor_crm_plugin", "0034_bonus_order"),
    ]

    operations = [
        migrations.RunSQL(STATISTICS, "DROP STATISTICS IF EXISTS crm_points_order_key"),
    ]
