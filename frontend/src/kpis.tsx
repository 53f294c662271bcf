// KPI section of the CRM page: headline figures and charts drawn as plain SVG. Every chart has a
// title, an aria-label summary and a visually hidden table with the same numbers, so a screen
// reader (and a test) reads what the picture shows.
import { Box, Button, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { type Cohort, type Count, type Exposure, gql, type Kpis, KPIS, type Money, type Session } from "./api";
import { FlowChart, RfmChart } from "./charts";
import type { Key, T } from "./i18n";

type Props = { session: Session; t: T; locale: string };

export const STAGES = ["new", "active", "at_risk", "dormant", "lost"] as const;
const STAGE_COLOURS: Record<string, string> = {
  new: "#4c8bf5",
  active: "#2e9d5b",
  at_risk: "#e0a100",
  dormant: "#8e6bd8",
  lost: "#d64545",
};
const BAR = "#4c8bf5";
const BAR_2 = "#e0a100";
const PERIODS = [30, 90, 365] as const;

const HIDDEN: React.CSSProperties = {
  position: "absolute",
  width: "1px",
  height: "1px",
  padding: 0,
  margin: "-1px",
  overflow: "hidden",
  clip: "rect(0, 0, 0, 0)",
  whiteSpace: "nowrap",
  border: 0,
};

// The last `days` local days including today, as the report's [from, to) of calendar dates.
export function lastDays(days: number, today = new Date()): { from: string; to: string } {
  const stop = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate() + 1));
  const start = new Date(stop.getTime() - days * 86400000);
  return { from: start.toISOString().slice(0, 10), to: stop.toISOString().slice(0, 10) };
}

export function money(m: Money | null | undefined, locale: string): string {
  if (!m) return "—";
  return new Intl.NumberFormat(locale, { style: "currency", currency: m.currency }).format(m.amount);
}

function percent(v: number | null | undefined, locale: string): string {
  if (v == null) return "—";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(v);
}

function month(value: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: "short", year: "numeric", timeZone: "UTC" }).format(
    new Date(value + "T00:00:00Z"),
  );
}

function day(value: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(value + "T00:00:00Z"));
}

function shortDay(value: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" }).format(new Date(value + "T00:00:00Z"));
}

export function stageLabel(t: T, name: string): string {
  return t(`stage_${name}` as Key) || name.replace(/_/g, " ");
}

type Table = { head: string[]; rows: string[][] };

export function Chart({ id, title, summary, table, children }: { id: string; title: string; summary: string; table: Table; children: React.ReactNode }) {
  return (
    <Box
      as="figure"
      data-testid={`chart-${id}`}
      margin={0}
      padding={3}
      borderRadius={4}
      borderWidth={1}
      borderStyle="solid"
      borderColor="default1"
      display="flex"
      flexDirection="column"
      gap={2}
      __minWidth="0"
    >
      <Text as="h3" size={4} fontWeight="bold">
        {title}
      </Text>
      <Box role="img" aria-label={summary} overflowX="auto">
        {children}
      </Box>
      <div style={HIDDEN}>
      <table data-testid={`table-${id}`}>
        <caption>{title}</caption>
        <thead>
          <tr>
            {table.head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (j === 0 ? <th key={j} scope="row">{cell}</th> : <td key={j}>{cell}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </Box>
  );
}

export function Legend({ items }: { items: { label: string; colour: string }[] }) {
  return (
    <Box as="ul" display="flex" flexWrap="wrap" gap={3} padding={0} margin={0} style={{ listStyle: "none" }} aria-hidden="true">
      {items.map((i) => (
        <Box as="li" key={i.label} display="flex" alignItems="center" gap={1}>
          <span style={{ display: "inline-block", width: 10, height: 10, background: i.colour, borderRadius: 2 }} />
          <Text size={2}>{i.label}</Text>
        </Box>
      ))}
    </Box>
  );
}

function StageChart({ kpis, t, locale, weekly }: { kpis: Kpis; t: T; locale: string; weekly: boolean }) {
  const points = kpis.stageSeries;
  const n = new Intl.NumberFormat(locale);
  const count = (p: { stages: Count[] }, s: string) => p.stages.find((x) => x.name === s)?.customers ?? 0;
  const totals = points.map((p) => STAGES.reduce((a, s) => a + count(p, s), 0));
  const max = Math.max(1, ...totals);
  const W = 600;
  const H = 180;
  const step = W / Math.max(1, points.length);
  const last = points[points.length - 1];
  const summary = last
    ? t("stagesSummary", {
        date: day(last.starts, locale),
        list: STAGES.map((s) => `${stageLabel(t, s)} ${n.format(count(last, s))}`).join(", "),
      })
    : t("noData");
  return (
    <Chart
      id="stages"
      title={t("chartStages")}
      summary={summary}
      table={{
        head: [t("periodStart"), ...STAGES.map((s) => stageLabel(t, s))],
        rows: points.map((p) => [day(p.starts, locale), ...STAGES.map((s) => n.format(count(p, s)))]),
      }}
    >
      <svg viewBox={`0 0 ${W} ${H + 20}`} width="100%" style={{ maxWidth: W, display: "block", direction: "ltr" }}>
        {points.map((p, i) => {
          let y = H;
          return (
            <g key={p.starts}>
              {STAGES.map((s) => {
                const h = (count(p, s) / max) * (H - 10);
                y -= h;
                return <rect key={s} x={i * step + step * 0.15} y={y} width={step * 0.7} height={h} fill={STAGE_COLOURS[s]} />;
              })}
              {(points.length <= 6 || i % Math.ceil(points.length / 6) === 0) && (
                <text x={i * step + step / 2} y={H + 14} fontSize="10" textAnchor="middle" fill="currentColor">
                  {weekly ? shortDay(p.starts, locale) : month(p.starts, locale)}
                </text>
              )}
            </g>
          );
        })}
        <line x1={0} x2={W} y1={H} y2={H} stroke="currentColor" strokeWidth={1} />
      </svg>
      <Legend items={STAGES.map((s) => ({ label: stageLabel(t, s), colour: STAGE_COLOURS[s] }))} />
    </Chart>
  );
}

function Bars({ id, title, rows, t, format }: { id: string; title: string; rows: { label: string; value: number; colour?: string }[]; t: T; format: (v: number) => string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const W = 600;
  const row = 26;
  const label = 150;
  return (
    <Chart
      id={id}
      title={title}
      summary={rows.length ? rows.map((r) => `${r.label}: ${format(r.value)}`).join(", ") : t("noData")}
      table={{ head: ["", title], rows: rows.map((r) => [r.label, format(r.value)]) }}
    >
      {rows.length ? (
        <svg viewBox={`0 0 ${W} ${rows.length * row}`} width="100%" style={{ maxWidth: W, display: "block", direction: "ltr" }}>
          {rows.map((r, i) => {
            const w = ((W - label - 90) * r.value) / max;
            return (
              <g key={r.label} transform={`translate(0 ${i * row})`}>
                <text x={0} y={row / 2 + 4} fontSize="12" fill="currentColor">
                  {r.label}
                </text>
                <rect x={label} y={4} width={w} height={row - 8} fill={r.colour ?? BAR} rx={2} />
                <text x={label + w + 6} y={row / 2 + 4} fontSize="12" fill="currentColor">
                  {format(r.value)}
                </text>
              </g>
            );
          })}
        </svg>
      ) : (
        <Text>{t("noData")}</Text>
      )}
    </Chart>
  );
}

function CohortChart({ cohorts, t, locale }: { cohorts: Cohort[]; t: T; locale: string }) {
  const width = Math.max(1, ...cohorts.map((c) => c.retention.length));
  const cols = Array.from({ length: width }, (_, i) => i);
  const cell = (c: Cohort, i: number) => c.retention.find((r) => r.monthsSince === i);
  const n = new Intl.NumberFormat(locale);
  const W = 110 + width * 56;
  const H = 20 + cohorts.length * 26;
  return (
    <Chart
      id="cohorts"
      title={t("chartCohorts")}
      summary={
        cohorts.length
          ? t("cohortsSummary", { n: cohorts.length, first: month(cohorts[0].month, locale) })
          : t("noData")
      }
      table={{
        head: [t("cohortMonth"), t("customers"), ...cols.map((i) => t("monthN", { n: i }))],
        rows: cohorts.map((c) => [
          month(c.month, locale),
          n.format(c.customers),
          ...cols.map((i) => {
            const x = cell(c, i);
            return x ? percent(x.share, locale) : "—";
          }),
        ]),
      }}
    >
      {cohorts.length ? (
        <svg viewBox={`0 0 ${W} ${H}`} width="100%" style={{ maxWidth: W, display: "block", direction: "ltr" }}>
          {cols.map((i) => (
            <text key={i} x={110 + i * 56 + 28} y={12} fontSize="10" textAnchor="middle" fill="currentColor">
              {t("monthN", { n: i })}
            </text>
          ))}
          {cohorts.map((c, r) => (
            <g key={c.month} transform={`translate(0 ${20 + r * 26})`}>
              <text x={0} y={16} fontSize="11" fill="currentColor">
                {month(c.month, locale)} ({n.format(c.customers)})
              </text>
              {cols.map((i) => {
                const x = cell(c, i);
                if (!x) return null;
                return (
                  <g key={i}>
                    <rect x={110 + i * 56} y={1} width={54} height={24} fill={BAR} fillOpacity={0.12 + 0.88 * x.share} />
                    <text x={110 + i * 56 + 27} y={17} fontSize="10" textAnchor="middle" fill={x.share > 0.5 ? "#fff" : "currentColor"}>
                      {percent(x.share, locale)}
                    </text>
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
      ) : (
        <Text>{t("noData")}</Text>
      )}
    </Chart>
  );
}

function CurrencyChart({ exposure, t, locale }: { exposure: Exposure; t: T; locale: string }) {
  const rows = exposure.totals;
  const max = Math.max(1, ...rows.flatMap((r) => [r.atOrderRates.amount, r.atTodaysRates?.amount ?? 0]));
  const W = 600;
  const row = 44;
  return (
    <Chart
      id="currency"
      title={t("chartCurrency")}
      summary={
        rows.length
          ? rows
              .map((r) => `${r.currency}: ${money(r.revenue, locale)}, ${t("atOrderRates")} ${money(r.atOrderRates, locale)}, ${t("atTodaysRates")} ${money(r.atTodaysRates, locale)}`)
              .join("; ")
          : t("noData")
      }
      table={{
        head: [t("currency"), t("orders"), t("revenue"), t("atOrderRates"), t("atTodaysRates"), t("difference")],
        rows: rows.map((r) => [
          r.currency,
          new Intl.NumberFormat(locale).format(r.orders),
          money(r.revenue, locale),
          money(r.atOrderRates, locale),
          money(r.atTodaysRates, locale),
          money(r.difference, locale),
        ]),
      }}
    >
      {rows.length ? (
        <>
          <svg viewBox={`0 0 ${W} ${rows.length * row}`} width="100%" style={{ maxWidth: W, display: "block", direction: "ltr" }}>
            {rows.map((r, i) => {
              const a = ((W - 60 - 130) * r.atOrderRates.amount) / max;
              const b = ((W - 60 - 130) * (r.atTodaysRates?.amount ?? 0)) / max;
              return (
                <g key={r.currency} transform={`translate(0 ${i * row})`}>
                  <text x={0} y={row / 2 + 4} fontSize="12" fill="currentColor">
                    {r.currency}
                  </text>
                  <rect x={60} y={4} width={a} height={16} fill={BAR} rx={2} />
                  <text x={66 + a} y={16} fontSize="11" fill="currentColor">
                    {money(r.atOrderRates, locale)}
                  </text>
                  {r.atTodaysRates && (
                    <>
                      <rect x={60} y={22} width={b} height={16} fill={BAR_2} rx={2} />
                      <text x={66 + b} y={34} fontSize="11" fill="currentColor">
                        {money(r.atTodaysRates, locale)}
                      </text>
                    </>
                  )}
                </g>
              );
            })}
          </svg>
          <Legend items={[{ label: t("atOrderRates"), colour: BAR }, { label: t("atTodaysRates"), colour: BAR_2 }]} />
        </>
      ) : (
        <Text>{t("noData")}</Text>
      )}
    </Chart>
  );
}

function Figure({ id, label, value }: { id: string; label: string; value: string }) {
  return (
    <Box display="flex" flexDirection="column" padding={3} borderRadius={4} borderWidth={1} borderStyle="solid" borderColor="default1">
      <Box as="dt"><Text size={2}>
        {label}
      </Text></Box>
      <Box as="dd" margin={0}><Text size={6} fontWeight="bold" data-testid={`kpi-${id}`}>
        {value}
      </Text></Box>
    </Box>
  );
}

type Data = { kpis: Kpis; cohorts: Cohort[]; exposure: Exposure };

export function KpiSection({ session, t, locale }: Props) {
  const [days, setDays] = useState<number>(30);
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState("");
  const period = lastDays(days);
  // A period picked while another is loading: the answer for the earlier one is dropped, or it
  // could arrive last and show its figures under the new period's button.
  useEffect(() => {
    let current = true;
    setData(null);
    setError("");
    gql<{ crmKpis: Kpis; crmCohorts: Cohort[]; crmCurrencyExposure: Exposure }>(session, KPIS, {
      period,
      interval: days > 90 ? "MONTH" : "WEEK",
    })
      .then((d) => current && setData({ kpis: d.crmKpis, cohorts: d.crmCohorts, exposure: d.crmCurrencyExposure }))
      .catch((e: Error) => current && setError(e.message));
    return () => {
      current = false;
    };
  }, [session.token, days]);
  const n = new Intl.NumberFormat(locale);
  const k = data?.kpis;
  return (
    <Box as="section" display="flex" flexDirection="column" gap={3} data-testid="kpis" data-from={period.from} data-to={period.to}>
      <Text as="h2" size={5} fontWeight="bold">
        {t("keyFigures")}
      </Text>
      <Box role="group" aria-label={t("period")} display="flex" gap={2} flexWrap="wrap">
        {PERIODS.map((p) => (
          <Button key={p} type="button" variant={p === days ? "primary" : "secondary"} aria-pressed={p === days} onClick={() => setDays(p)}>
            {t("lastDays", { n: p })}
          </Button>
        ))}
      </Box>
      {error && (
        <Text role="alert" color="critical1">
          {t("error", { message: error })}
        </Text>
      )}
      {!k ? (
        !error && <Text>{t("loading")}</Text>
      ) : (
        <>
          <Box as="dl" display="grid" gap={2} margin={0} __gridTemplateColumns="repeat(auto-fill, minmax(160px, 1fr))">
            <Figure id="customers" label={t("customers")} value={n.format(k.customers)} />
            <Figure id="new" label={t("newCustomers")} value={n.format(k.newCustomers)} />
            <Figure id="returning" label={t("returningCustomers")} value={n.format(k.returningCustomers)} />
            <Figure id="repeat" label={t("repeatRate")} value={percent(k.repeatPurchaseRate, locale)} />
            <Figure id="aov" label={t("aov")} value={money(k.averageOrderValue, locale)} />
            <Figure id="revenue" label={t("netRevenue")} value={money(k.netRevenue, locale)} />
            <Figure id="churn" label={t("churnRate")} value={percent(k.churn.rate, locale)} />
            <Figure id="recovered" label={t("recoveredRevenue")} value={money(k.recovery.revenue, locale)} />
            {k.predictedCustomerValue && <Figure id="predicted" label={t("predictedValue")} value={money(k.predictedCustomerValue, locale)} />}
          </Box>
          <Box display="grid" gap={4} __gridTemplateColumns="repeat(auto-fit, minmax(min(100%, 420px), 1fr))">
            <StageChart kpis={k} t={t} locale={locale} weekly={days <= 90} />
            <Bars id="tiers" title={t("chartTiers")} t={t} format={(v) => n.format(v)} rows={k.tiers.map((x) => ({ label: x.name, value: x.customers }))} />
            <Bars
              id="recovery"
              title={t("chartRecovery")}
              t={t}
              format={(v) => n.format(v)}
              rows={[
                { label: t("recStarted"), value: k.recovery.started },
                { label: t("recReminded"), value: k.recovery.reminded },
                { label: t("recRecovered"), value: k.recovery.recovered, colour: STAGE_COLOURS.active },
              ]}
            />
            <CohortChart cohorts={data.cohorts} t={t} locale={locale} />
            <CurrencyChart exposure={data.exposure} t={t} locale={locale} />
            <RfmChart grid={k.rfmGrid} t={t} locale={locale} />
            <FlowChart flows={k.revenueByFlow} currency={k.currency} t={t} locale={locale} />
          </Box>
        </>
      )}
    </Box>
  );
}
