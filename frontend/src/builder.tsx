// Segment rule builder with a live count, and the earning-rules editor. The builder writes the
// rules JSON of docs/segments.md; the server checks it and names the place of any mistake.

import { Box, Button, Input, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { gql, type Session } from "./api";
import type { Key, T } from "./i18n";
import { ErrorText, Section } from "./views";

type Props = { session: Session; t: T; locale: string };

// How a field's value is typed: the operators it takes and what the value input expects.
type Kind = "text" | "bool" | "number" | "date" | "slugs" | "period" | "name";
const COMPARE = ["eq", "ne", "gt", "gte", "lt", "lte"];
const TEXT_OPS = ["eq", "ne", "in", "not_in"];
const DATE_OPS = ["before", "after", "within_last_days", "more_than_days_ago"];
const SET_OPS = ["contains_any", "contains_all", "contains_none"];
export const FIELDS: Record<string, { kind: Kind; ops: string[] }> = {
  country: { kind: "text", ops: TEXT_OPS },
  language: { kind: "text", ops: TEXT_OPS },
  time_zone: { kind: "text", ops: TEXT_OPS },
  email: { kind: "text", ops: TEXT_OPS },
  is_guest: { kind: "bool", ops: ["eq"] },
  orders_count: { kind: "number", ops: COMPARE },
  cancelled_orders_count: { kind: "number", ops: COMPARE },
  spent: { kind: "number", ops: COMPARE },
  average_order: { kind: "number", ops: COMPARE },
  refund_rate: { kind: "number", ops: COMPARE },
  joined_at: { kind: "date", ops: DATE_OPS },
  first_order_at: { kind: "date", ops: DATE_OPS },
  last_order_at: { kind: "date", ops: DATE_OPS },
  channels: { kind: "slugs", ops: SET_OPS },
  categories: { kind: "slugs", ops: SET_OPS },
  products: { kind: "slugs", ops: SET_OPS },
  payment_methods: { kind: "slugs", ops: SET_OPS },
  tags: { kind: "slugs", ops: SET_OPS },
  risk_flags: { kind: "slugs", ops: SET_OPS },
  rfm_group: { kind: "name", ops: TEXT_OPS },
  stage: { kind: "name", ops: TEXT_OPS },
  quadrant: { kind: "name", ops: TEXT_OPS },
  recency_score: { kind: "number", ops: [...COMPARE, "in", "not_in"] },
  frequency_score: { kind: "number", ops: [...COMPARE, "in", "not_in"] },
  monetary_score: { kind: "number", ops: [...COMPARE, "in", "not_in"] },
  churn_risk: { kind: "number", ops: COMPARE },
  predicted_value_12m: { kind: "number", ops: COMPARE },
  orders_in_period: { kind: "period", ops: COMPARE },
  spent_in_period: { kind: "period", ops: COMPARE },
};

export type Row = { field: string; op: string; value: string; days: string };
export type Group = { mode: "all" | "any"; rows: Row[]; groups: Group[] };

const newRow = (): Row => ({ field: "orders_count", op: "gte", value: "1", days: "90" });
export const emptyGroup = (): Group => ({ mode: "all", rows: [newRow()], groups: [] });

function typed(row: Row): unknown {
  const kind = FIELDS[row.field]?.kind ?? "text";
  const many = ["in", "not_in", ...SET_OPS].includes(row.op);
  const raw = row.value.trim();
  const one = (v: string): unknown => {
    if (kind === "bool") return v === "true";
    if (kind === "number" || kind === "period") return v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
    if (kind === "date" && (row.op === "within_last_days" || row.op === "more_than_days_ago"))
      return v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
    return v;
  };
  if (many) return raw.split(",").map((v) => v.trim()).filter(Boolean).map(one);
  return one(raw);
}

// Empty groups are left out; the server answers the rest with a precise error if need be.
export function toRules(group: Group): Record<string, unknown[]> {
  const items: unknown[] = group.rows.map((row) => {
    const out: Record<string, unknown> = { field: row.field, op: row.op, value: typed(row) };
    if (FIELDS[row.field]?.kind === "period") out.days = Number(row.days) || row.days;
    return out;
  });
  for (const g of group.groups) items.push(toRules(g));
  return { [group.mode]: items };
}

export function fromRules(rules: unknown): Group | null {
  if (!rules || typeof rules !== "object") return null;
  const node = rules as Record<string, unknown>;
  const mode = Array.isArray(node.all) ? "all" : Array.isArray(node.any) ? "any" : null;
  if (!mode) return null;
  const group: Group = { mode, rows: [], groups: [] };
  for (const item of node[mode] as Record<string, unknown>[]) {
    if (item && typeof item === "object" && "field" in item) {
      const value = Array.isArray(item.value) ? item.value.join(", ") : String(item.value ?? "");
      group.rows.push({ field: String(item.field), op: String(item.op), value, days: String(item.days ?? "90") });
    } else {
      const sub = fromRules(item);
      if (!sub) return null;
      group.groups.push(sub);
    }
  }
  return group;
}

// The look of the native controls (select, textarea) next to macaw's inputs.
export const control = {
  padding: 2,
  borderRadius: 3,
  borderWidth: 1,
  borderStyle: "solid",
  borderColor: "default1",
  backgroundColor: "default1",
  color: "default1",
  fontFamily: "inherit",
} as const;

export function Select({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <Box
      as="select"
      aria-label={label}
      value={value}
      onChange={(e: React.ChangeEvent<HTMLSelectElement>) => onChange(e.target.value)}
      {...control}
    >
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </Box>
  );
}

function fieldLabel(t: T, field: string): string {
  return t(`field_${field}` as Key) || field;
}

function opLabel(t: T, op: string): string {
  return t(`op_${op}` as Key) || op;
}

function RowEditor({ row, t, onChange, onRemove, n }: { row: Row; t: T; onChange: (r: Row) => void; onRemove: () => void; n: string }) {
  const spec = FIELDS[row.field] ?? FIELDS.orders_count;
  return (
    <Box display="flex" gap={2} flexWrap="wrap" alignItems="center" data-testid="rule-row">
      <Select
        label={t("ruleField", { n })}
        value={row.field}
        options={Object.keys(FIELDS).map((f) => ({ value: f, label: fieldLabel(t, f) }))}
        onChange={(field) => {
          const ops = FIELDS[field].ops;
          onChange({ ...row, field, op: ops.includes(row.op) ? row.op : ops[0] });
        }}
      />
      <Select
        label={t("ruleOp", { n })}
        value={row.op}
        options={spec.ops.map((o) => ({ value: o, label: opLabel(t, o) }))}
        onChange={(op) => onChange({ ...row, op })}
      />
      {spec.kind === "bool" ? (
        <Select
          label={t("ruleValue", { n })}
          value={row.value === "true" ? "true" : "false"}
          options={[
            { value: "true", label: t("yes") },
            { value: "false", label: t("no") },
          ]}
          onChange={(value) => onChange({ ...row, value })}
        />
      ) : (
        <Box
          as="input"
          aria-label={t("ruleValue", { n })}
          placeholder={["in", "not_in", ...SET_OPS].includes(row.op) ? t("commaSeparated") : ""}
          value={row.value}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => onChange({ ...row, value: e.target.value })}
          {...control}
        />
      )}
      {spec.kind === "period" && (
        <Box
          as="input"
          type="number"
          min={1}
          aria-label={t("ruleDays", { n })}
          value={row.days}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => onChange({ ...row, days: e.target.value })}
          __width="6em"
          {...control}
        />
      )}
      <Button type="button" variant="tertiary" onClick={onRemove}>
        {t("removeCondition", { n })}
      </Button>
    </Box>
  );
}

function GroupEditor({ group, t, onChange, depth, path }: { group: Group; t: T; onChange: (g: Group) => void; depth: number; path: string }) {
  return (
    <Box
      as="fieldset"
      display="flex"
      flexDirection="column"
      gap={2}
      padding={3}
      borderRadius={3}
      borderWidth={1}
      borderStyle="solid"
      borderColor="default1"
      margin={0}
    >
      <legend>
        <Text>{depth ? t("subgroup", { n: path }) : t("ruleGroup")}</Text>
      </legend>
      <Select
        label={t("groupMode", { n: path || "1" })}
        value={group.mode}
        options={[
          { value: "all", label: t("matchAll") },
          { value: "any", label: t("matchAny") },
        ]}
        onChange={(mode) => onChange({ ...group, mode: mode as Group["mode"] })}
      />
      {group.rows.map((row, i) => (
        <RowEditor
          key={i}
          n={path ? `${path}.${i + 1}` : String(i + 1)}
          row={row}
          t={t}
          onChange={(r) => onChange({ ...group, rows: group.rows.map((x, j) => (j === i ? r : x)) })}
          onRemove={() => onChange({ ...group, rows: group.rows.filter((_x, j) => j !== i) })}
        />
      ))}
      {group.groups.map((g, i) => (
        <GroupEditor
          key={i}
          group={g}
          t={t}
          depth={depth + 1}
          path={path ? `${path}.${group.rows.length + i + 1}` : String(group.rows.length + i + 1)}
          onChange={(sub) => onChange({ ...group, groups: group.groups.map((x, j) => (j === i ? sub : x)) })}
        />
      ))}
      <Box display="flex" gap={2} flexWrap="wrap">
        <Button type="button" variant="secondary" onClick={() => onChange({ ...group, rows: [...group.rows, newRow()] })}>
          {t("addCondition")}
        </Button>
        {depth < 2 && (
          <Button type="button" variant="secondary" onClick={() => onChange({ ...group, groups: [...group.groups, emptyGroup()] })}>
            {t("addGroup")}
          </Button>
        )}
      </Box>
    </Box>
  );
}

type SegmentRow = { id: string; name: string; rules: string; membersCount: number; refreshedAt: string | null };

const SEGMENTS = `query Segments { crmSegments { id name rules membersCount refreshedAt } }`;
const SEGMENT_PREVIEW = `query SegmentPreview($rules: JSONString!) { crmSegmentPreview(rules: $rules) { count } }`;
const SEGMENT_SAVE = `
mutation SegmentSave($id: ID, $name: String!, $rules: JSONString!) {
  crmSegmentSave(id: $id, name: $name, rules: $rules) { id name membersCount }
}`;
const SEGMENT_DELETE = `mutation SegmentDelete($id: ID!) { crmSegmentDelete(id: $id) }`;

export function useSegments(session: Session, version: number) {
  const [segments, setSegments] = useState<SegmentRow[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    gql<{ crmSegments: SegmentRow[] }>(session, SEGMENTS)
      .then((d) => setSegments(d.crmSegments))
      .catch((e: Error) => setError(e.message));
  }, [session.token, version]);
  return { segments, error };
}

// `version` and `onChanged` are shared with the campaign form, whose audience lists the segments.
export function SegmentSection({ session, t, locale, version, onChanged }: Props & { version: number; onChanged: () => void }) {
  const { segments, error: listError } = useSegments(session, version);
  const [editing, setEditing] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [group, setGroup] = useState<Group>(emptyGroup);
  const [count, setCount] = useState<number | null>(null);
  const [counting, setCounting] = useState(false);
  const [previewError, setPreviewError] = useState("");
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const rules = JSON.stringify(toRules(group));

  // The live count: one request 400 ms after the last change, the answer of a stale request dropped.
  useEffect(() => {
    let current = true;
    setCounting(true);
    const handle = setTimeout(() => {
      gql<{ crmSegmentPreview: { count: number } }>(session, SEGMENT_PREVIEW, { rules })
        .then((d) => {
          if (!current) return;
          setCount(d.crmSegmentPreview.count);
          setPreviewError("");
        })
        .catch((e: Error) => {
          if (!current) return;
          setCount(null);
          setPreviewError(e.message);
        })
        .finally(() => current && setCounting(false));
    }, 400);
    return () => {
      current = false;
      clearTimeout(handle);
    };
  }, [session.token, rules]);

  const edit = (s: SegmentRow | null) => {
    setMessage("");
    setError("");
    setEditing(s?.id ?? null);
    setName(s?.name ?? "");
    setGroup((s && fromRules(JSON.parse(s.rules))) || emptyGroup());
  };
  const save = async () => {
    setMessage("");
    setError("");
    try {
      const d = await gql<{ crmSegmentSave: { id: string; name: string; membersCount: number } }>(session, SEGMENT_SAVE, {
        id: editing,
        name,
        rules,
      });
      setEditing(d.crmSegmentSave.id);
      setMessage(t("segmentSaved", { name: d.crmSegmentSave.name, n: d.crmSegmentSave.membersCount }));
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const remove = async (s: SegmentRow) => {
    setMessage("");
    setError("");
    try {
      await gql(session, SEGMENT_DELETE, { id: s.id });
      if (editing === s.id) edit(null);
      setMessage(t("segmentDeleted", { name: s.name }));
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const number = (n: number) => new Intl.NumberFormat(locale).format(n);
  return (
    <Section title={t("segments")}>
      {listError && <ErrorText t={t} message={listError} />}
      {segments && segments.length === 0 && <Text>{t("noSegments")}</Text>}
      {segments && segments.length > 0 && (
        <Box overflowX="auto">
          <Box as="table" width="100%" style={{ borderCollapse: "collapse" }} data-testid="segment-list">
            <thead>
              <tr>
                {[t("segmentName"), t("members"), t("actions")].map((h) => (
                  <Box as="th" key={h} textAlign="left" padding={2} borderBottomWidth={1} borderBottomStyle="solid" borderColor="default1">
                    <Text fontWeight="bold">{h}</Text>
                  </Box>
                ))}
              </tr>
            </thead>
            <tbody>
              {segments.map((s) => (
                <tr key={s.id}>
                  <Box as="td" padding={2}><Text>{s.name}</Text></Box>
                  <Box as="td" padding={2}><Text>{number(s.membersCount)}</Text></Box>
                  <Box as="td" padding={2} display="flex" gap={2} flexWrap="wrap">
                    <Button type="button" variant="tertiary" onClick={() => edit(s)} aria-label={t("editNamed", { name: s.name })}>
                      {t("edit")}
                    </Button>
                    <Button type="button" variant="tertiary" onClick={() => remove(s)} aria-label={t("deleteNamed", { name: s.name })}>
                      {t("delete")}
                    </Button>
                  </Box>
                </tr>
              ))}
            </tbody>
          </Box>
        </Box>
      )}
      <Text as="h3" size={4} fontWeight="bold">
        {editing ? t("editSegment") : t("newSegment")}
      </Text>
      <Input role={undefined} label={t("segmentName")} value={name} onChange={(e) => setName(e.target.value)} __maxWidth="420px" />
      <GroupEditor group={group} t={t} onChange={setGroup} depth={0} path="" />
      <Box role="status" aria-live="polite" data-testid="segment-count" data-counting={counting ? "true" : "false"}>
        <Text fontWeight="bold">
          {count == null ? (counting ? t("counting") : "") : t("wouldMatch", { n: count })}
        </Text>
      </Box>
      {previewError && <ErrorText t={t} message={previewError} />}
      <Box display="flex" gap={2} flexWrap="wrap">
        <Button type="button" onClick={save}>
          {t("saveSegment")}
        </Button>
        {editing && (
          <Button type="button" variant="secondary" onClick={() => edit(null)}>
            {t("newSegment")}
          </Button>
        )}
      </Box>
      {message && <Text role="status">{message}</Text>}
      {error && <ErrorText t={t} message={error} />}
    </Section>
  );
}
