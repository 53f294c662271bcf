// The RFM grid and revenue by flow, drawn as plain SVG like the other KPI charts, each with a
// summary and a visually hidden table repeating every number.
import { Box, Text } from "@saleor/macaw-ui";

import type { FlowRevenue, RfmGrid } from "./api";
import type { Key, T } from "./i18n";
import { Chart, money } from "./kpis";

// Fill per RFM group; the cell's text is black or white, whichever reads better on it.
const GROUP_COLOURS: Record<string, string> = {
  champions: "#1e7b45",
  loyal: "#3c9a5f",
  active: "#8fd19e",
  new: "#2f6fdf",
  promising: "#a9cbff",
  needs_attention: "#f2c94c",
  at_risk: "#e8913a",
  almost_lost: "#c23b3b",
  previously_loyal: "#7a52c7",
  dormant: "#9aa0a8",
  prospects: "#d9dde3",
};
const GROUP_ORDER = [
  "champions", "loyal", "active", "new", "promising", "needs_attention",
  "at_risk", "almost_lost", "previously_loyal", "dormant", "prospects",
];

function ink(fill: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(fill.slice(i, i + 2), 16) / 255);
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#000" : "#fff";
}

export function groupLabel(t: T, name: string): string {
  return t(`group_${name}` as Key) || name.replace(/_/g, " ");
}

export function RfmChart({ grid, t, locale }: { grid: RfmGrid; t: T; locale: string }) {
  const n = new Intl.NumberFormat(locale);
  const scored = grid.cells.reduce((a, c) => a + c.customers, 0);
  const groups = [...grid.groups].sort(
    (a, b) => GROUP_ORDER.indexOf(a.name) - GROUP_ORDER.indexOf(b.name),
  );
  const largest = [...grid.groups].filter((g) => g.name !== "prospects").sort((a, b) => b.customers - a.customers)[0];
  const C = 64;
  const left = 28;
  const W = left + 5 * C;
  const H = 5 * C + 26;
  return (
    <Chart
      id="rfm"
      title={t("chartRfm")}
      summary={
        scored && largest
          ? t("rfmSummary", { n: scored, group: groupLabel(t, largest.name), count: n.format(largest.customers) })
          : t("noData")
      }
      table={{
        head: ["R, FM", t("rfmGroup"), t("customers")],
        rows: grid.cells.map((c) => [
          t("rfmCell", { r: c.recency, fm: c.frequencyMonetary }),
          groupLabel(t, c.group),
          n.format(c.customers),
        ]),
      }}
    >
      {scored ? (
        <>
          <svg viewBox={`0 0 ${W} ${H}`} width="100%" style={{ maxWidth: W + 40, display: "block", direction: "ltr" }}>
            {grid.cells.map((c) => {
              const x = left + (c.frequencyMonetary - 1) * C;
              const y = (5 - c.recency) * C;
              const fill = GROUP_COLOURS[c.group] ?? "#ccc";
              return (
                <g key={`${c.recency}-${c.frequencyMonetary}`}>
                  <rect x={x + 1} y={y + 1} width={C - 2} height={C - 2} fill={fill} fillOpacity={c.customers ? 1 : 0.35} rx={3} />
                  <text x={x + C / 2} y={y + C / 2 + 6} fontSize="16" fontWeight="bold" textAnchor="middle" fill={c.customers ? ink(fill) : "currentColor"}>
                    {n.format(c.customers)}
                  </text>
                </g>
              );
            })}
            {[5, 4, 3, 2, 1].map((r) => (
              <text key={`r${r}`} x={left - 8} y={(5 - r) * C + C / 2 + 4} fontSize="12" textAnchor="end" fill="currentColor">
                {r}
              </text>
            ))}
            {[1, 2, 3, 4, 5].map((f) => (
              <text key={`f${f}`} x={left + (f - 1) * C + C / 2} y={5 * C + 18} fontSize="12" textAnchor="middle" fill="currentColor">
                {f}
              </text>
            ))}
          </svg>
          <Text as="p" size={2} margin={0}>
            ↑ {t("rfmRecency")} · → {t("rfmFm")}
          </Text>
          <Text as="p" size={2} margin={0}>
            {t("rfmHelp")}
          </Text>
          <Box as="ul" display="flex" flexWrap="wrap" gap={3} padding={0} margin={0} style={{ listStyle: "none" }} data-testid="rfm-groups">
            {groups.map((g) => (
              <Box as="li" key={g.name} display="flex" alignItems="center" gap={1}>
                <span aria-hidden="true" style={{ display: "inline-block", width: 10, height: 10, background: GROUP_COLOURS[g.name] ?? "#ccc", borderRadius: 2 }} />
                <Text size={2}>
                  {groupLabel(t, g.name)} {n.format(g.customers)}
                </Text>
              </Box>
            ))}
          </Box>
        </>
      ) : (
        <Text>{t("noData")}</Text>
      )}
    </Chart>
  );
}

export function flowLabel(t: T, f: FlowRevenue): string {
  if (f.flow === "checkout" || f.flow === "browse") return t(`flow_${f.flow}` as Key, { n: f.step ?? 1 });
  if (f.flow === "campaign") return t("flow_campaign", { name: f.campaignName ?? "" });
  return t(`flow_${f.flow}` as Key) || f.flow.replace(/_/g, " ");
}

export function FlowChart({ flows, currency, t, locale }: { flows: FlowRevenue[]; currency: string; t: T; locale: string }) {
  const n = new Intl.NumberFormat(locale);
  const total = flows.reduce((a, f) => a + f.revenue.amount, 0);
  const max = Math.max(1, ...flows.map((f) => f.revenue.amount));
  const W = 600;
  const row = 30;
  const label = 230;
  return (
    <Chart
      id="flows"
      title={t("chartFlows")}
      summary={
        flows.length
          ? t("flowsSummary", {
              total: money({ amount: total, currency }, locale),
              list: flows.map((f) => `${flowLabel(t, f)} ${money(f.revenue, locale)}`).join(", "),
            })
          : t("noData")
      }
      table={{
        head: [t("flowColumn"), t("orders"), t("customers"), t("revenue")],
        rows: flows.map((f) => [flowLabel(t, f), n.format(f.orders), n.format(f.customers), money(f.revenue, locale)]),
      }}
    >
      {flows.length ? (
        <>
          <svg viewBox={`0 0 ${W} ${flows.length * row}`} width="100%" style={{ maxWidth: W, display: "block", direction: "ltr" }}>
            {flows.map((f, i) => {
              const w = ((W - label - 100) * f.revenue.amount) / max;
              return (
                <g key={`${f.flow}-${f.step}-${f.campaignName}-${i}`} transform={`translate(0 ${i * row})`}>
                  <text x={0} y={row / 2 + 4} fontSize="12" fill="currentColor">
                    {flowLabel(t, f)}
                  </text>
                  <rect x={label} y={5} width={w} height={row - 10} fill={f.flow === "checkout" || f.flow === "browse" ? "#2e9d5b" : "#4c8bf5"} rx={2} />
                  <text x={label + w + 6} y={row / 2 + 4} fontSize="12" fill="currentColor">
                    {money(f.revenue, locale)}
                  </text>
                </g>
              );
            })}
          </svg>
          <Text as="p" size={2} margin={0}>
            {t("flowsHelp")}
          </Text>
        </>
      ) : (
        <Text>{t("noData")}</Text>
      )}
    </Chart>
  );
}
