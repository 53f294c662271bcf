// The store's earning rules as a form: each rule a labelled field, saved as a new version with
// crmEarningRulesSave (all or nothing); every problem the server names is shown under its field.

import { Box, Button, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { gql, type Session } from "./api";
import { Field, Group } from "./flows";
import type { T } from "./i18n";
import { flowsTranslator, type TF } from "./i18n-flows";
import { Section } from "./views";

const EARNING = `query Earning { crmEarningRules { version rules createdAt createdBy } }`;
const EARNING_SAVE = `mutation EarningSave($rules: JSONString!) { crmEarningRulesSave(rules: $rules) { version rules } }`;

type Rules = Record<string, unknown>;
type Values = Record<string, string>;

// The form's groups and their rules, in the order a merchant thinks of them.
const GROUPS: [string, string[]][] = [
  ["er_orders", ["points_per_unit", "return_days", "points_per_currency"]],
  ["er_bonuses", ["signup_bonus", "first_order_bonus", "birthday_bonus", "feedback_bonus", "referral_friend_bonus", "referral_advocate_bonus"]],
  ["er_expiry", ["expiry_days", "inactivity_days"]],
  ["er_rewards", ["point_value", "rewards"]],
];
const NAMES = GROUPS.flatMap(([, names]) => names);
const NUMERIC = new Set(NAMES.filter((n) => n !== "points_per_currency" && n !== "rewards"));

function toValues(rules: Rules): Values {
  const values: Values = {};
  for (const name of NAMES) {
    const raw = rules[name];
    if (name === "points_per_currency") {
      values[name] = Object.entries((raw as Record<string, string>) ?? {}).map(([c, r]) => `${c} ${r}`).join(", ");
    } else if (name === "rewards") {
      values[name] = ((raw as { points: number; kind: string }[]) ?? [])
        .map((r) => (r.kind === "voucher" ? String(r.points) : `${r.points}:${r.kind}`))
        .join(", ");
    } else {
      values[name] = raw == null ? "" : String(raw);
    }
  }
  return values;
}

// What the server reads: numbers as typed (it checks them), currencies as {"JPY": "0.01"}, and
// rewards in the settings' own form "500, 2500:gift_card".
function toRules(values: Values): Rules {
  const rules: Rules = {};
  for (const name of NAMES) {
    const value = values[name].trim();
    if (name === "points_per_currency") {
      rules[name] = Object.fromEntries(
        value
          .split(/[,،、，]/)
          .map((part) => part.trim())
          .filter(Boolean)
          .map((part) => {
            const [code, rate = ""] = part.split(/[\s=:]+/);
            return [code, rate];
          }),
      );
    } else {
      rules[name] = value;
    }
  }
  return rules;
}

// "signup_bonus: The number of points cannot be negative.; return_days: ..." -> by rule.
function problems(message: string): Record<string, string> {
  const names = [...NAMES, "rules"].join("|");
  const found: Record<string, string> = {};
  const pattern = new RegExp(`(?:^|; )(${names}): (.*?)(?=; (?:${names}): |$)`, "gs");
  for (const [, name, text] of message.matchAll(pattern)) found[name] = text;
  return Object.keys(found).length ? found : { rules: message };
}

export function EarningRulesForm({ session, t, locale }: { session: Session; t: T; locale: string }) {
  const tf = flowsTranslator(locale);
  const [values, setValues] = useState<Values | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  useEffect(() => {
    gql<{ crmEarningRules: { version: number | null; rules: string } }>(session, EARNING)
      .then((d) => {
        setVersion(d.crmEarningRules.version);
        setValues(toValues(JSON.parse(d.crmEarningRules.rules)));
      })
      .catch((e: Error) => setErrors({ rules: e.message }));
  }, [session.token]);
  const save = async () => {
    if (!values) return;
    setMessage("");
    setErrors({});
    try {
      const d = await gql<{ crmEarningRulesSave: { version: number; rules: string } }>(session, EARNING_SAVE, {
        rules: JSON.stringify(toRules(values)),
      });
      setVersion(d.crmEarningRulesSave.version);
      setValues(toValues(JSON.parse(d.crmEarningRulesSave.rules)));
      setMessage(t("saved", { version: d.crmEarningRulesSave.version }));
    } catch (e) {
      setErrors(problems((e as Error).message));
    }
  };
  const label = (name: string) => tf(`er_${name === "rewards" ? "rewards_field" : name}` as Parameters<TF>[0]);
  return (
    <Section title={t("earningRules")}>
      <Text data-testid="earning-version">{version == null ? t("earningDefaults") : t("earningVersion", { version })}</Text>
      {values && (
        <Box as="form" display="flex" flexDirection="column" gap={3} onSubmit={(e: React.FormEvent) => { e.preventDefault(); void save(); }} noValidate>
          {GROUPS.map(([group, names]) => (
            <Group key={group} legend={tf(group as Parameters<TF>[0])} columnWidth={220} align="start">
              {names.map((name) => (
                <Field
                  key={name}
                  id={`earning-${name}`}
                  label={label(name)}
                  value={values[name]}
                  inputMode={NUMERIC.has(name) ? "numeric" : "text"}
                  error={errors[name]}
                  onChange={(v) => setValues({ ...values, [name]: v })}
                />
              ))}
            </Group>
          ))}
          {Object.keys(errors).length > 0 && (
            <Text color="critical1">{errors.rules ? t("error", { message: errors.rules }) : tf("er_fix")}</Text>
          )}
          <Box display="flex" gap={2}>
            <Button type="submit">{t("saveEarning")}</Button>
          </Box>
        </Box>
      )}
      {!values && errors.rules && <Text role="alert" color="critical1">{t("error", { message: errors.rules })}</Text>}
      {message && <Text role="status">{message}</Text>}
    </Section>
  );
}
