// The flow editor on the CRM page: each automatic message with its trigger and timing, the
// abandoned checkout steps (delay and discount each) and the win-back discount, saved through
// crmStoreSettingsSave (all or nothing), and a preview of each message in any of the eight
// languages, rendered by the CRM's own renderer and shown in an empty-sandbox frame.

import { Box, Button, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { gql, type Session } from "./api";
import { control, Select } from "./builder";
import type { T } from "./i18n";
import { flowsTranslator, type TF } from "./i18n-flows";
import { Section } from "./views";

type Discount = { percentage: boolean; value: string; days: number };
type Flow = {
  kind: string;
  trigger: string;
  enabled: boolean;
  settings: string[];
  steps: { position: number; hours: number; discount: Discount | null }[];
};
type Preview = { kind: string; locale: string; subject: string; html: string };
type Step = { hours: string; discount: string };

const FLOWS = `
query Flows {
  crmFlows { kind trigger enabled settings steps { position hours discount { percentage value days } } }
  crmStoreSettings { name value }
}`;
const SAVE = `mutation FlowSave($s: JSONString!) { crmStoreSettingsSave(settings: $s) { name value } }`;
const PREVIEW = `
query FlowPreview($kind: String!, $locale: String!, $step: Int, $email: String) {
  crmMessagePreview(kind: $kind, locale: $locale, step: $step, email: $email) { kind locale subject html }
}`;

// The customers' languages the CRM writes messages in (Django's codes; zh-Hans is Saleor's).
const LANGUAGES = ["en", "de", "fr", "es", "pl", "ja", "zh-Hans", "ar"];

// A bordered group of fields with its legend, laid out in as many columns as fit.
export function Group({ legend, columnWidth, align, children }: {
  legend: string;
  columnWidth: number;
  align: "start" | "end";
  children: React.ReactNode;
}) {
  return (
    <Box
      as="fieldset"
      display="grid"
      gap={2}
      padding={2}
      borderWidth={1}
      borderStyle="solid"
      borderColor="default1"
      borderRadius={3}
      style={{ gridTemplateColumns: `repeat(auto-fit, minmax(${columnWidth}px, 1fr))`, alignItems: align }}
    >
      <legend>
        <Text fontWeight="bold">{legend}</Text>
      </legend>
      {children}
    </Box>
  );
}

export function Field({ id, label, value, onChange, error, inputMode }: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  inputMode?: "numeric" | "text" | "email";
}) {
  const errorId = `${id}-error`;
  return (
    <Box display="flex" flexDirection="column" gap={1}>
      <label htmlFor={id}>
        <Text>{label}</Text>
      </label>
      <Box
        as="input"
        id={id}
        value={value}
        inputMode={inputMode}
        // Numbers, codes like 10%/7 and e-mails read left to right, in Arabic too.
        dir="ltr"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        onChange={(e: React.ChangeEvent<HTMLInputElement>) => onChange(e.target.value)}
        {...control}
      />
      {error && (
        <Text id={errorId} role="alert" color="critical1">
          {error}
        </Text>
      )}
    </Box>
  );
}

function languageName(code: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function when(tf: TF, flow: Flow, hours: number): string {
  const key = `trigger_${flow.trigger}` as Parameters<TF>[0];
  return tf(key, { hours }) || flow.trigger;
}

// The server's error names the setting first ("recovery_discounts: ..."): it goes next to it.
function errorsBySetting(message: string): Record<string, string> {
  const match = /^([a-z_]+): (.*)$/s.exec(message);
  return match ? { [match[1]]: match[2] } : { _: message };
}

function StepsEditor({ session, tf, flow, saved, onSaved, notice }: {
  session: Session;
  tf: TF;
  flow: Flow;
  saved: Record<string, string>;
  onSaved: () => void;
  notice: boolean;
}) {
  const initial = (): Step[] => {
    const discounts = (saved.recovery_discounts ?? "").split(",").map((d) => d.trim());
    return flow.steps.map((s, i) => ({
      hours: String(s.hours),
      discount: discounts[i] && discounts[i] !== "-" ? discounts[i] : "",
    }));
  };
  const [steps, setSteps] = useState<Step[]>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = async () => {
    setErrors({});
    const settings = {
      recovery_delays_hours: steps.map((s) => s.hours.trim()).join(","),
      recovery_discounts: steps.some((s) => s.discount.trim())
        ? steps.map((s) => s.discount.trim() || "-").join(",")
        : "",
    };
    try {
      await gql(session, SAVE, { s: JSON.stringify(settings) });
      onSaved();
    } catch (e) {
      setErrors(errorsBySetting((e as Error).message));
    }
  };
  const update = (i: number, change: Partial<Step>) =>
    setSteps((all) => all.map((s, j) => (j === i ? { ...s, ...change } : s)));
  return (
    <Box display="flex" flexDirection="column" gap={2}>
      {steps.map((step, i) => (
        <Group key={i} legend={tf("stepN", { n: i + 1 })} columnWidth={160} align="end">
          <Field id={`step-${i}-hours`} label={tf("delayHours")} inputMode="numeric" value={step.hours} onChange={(v) => update(i, { hours: v })} />
          <Field id={`step-${i}-discount`} label={tf("discountLabel")} value={step.discount} onChange={(v) => update(i, { discount: v })} />
          {steps.length > 1 && (
            <Button type="button" variant="tertiary" onClick={() => setSteps((all) => all.filter((_, j) => j !== i))}>
              {tf("removeStep", { n: i + 1 })}
            </Button>
          )}
        </Group>
      ))}
      {errors.recovery_delays_hours && <Text role="alert" color="critical1" data-testid="error-recovery_delays_hours">{errors.recovery_delays_hours}</Text>}
      {errors.recovery_discounts && <Text role="alert" color="critical1" data-testid="error-recovery_discounts">{errors.recovery_discounts}</Text>}
      {errors._ && <Text role="alert" color="critical1">{errors._}</Text>}
      <Box display="flex" gap={2} flexWrap="wrap">
        <Button type="button" variant="secondary" onClick={() => setSteps((all) => [...all, { hours: "", discount: "" }])}>
          {tf("addStep")}
        </Button>
        <Button type="button" onClick={save}>
          {tf("saveFlow")}
        </Button>
      </Box>
      {notice && <Text role="status">{tf("flowSaved")}</Text>}
    </Box>
  );
}

function WinbackEditor({ session, tf, saved, onSaved, notice }: { session: Session; tf: TF; saved: Record<string, string>; onSaved: () => void; notice: boolean }) {
  const [value, setValue] = useState(saved.winback_discount ?? "");
  const [error, setError] = useState("");
  const save = async () => {
    setError("");
    try {
      await gql(session, SAVE, { s: JSON.stringify({ winback_discount: value.trim() }) });
      onSaved();
    } catch (e) {
      const found = errorsBySetting((e as Error).message);
      setError(found.winback_discount ?? found._ ?? Object.values(found)[0]);
    }
  };
  return (
    <Box display="flex" flexDirection="column" gap={2} __maxWidth="420px">
      <Field id="winback-discount" label={tf("winbackDiscount")} value={value} onChange={setValue} error={error} />
      <Box>
        <Button type="button" onClick={save}>
          {tf("saveFlow")}
        </Button>
      </Box>
      {notice && <Text role="status">{tf("flowSaved")}</Text>}
    </Box>
  );
}

function PreviewPane({ session, t, tf, locale, flow }: { session: Session; t: T; tf: TF; locale: string; flow: Flow }) {
  const [language, setLanguage] = useState(LANGUAGES.includes(locale) ? locale : "en");
  const [step, setStep] = useState("1");
  const [email, setEmail] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState("");
  const show = async () => {
    setError("");
    try {
      const d = await gql<{ crmMessagePreview: Preview }>(session, PREVIEW, {
        kind: flow.kind,
        locale: language,
        step: Number(step),
        email: email.trim() || null,
      });
      setPreview(d.crmMessagePreview);
    } catch (e) {
      setPreview(null);
      setError((e as Error).message);
    }
  };
  const id = `preview-${flow.kind}`;
  return (
    <Box display="flex" flexDirection="column" gap={2} data-testid={id}>
      <Box display="flex" gap={2} flexWrap="wrap" alignItems="flex-end">
        <Box display="flex" flexDirection="column" gap={1}>
          <Text>{tf("previewLocale")}</Text>
          <Select
            label={`${tf("previewLocale")} (${tf(`flow_${flow.kind}` as Parameters<TF>[0])})`}
            value={language}
            options={LANGUAGES.map((code) => ({ value: code, label: `${languageName(code, locale)} (${code})` }))}
            onChange={setLanguage}
          />
        </Box>
        {flow.steps.length > 1 && (
          <Box display="flex" flexDirection="column" gap={1}>
            <Text>{tf("previewStep")}</Text>
            <Select
              label={`${tf("previewStep")} (${tf(`flow_${flow.kind}` as Parameters<TF>[0])})`}
              value={step}
              options={flow.steps.map((s) => ({ value: String(s.position), label: tf("stepN", { n: s.position }) }))}
              onChange={setStep}
            />
          </Box>
        )}
        <Field id={`${id}-email`} label={tf("previewCustomer")} inputMode="email" value={email} onChange={setEmail} />
        <Button type="button" variant="secondary" onClick={show}>
          {tf("previewButton")}
        </Button>
      </Box>
      {error && <Text role="alert" color="critical1">{t("error", { message: error })}</Text>}
      {preview && (
        <Box display="flex" flexDirection="column" gap={2}>
          <Text data-testid={`${id}-subject`}>
            {tf("previewSubjectLine", { language: languageName(preview.locale, locale), subject: preview.subject })}
          </Text>
          {/* The e-mail as the customer gets it, in a sandbox: no script, no same-origin access. */}
          <iframe
            title={tf("previewFrameTitle", { language: languageName(preview.locale, locale) })}
            sandbox=""
            srcDoc={preview.html}
            style={{ width: "100%", height: "420px", border: "1px solid currentColor", background: "#fff" }}
          />
        </Box>
      )}
    </Box>
  );
}

export function FlowSection({ session, t, locale }: { session: Session; t: T; locale: string }) {
  const tf = flowsTranslator(locale);
  const [data, setData] = useState<{ flows: Flow[]; saved: Record<string, string>; loaded: number } | null>(null);
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  // Which flow was just saved: its editor is rebuilt from the saved values and says so.
  const [savedKind, setSavedKind] = useState("");
  const saved = (kind: string) => () => {
    setSavedKind(kind);
    setVersion((v) => v + 1);
  };
  useEffect(() => {
    gql<{ crmFlows: Flow[]; crmStoreSettings: { name: string; value: string }[] }>(session, FLOWS)
      .then((d) =>
        setData({
          flows: d.crmFlows,
          saved: Object.fromEntries(d.crmStoreSettings.map((s) => [s.name, s.value])),
          loaded: version,
        }),
      )
      .catch((e: Error) => setError(e.message));
  }, [session.token, version]);
  return (
    <Section title={tf("flowsTitle")}>
      {error && <Text role="alert" color="critical1">{t("error", { message: error })}</Text>}
      {data?.flows.map((flow) => (
        <Box
          key={flow.kind}
          as="article"
          aria-labelledby={`flow-${flow.kind}`}
          display="flex"
          flexDirection="column"
          gap={2}
          padding={3}
          borderWidth={1}
          borderStyle="solid"
          borderColor="default1"
          borderRadius={4}
          data-testid={`flow-${flow.kind}`}
        >
          <Text as="h3" id={`flow-${flow.kind}`} size={4} fontWeight="bold">
            {tf(`flow_${flow.kind}` as Parameters<TF>[0]) || flow.kind}
            {!flow.enabled && ` (${tf("flowOff")})`}
          </Text>
          {flow.kind !== "abandoned_checkout" && (
            <Text>{when(tf, flow, flow.steps[0]?.hours ?? 0)}</Text>
          )}
          {flow.kind === "abandoned_checkout" ? (
            <>
              <Text>{flow.steps.map((s) => `${tf("stepN", { n: s.position })}: ${when(tf, flow, s.hours)}`).join(" · ")}</Text>
              <StepsEditor key={data.loaded} session={session} tf={tf} flow={flow} saved={data.saved} onSaved={saved(flow.kind)} notice={savedKind === flow.kind} />
            </>
          ) : flow.kind === "win_back" ? (
            <WinbackEditor key={data.loaded} session={session} tf={tf} saved={data.saved} onSaved={saved(flow.kind)} notice={savedKind === flow.kind} />
          ) : (
            <Text color="default2">{tf("fixedByInstall")}</Text>
          )}
          <PreviewPane session={session} t={t} tf={tf} locale={locale} flow={flow} />
        </Box>
      ))}
    </Section>
  );
}
