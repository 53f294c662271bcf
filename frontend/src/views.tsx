import { Box, Button, Input, Text } from "@saleor/macaw-ui";
import { useCallback, useEffect, useState } from "react";

import {
  ADJUST,
  type Customer,
  DRY_RUN,
  gql,
  PROFILE,
  SAVE_RULES,
  type Session,
} from "./api";
import { SegmentSection } from "./builder";
import { CampaignSection } from "./campaigns";
import { EarningRulesForm } from "./earning";
import { FlowSection } from "./flows";
import { CustomerList } from "./customers";
import type { Key, T } from "./i18n";
import { KpiSection, stageLabel } from "./kpis";

type Props = { session: Session; t: T; locale: string };

const TIER_PROGRAM = `query TierProgram { crmTierProgram { version rules } }`;

function minorToMajor(minor: number, currency: string, locale: string): string {
  const digits =
    new Intl.NumberFormat(locale, { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(
    minor / 10 ** digits,
  );
}

function money(m: { amount: number; currency: string }, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency: m.currency }).format(m.amount);
}

function date(value: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(value));
}

export function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Box as="section" display="flex" flexDirection="column" gap={2} marginBottom={6}>
      <Text as="h2" size={5} fontWeight="bold">
        {title}
      </Text>
      {children}
    </Box>
  );
}

export function ErrorText({ t, message }: { t: T; message: string }) {
  return (
    <Text role="alert" color="critical1">
      {t("error", { message })}
    </Text>
  );
}

type Rules = { tiers?: { name: string; entry: number; by_currency?: Record<string, { entry: number }> }[]; basis?: string };

// Share of the way from the current tier to the next, when the rules say the threshold.
function progress(customer: Customer, rules: Rules | null): number | null {
  const tier = customer.tier;
  if (!tier?.nextTier || tier.missingForNext == null || !rules?.tiers) return null;
  const next = rules.tiers.find((x) => x.name === tier.nextTier);
  if (!next) return null;
  const entry = (tier.currency && next.by_currency?.[tier.currency]?.entry) || next.entry;
  if (!entry) return null;
  return Math.max(0, Math.min(1, (entry - tier.missingForNext) / entry));
}

export function TierCard({ customer, rules, t, locale }: { customer: Customer; rules: Rules | null; t: T; locale: string }) {
  const tier = customer.tier;
  const share = progress(customer, rules);
  const missing =
    tier?.missingForNext != null
      ? tier.currency
        ? minorToMajor(tier.missingForNext, tier.currency, locale)
        : new Intl.NumberFormat(locale).format(tier.missingForNext) + " " + t("points")
      : "";
  return (
    <Section title={t("tier")}>
      {tier?.name ? (
        <>
          <Text size={7} fontWeight="bold" data-testid="tier-name">
            {tier.name}
          </Text>
          {tier.since && <Text>{t("since", { date: date(tier.since, locale) })}</Text>}
        </>
      ) : (
        <Text>{t("noTier")}</Text>
      )}
      {tier && (
        <>
          {tier.nextTier ? (
            <>
              {share != null && (
                <Box
                  role="progressbar"
                  aria-label={t("toNext", { amount: missing, tier: tier.nextTier })}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round(share * 100)}
                  backgroundColor="default1Hovered"
                  borderRadius={4}
                  __height="8px"
                  overflow="hidden"
                >
                  <Box backgroundColor="accent1" __height="8px" __width={`${share * 100}%`} />
                </Box>
              )}
              <Text>{t("toNext", { amount: missing, tier: tier.nextTier })}</Text>
            </>
          ) : (
            <Text>{t("topTier")}</Text>
          )}
        </>
      )}
    </Section>
  );
}

function Points({ customer, t, locale }: { customer: Customer; t: T; locale: string }) {
  const n = (v: number) => new Intl.NumberFormat(locale).format(v);
  return (
    <Section title={t("points")}>
      <Text size={7} fontWeight="bold" data-testid="points-available">
        {n(customer.points.available)}
      </Text>
      <Text>
        {t("available")} · {n(customer.points.pending)} {t("pending")}
      </Text>
      <Text as="h3" size={4} fontWeight="bold">
        {t("history")}
      </Text>
      {customer.points.history?.length ? (
        <Box as="ul" display="flex" flexDirection="column" gap={1} padding={0} margin={0} style={{ listStyle: "none" }}>
          {customer.points.history.map((e, i) => (
            <Box as="li" key={i} display="flex" justifyContent="space-between" gap={2}>
              <Text>
                {t(`kind_${e.kind}` as Key) || e.kind} {e.reason ? `· ${e.reason}` : ""}
              </Text>
              <Text fontWeight="bold" dir="ltr">
                {e.points > 0 ? "+" : ""}
                {n(e.points)}
              </Text>
              <Text>{date(e.createdAt, locale)}</Text>
            </Box>
          ))}
        </Box>
      ) : (
        <Text>{t("noHistory")}</Text>
      )}
    </Section>
  );
}

function Knowledge({ customer, t, locale }: { customer: Customer; t: T; locale: string }) {
  const tags = customer.tags ?? [];
  const notes = customer.notes ?? [];
  const open = (customer.cases ?? []).filter((c) => c.status === "OPEN" || c.status === "WAITING");
  if (!tags.length && !notes.length && !open.length) return null;
  return (
    <Section title={t("knowledge")}>
      {tags.length ? <Text data-testid="customer-tags">{tags.map((x) => x.tag).join(" · ")}</Text> : null}
      {notes.length ? (
        <Box as="ul" display="flex" flexDirection="column" gap={1} padding={0} margin={0} style={{ listStyle: "none" }}>
          {notes.map((note, i) => (
            <Box as="li" key={i} display="flex" flexDirection="column">
              <Text>{note.body}</Text>
              <Text size={2}>
                {note.authorEmail} · {date(note.createdAt, locale)}
              </Text>
            </Box>
          ))}
        </Box>
      ) : null}
      {open.length ? (
        <>
          <Text as="h3" size={4} fontWeight="bold">
            {t("openCases")}
          </Text>
          <Box as="ul" display="flex" flexDirection="column" gap={1} padding={0} margin={0} style={{ listStyle: "none" }}>
            {open.map((c, i) => (
              <Box as="li" key={i} display="flex" justifyContent="space-between" gap={2}>
                <Text>{c.subject}</Text>
                <Text>{t("dueOn", { date: date(c.dueAtStaff.local, locale) })}</Text>
              </Box>
            ))}
          </Box>
        </>
      ) : null}
    </Section>
  );
}

// "crm.order.placed" -> "Order placed" in the staff member's language; an unknown kind keeps its
// area's label and the raw verb rather than disappearing.
export function timelineLabel(t: T, kind: string): string {
  const [, area = "", verb = ""] = kind.split(".");
  const exact = t(`ev_${area}_${verb}` as Key);
  if (exact) return exact;
  const label = t(`area_${area}` as Key);
  return label ? `${label}: ${verb.replace(/_/g, " ")}` : kind;
}

function Segment({ customer, t, locale }: { customer: Customer; t: T; locale: string }) {
  const scores = customer.scores;
  const prediction = customer.prediction;
  if (!scores && !prediction) return null;
  const pct = (v: number) => new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(v);
  return (
    <Section title={t("segmentTitle")}>
      <Box as="dl" display="grid" gap={1} margin={0} __gridTemplateColumns="auto 1fr">
        {scores && (
          <>
            <Box as="dt"><Text>{t("rfmGroup")}</Text></Box>
            <Box as="dd" margin={0}><Text fontWeight="bold" data-testid="rfm-group">
              {t(`group_${scores.rfmGroup}` as Key) || scores.rfmGroup}
            </Text></Box>
            <Box as="dt"><Text>{t("lifecycleStage")}</Text></Box>
            <Box as="dd" margin={0}><Text fontWeight="bold" data-testid="lifecycle-stage">
              {stageLabel(t, scores.stage)}
            </Text></Box>
          </>
        )}
        {prediction && (
          <>
            <Box as="dt"><Text>{t("predictedValue")}</Text></Box>
            <Box as="dd" margin={0}><Text fontWeight="bold" data-testid="predicted-value">
              {money(prediction.value12m, locale)}
            </Text></Box>
            <Box as="dt"><Text>{t("churnRisk")}</Text></Box>
            <Box as="dd" margin={0}><Text fontWeight="bold" data-testid="churn-risk">
              {pct(prediction.churnRisk)}
            </Text></Box>
            {prediction.nextOrderAt && (
              <>
                <Box as="dt"><Text>{t("nextOrder")}</Text></Box>
                <Box as="dd" margin={0}><Text>{date(prediction.nextOrderAt, locale)}</Text></Box>
              </>
            )}
          </>
        )}
      </Box>
    </Section>
  );
}

function Consents({ customer, t, locale }: { customer: Customer; t: T; locale: string }) {
  const consents = customer.consents ?? [];
  return (
    <Section title={t("consentTitle")}>
      {consents.length ? (
        <Box as="ul" display="flex" flexDirection="column" gap={1} padding={0} margin={0} style={{ listStyle: "none" }} data-testid="consents">
          {consents.map((c) => (
            <Box as="li" key={`${c.purpose}-${c.channel}`} display="flex" justifyContent="space-between" gap={2} flexWrap="wrap">
              <Text>
                {t(`purpose_${c.purpose}` as Key) || c.purpose}
                {c.channel ? ` · ${c.channel}` : ""}
              </Text>
              <Text fontWeight="bold">
                {t(c.pendingConfirmation ? "consentPending" : c.granted ? "consentGranted" : "consentWithdrawn")} ·{" "}
                {date(c.since, locale)}
              </Text>
            </Box>
          ))}
        </Box>
      ) : (
        <Text>{t("noConsent")}</Text>
      )}
    </Section>
  );
}

function Timeline({ customer, t, locale }: { customer: Customer; t: T; locale: string }) {
  const events = customer.timeline?.edges.map((e) => e.node) ?? [];
  if (!events.length) return null;
  return (
    <Section title={t("timeline")}>
      <Box as="ol" display="flex" flexDirection="column" gap={1} padding={0} margin={0} style={{ listStyle: "none" }}>
        {events.map((e, i) => (
          <Box as="li" key={i} display="flex" gap={2}>
            <Text>{date(e.occurredAt, locale)}</Text>
            <Text>{timelineLabel(t, e.kind)}</Text>
          </Box>
        ))}
      </Box>
    </Section>
  );
}

function useProfile(session: Session, userId: string | null) {
  const [state, setState] = useState<{ customer?: Customer | null; rules?: Rules | null; error?: string }>({});
  const load = useCallback(() => {
    if (!userId) return;
    gql<{ crmCustomer: Customer | null; crmTierProgram: { rules: string } | null }>(session, PROFILE, { userId })
      .then((d) =>
        setState({
          customer: d.crmCustomer,
          rules: d.crmTierProgram ? (JSON.parse(d.crmTierProgram.rules) as Rules) : null,
        }),
      )
      .catch((e: Error) => setState({ error: e.message }));
  }, [session.token, session.url, userId]);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

export function CustomerProfile({ session, t, locale, userId }: Props & { userId: string | null }) {
  const { customer, rules, error } = useProfile(session, userId);
  if (error) return <ErrorText t={t} message={error} />;
  if (customer === undefined) return <Text>{t("loading")}</Text>;
  if (customer === null) return <Text>{t("noProfile")}</Text>;
  return (
    <Box display="grid" gap={4} __gridTemplateColumns="repeat(auto-fit, minmax(240px, 1fr))">
      <TierCard customer={customer} rules={rules ?? null} t={t} locale={locale} />
      <Segment customer={customer} t={t} locale={locale} />
      <Points customer={customer} t={t} locale={locale} />
      <Consents customer={customer} t={t} locale={locale} />
      <Knowledge customer={customer} t={t} locale={locale} />
      <Timeline customer={customer} t={t} locale={locale} />
    </Box>
  );
}

export function CustomerWidget(props: Props & { userId: string | null }) {
  return <CustomerProfile {...props} />;
}

export function AdjustForm({
  session,
  t,
  userId,
  onDone,
}: Props & { userId: string | null; onDone?: (available: number) => void }) {
  const [points, setPoints] = useState("");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<string>("");
  const [error, setError] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      const data = await gql<{ crmPointsAdjust: { pointsAvailable: number } }>(session, ADJUST, {
        userId,
        points: Number.parseInt(points, 10),
        reason,
        id: crypto.randomUUID(),
      });
      const available = data.crmPointsAdjust.pointsAvailable;
      setResult(t("adjusted", { points: available }));
      setPoints("");
      setReason("");
      onDone?.(available);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box as="form" onSubmit={submit} display="flex" flexDirection="column" gap={3} __maxWidth="420px">
      <Text as="h2" size={5} fontWeight="bold">
        {t("adjustTitle")}
      </Text>
      <Input role={undefined} label={t("adjustPoints")} type="number" required value={points} onChange={(e) => setPoints(e.target.value)} />
      <Input role={undefined} label={t("reason")} required value={reason} onChange={(e) => setReason(e.target.value)} />
      <Button type="submit" disabled={busy || !userId}>
        {t("adjust")}
      </Button>
      {result && (
        <Text role="status" data-testid="adjust-result">
          {result}
        </Text>
      )}
      {error && <ErrorText t={t} message={error} />}
    </Box>
  );
}

export function AdjustPoints(props: Props & { userId: string | null }) {
  const [version, setVersion] = useState(0);
  return (
    <Box display="flex" flexDirection="column" gap={6}>
      <AdjustForm {...props} onDone={() => setVersion((v) => v + 1)} />
      <CustomerProfile key={version} {...props} />
    </Box>
  );
}

export function NotAvailable({ t }: { t: T }) {
  return <Text>{t("notAvailable")}</Text>;
}

type Move = { fromTier: string | null; toTier: string | null };

function summarise(moves: Move[], t: T): string[] {
  const counts = new Map<string, { from: string | null; to: string | null; n: number }>();
  for (const m of moves) {
    const key = `${m.fromTier}\u0000${m.toTier}`;
    const entry = counts.get(key) ?? { from: m.fromTier, to: m.toTier, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .sort((a, b) => b.n - a.n)
    .map(({ from, to, n }, _i, _all) => {
      const toName = to ?? t("noTierName");
      if (from == null) return t("wouldEnter", { n, to: toName });
      return t(to != null && rank(to) > rank(from) ? "wouldRise" : "wouldDrop", { n, from, to: toName });
    });
  function rank(name: string) {
    return order.indexOf(name);
  }
}
let order: string[] = [];

function TierEditor({ session, t, initial }: Props & { initial: string }) {
  const [rules, setRules] = useState(initial);
  const [lines, setLines] = useState<string[] | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const parse = () => {
    try {
      const data = JSON.parse(rules) as Rules;
      order = (data.tiers ?? []).map((x) => x.name);
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };
  const preview = async () => {
    setError("");
    setMessage("");
    if (!parse()) return;
    try {
      const d = await gql<{ crmTierDryRun: { moves: Move[] } }>(session, DRY_RUN, { rules });
      setLines(summarise(d.crmTierDryRun.moves, t));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const save = async () => {
    setError("");
    if (!parse()) return;
    try {
      const d = await gql<{ crmTierRulesSave: { version: number } }>(session, SAVE_RULES, { rules });
      setMessage(t("saved", { version: d.crmTierRulesSave.version }));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Section title={t("tierEditor")}>
      <label htmlFor="tier-rules">
        <Text>{t("rules")}</Text>
      </label>
      <Box
        as="textarea"
        id="tier-rules"
        rows={10}
        value={rules}
        onChange={(e: React.ChangeEvent<HTMLTextAreaElement>) => setRules(e.target.value)}
        dir="ltr"
        fontFamily="inherit"
        padding={2}
        borderRadius={3}
        borderWidth={1}
        borderStyle="solid"
        borderColor="default1"
        backgroundColor="default1"
        color="default1"
      />
      <Box display="flex" gap={2} flexWrap="wrap">
        <Button type="button" variant="secondary" onClick={preview}>
          {t("preview")}
        </Button>
        <Button type="button" onClick={save}>
          {t("save")}
        </Button>
      </Box>
      {lines && (
        <Box data-testid="dry-run" role="status">
          <Box as="ul" margin={0} paddingLeft={4}>
            {lines.length ? lines.map((l) => <li key={l}><Text>{l}</Text></li>) : <li><Text>{t("noMoves")}</Text></li>}
          </Box>
        </Box>
      )}
      {message && <Text role="status">{message}</Text>}
      {error && <ErrorText t={t} message={error} />}
    </Section>
  );
}

export function CRMPage(props: Props) {
  const { session, t, locale } = props;
  const [rules, setRules] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [selected, setSelected] = useState<Customer | null>(null);
  const [version, setVersion] = useState(0);
  const [segmentsVersion, setSegmentsVersion] = useState(0);
  useEffect(() => {
    gql<{ crmTierProgram: { rules: string } | null }>(session, TIER_PROGRAM)
      .then((d) => setRules(d.crmTierProgram ? JSON.stringify(JSON.parse(d.crmTierProgram.rules), null, 2) : ""))
      .catch((e: Error) => setError(e.message));
  }, [session.token, version]);
  const tierNames = (() => {
    try {
      return ((rules ? JSON.parse(rules) : {}) as Rules).tiers?.map((x) => x.name) ?? [];
    } catch {
      return [];
    }
  })();
  return (
    <Box display="flex" flexDirection="column" gap={6}>
      <Text as="h1" size={8} fontWeight="bold">
        CRM
      </Text>
      {error && <ErrorText t={t} message={error} />}
      <KpiSection session={session} t={t} locale={locale} />
      <CustomerList session={session} t={t} locale={locale} tiers={tierNames} version={version} onSelect={setSelected} />
      {selected && (
        <Section title={[selected.firstName, selected.lastName].filter(Boolean).join(" ") || selected.email}>
          <AdjustForm {...props} userId={selected.userId} onDone={() => setVersion((v) => v + 1)} />
          <CustomerProfile key={`${selected.id}-${version}`} {...props} userId={selected.userId} />
        </Section>
      )}
      {rules !== null && <TierEditor {...props} initial={rules} />}
      <SegmentSection {...props} version={segmentsVersion} onChanged={() => setSegmentsVersion((v) => v + 1)} />
      <CampaignSection {...props} segmentsVersion={segmentsVersion} />
      <EarningRulesForm {...props} />
      <FlowSection {...props} />
    </Box>
  );
}
