// The CRM page's customer list: filters the server applies (crmCustomers), keyset paging, and
// each customer with an account linked to their page in Saleor's dashboard through the
// app-bridge (a redirect action: the app lives in an iframe and cannot navigate the dashboard).
import { actions, useAppBridge } from "@saleor/app-sdk/app-bridge";
import { Box, Button, Input, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { type Customer, gql, type Session } from "./api";
import { Select } from "./builder";
import { groupLabel } from "./charts";
import type { T } from "./i18n";
import { money, STAGES, stageLabel } from "./kpis";

const GROUPS = [
  "champions", "loyal", "active", "needs_attention", "new", "promising",
  "at_risk", "previously_loyal", "almost_lost", "dormant", "prospects",
];
const PAGE = 20;

export const CUSTOMER_LIST = `
query CustomerList($first: Int!, $after: String, $filter: CRMCustomerFilterInput) {
  crmCustomers(first: $first, after: $after, filter: $filter, sortBy: { field: SPENT, direction: DESC }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id userId email firstName lastName ordersCount totalSpent { amount currency } country
      tier { name since nextTier missingForNext currency }
      points { available pending }
      scores { rfmGroup stage }
    } }
  }
}`;

type ListCustomer = Customer & { country: string | null };
type Filters = {
  search: string;
  group: string;
  stage: string;
  tier: string;
  tags: string;
  countries: string;
  spentMin: string;
  spentMax: string;
};
const EMPTY: Filters = { search: "", group: "", stage: "", tier: "", tags: "", countries: "", spentMin: "", spentMax: "" };

function list(text: string, upper = false): string[] | null {
  const items = text
    .split(",")
    .map((x) => (upper ? x.trim().toUpperCase() : x.trim()))
    .filter(Boolean);
  return items.length ? items : null;
}

function number(text: string): number | null {
  const value = Number(text.replace(",", "."));
  return text.trim() === "" || Number.isNaN(value) ? null : value;
}

// The filter as crmCustomers takes it; empty fields are left out rather than sent empty.
export function toFilter(f: Filters): Record<string, unknown> {
  const min = number(f.spentMin);
  const max = number(f.spentMax);
  const out: Record<string, unknown> = {
    search: f.search.trim() || null,
    rfmGroups: f.group ? [f.group] : null,
    stages: f.stage ? [f.stage] : null,
    tiers: f.tier ? [f.tier] : null,
    tags: list(f.tags),
    countries: list(f.countries, true),
    totalSpent: min == null && max == null ? null : { gte: min, lte: max },
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v != null));
}

function name(c: Customer): string {
  return [c.firstName, c.lastName].filter(Boolean).join(" ") || c.email;
}

const HIDDEN: React.CSSProperties = {
  position: "absolute", width: "1px", height: "1px", padding: 0, margin: "-1px",
  overflow: "hidden", clip: "rect(0, 0, 0, 0)", whiteSpace: "nowrap", border: 0,
};

type Props = {
  session: Session;
  t: T;
  locale: string;
  tiers: string[];
  version: number;
  onSelect: (c: Customer) => void;
};

export function CustomerList({ session, t, locale, tiers, version, onSelect }: Props) {
  const { appBridge } = useAppBridge();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<(string | null)[]>([null]); // one per page reached
  const [data, setData] = useState<{ rows: ListCustomer[]; total: number; next: string | null } | null>(null);
  const [currency, setCurrency] = useState("");
  const [error, setError] = useState("");
  const after = cursors[cursors.length - 1];
  // Filters changed while a page is loading: the older answer is dropped (see KpiSection).
  useEffect(() => {
    let current = true;
    const handle = setTimeout(() => {
      setError("");
      gql<{
        crmCustomers: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          edges: { node: ListCustomer }[];
        };
      }>(session, CUSTOMER_LIST, { first: PAGE, after, filter: toFilter(filters) })
        .then((d) => {
          if (!current) return;
          const rows = d.crmCustomers.edges.map((e) => e.node);
          if (rows.length) setCurrency(rows[0].totalSpent.currency);
          setData({
            rows,
            total: d.crmCustomers.totalCount,
            next: d.crmCustomers.pageInfo.hasNextPage ? d.crmCustomers.pageInfo.endCursor : null,
          });
        })
        .catch((e: Error) => current && setError(e.message));
    }, 250);
    return () => {
      current = false;
      clearTimeout(handle);
    };
  }, [session.token, filters, after, version]);

  // A new filter starts again from the first page.
  const set = (key: keyof Filters) => (value: string) => {
    setFilters((f) => ({ ...f, [key]: value }));
    setCursors([null]);
  };
  const open = (c: Customer) => {
    if (c.userId) appBridge?.dispatch(actions.Redirect({ to: `/customers/${encodeURIComponent(c.userId)}` }));
  };
  const n = new Intl.NumberFormat(locale);
  const first = (cursors.length - 1) * PAGE;
  const any = { value: "", label: t("listAny") };
  const heads = [t("customer"), t("rfmGroup"), t("lifecycleStage"), t("tier"), t("points"), t("orders"), t("spent"), ""];
  return (
    <Box as="section" display="flex" flexDirection="column" gap={3} data-testid="customer-list" __minWidth="0">
      <Text as="h2" size={5} fontWeight="bold">
        {`${t("customers")}${data ? ` (${n.format(data.total)})` : ""}`}
      </Text>
      <Box
        as="form"
        role="search"
        aria-label={t("listFilters")}
        onSubmit={(e: React.FormEvent) => e.preventDefault()}
        display="grid"
        gap={2}
        alignItems="end"
        __gridTemplateColumns="repeat(auto-fill, minmax(min(100%, 180px), 1fr))"
      >
        <Input role={undefined} label={t("search")} value={filters.search} onChange={(e) => set("search")(e.target.value)} />
        <Box display="flex" flexDirection="column" gap={1}>
          <Text size={2}>{t("rfmGroup")}</Text>
          <Select label={t("rfmGroup")} value={filters.group} onChange={set("group")} options={[any, ...GROUPS.map((g) => ({ value: g, label: groupLabel(t, g) }))]} />
        </Box>
        <Box display="flex" flexDirection="column" gap={1}>
          <Text size={2}>{t("lifecycleStage")}</Text>
          <Select label={t("lifecycleStage")} value={filters.stage} onChange={set("stage")} options={[any, ...STAGES.map((s) => ({ value: s, label: stageLabel(t, s) }))]} />
        </Box>
        <Box display="flex" flexDirection="column" gap={1}>
          <Text size={2}>{t("tier")}</Text>
          <Select label={t("tier")} value={filters.tier} onChange={set("tier")} options={[any, ...tiers.map((x) => ({ value: x, label: x }))]} />
        </Box>
        <Input role={undefined} label={t("listTags")} value={filters.tags} onChange={(e) => set("tags")(e.target.value)} />
        <Input role={undefined} label={t("listCountries")} value={filters.countries} onChange={(e) => set("countries")(e.target.value)} />
        <Input role={undefined} label={t("listSpentMin", { currency })} type="number" min={0} value={filters.spentMin} onChange={(e) => set("spentMin")(e.target.value)} />
        <Input role={undefined} label={t("listSpentMax", { currency })} type="number" min={0} value={filters.spentMax} onChange={(e) => set("spentMax")(e.target.value)} />
        <Button type="button" variant="secondary" onClick={() => { setFilters(EMPTY); setCursors([null]); }}>
          {t("listClear")}
        </Button>
      </Box>
      {error && (
        <Text role="alert" color="critical1">
          {t("error", { message: error })}
        </Text>
      )}
      <Box overflowX="auto" position="relative" __minWidth="0" __maxWidth="100%">
        <Box as="table" width="100%" style={{ borderCollapse: "collapse" }} data-testid="customer-table">
          <thead>
            <tr>
              {heads.map((h, i) => (
                <Box as="th" key={i} scope="col" textAlign="left" padding={2} borderBottomWidth={1} borderBottomStyle="solid" borderColor="default1">
                  {h ? <Text fontWeight="bold">{h}</Text> : <span style={HIDDEN}>{t("adjustTitle")}</span>}
                </Box>
              ))}
            </tr>
          </thead>
          <tbody>
            {data?.rows.map((c) => (
              <tr key={c.id} data-testid="customer-row" data-email={c.email}>
                <Box as="td" padding={2}>
                  {c.userId ? (
                    <Button type="button" variant="tertiary" aria-label={t("listOpen", { name: name(c) })} onClick={() => open(c)}>
                      {name(c)}
                    </Button>
                  ) : (
                    <Box display="flex" flexDirection="column">
                      <Text>{name(c)}</Text>
                      <Text size={2} color="default2">{t("listGuest")}</Text>
                    </Box>
                  )}
                </Box>
                <Box as="td" padding={2}><Text>{c.scores?.rfmGroup ? groupLabel(t, c.scores.rfmGroup) : "—"}</Text></Box>
                <Box as="td" padding={2}><Text>{c.scores?.stage ? stageLabel(t, c.scores.stage) : "—"}</Text></Box>
                <Box as="td" padding={2}><Text>{c.tier?.name ?? "—"}</Text></Box>
                <Box as="td" padding={2}><Text>{n.format(c.points.available)}</Text></Box>
                <Box as="td" padding={2}><Text>{n.format(c.ordersCount)}</Text></Box>
                <Box as="td" padding={2}><Text>{money(c.totalSpent, locale)}</Text></Box>
                <Box as="td" padding={2}>
                  <Button type="button" variant="secondary" size="small" onClick={() => onSelect(c)}>
                    {t("points")}
                    <span style={HIDDEN}> — {name(c)}</span>
                  </Button>
                </Box>
              </tr>
            ))}
          </tbody>
        </Box>
      </Box>
      {data && data.rows.length === 0 && <Text>{t("listNone")}</Text>}
      {data && (
        <Box display="flex" gap={2} alignItems="center" flexWrap="wrap">
          <Button type="button" variant="secondary" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            {t("listPrevious")}
          </Button>
          <Text data-testid="customer-range">
            {t("listShowing", {
              from: n.format(data.rows.length ? first + 1 : 0),
              to: n.format(first + data.rows.length),
              total: n.format(data.total),
            })}
          </Text>
          <Button type="button" variant="secondary" disabled={!data.next} onClick={() => data.next && setCursors((c) => [...c, data.next])}>
            {t("listNext")}
          </Button>
        </Box>
      )}
    </Box>
  );
}
