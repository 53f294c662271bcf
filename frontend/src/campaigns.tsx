// Campaigns on the CRM page: the list with status, counts and waves, a form for a draft (audience,
// steps with per-language versions, waves), a preview per language, launch and cancel.

import { Box, Button, Input, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { gql, type Session } from "./api";
import { control, Select, useSegments } from "./builder";
import type { Key, T } from "./i18n";
import { ErrorText, Section } from "./views";

type Props = { session: Session; t: T; locale: string };

type Counts = { released: number; queued: number; sent: number; failed: number; skipped: { reason: string; count: number }[] };
type Content = { locale: string; subject: string; body: string };
type Step = { position: number; sendAt: string; contents: Content[]; wavesTotal: number; wavesReleased: number; nextReleaseAt: string | null };
export type Campaign = {
  id: string;
  name: string;
  status: string;
  segmentId: string | null;
  segmentName: string | null;
  rfmGroup: string | null;
  stage: string | null;
  storeChannel: string;
  waveSize: number | null;
  waveMinutes: number;
  audience: number;
  steps: Step[];
  counts: Counts;
};

const FIELDS = `
  id name status segmentId segmentName rfmGroup stage storeChannel waveSize waveMinutes audience
  steps { position sendAt contents { locale subject body } wavesTotal wavesReleased nextReleaseAt }
  counts { released queued sent failed skipped { reason count } }`;
const CAMPAIGNS = `query Campaigns { crmCampaigns { ${FIELDS} } }`;
const SAVE = `mutation CampaignSave($id: ID, $input: CRMCampaignInput!) { crmCampaignSave(id: $id, input: $input) { ${FIELDS} } }`;
const LAUNCH = `mutation CampaignLaunch($id: ID!) { crmCampaignLaunch(id: $id) { ${FIELDS} } }`;
const CANCEL = `mutation CampaignCancel($id: ID!) { crmCampaignCancel(id: $id) { ${FIELDS} } }`;
const PREVIEW = `
query CampaignPreview($id: ID!, $step: Int, $locale: String!) {
  crmCampaignPreview(id: $id, step: $step, locale: $locale) { locale subject html }
}`;

const RFM_GROUPS = [
  "champions", "loyal", "active", "needs_attention", "new", "promising",
  "at_risk", "previously_loyal", "almost_lost", "dormant", "prospects",
];
const STAGES = ["new", "active", "at_risk", "dormant", "lost"];
const LANGUAGES = ["en", "de", "fr", "es", "pl", "ja", "zh-Hans", "ar"];

type Audience = "segment" | "rfm" | "stage";
type Draft = {
  name: string;
  audience: Audience;
  target: string;
  storeChannel: string;
  waveSize: string;
  waveMinutes: string;
  steps: { sendAt: string; contents: Content[] }[];
};

// A datetime-local value in the browser's zone, and back to an ISO instant for the API.
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function emptyDraft(locale: string): Draft {
  const soon = new Date(Date.now() + 60 * 60 * 1000);
  return {
    name: "",
    audience: "stage",
    target: "active",
    storeChannel: "",
    waveSize: "",
    waveMinutes: "60",
    steps: [{ sendAt: localInput(soon), contents: [{ locale: locale.split("-")[0] === "zh" ? "zh-Hans" : locale, subject: "", body: "" }] }],
  };
}

function toDraft(c: Campaign): Draft {
  return {
    name: c.name,
    audience: c.segmentId ? "segment" : c.rfmGroup ? "rfm" : "stage",
    target: c.segmentId ?? c.rfmGroup ?? c.stage ?? "",
    storeChannel: c.storeChannel,
    waveSize: c.waveSize == null ? "" : String(c.waveSize),
    waveMinutes: String(c.waveMinutes),
    steps: c.steps.map((s) => ({ sendAt: localInput(new Date(s.sendAt)), contents: s.contents.map((x) => ({ ...x })) })),
  };
}

function toInput(d: Draft) {
  return {
    name: d.name,
    segmentId: d.audience === "segment" ? d.target || null : null,
    rfmGroup: d.audience === "rfm" ? d.target : null,
    stage: d.audience === "stage" ? d.target : null,
    storeChannel: d.storeChannel,
    waveSize: d.waveSize.trim() ? Number(d.waveSize) : null,
    waveMinutes: Number(d.waveMinutes) || 60,
    steps: d.steps.map((s) => ({ sendAt: new Date(s.sendAt).toISOString(), contents: s.contents })),
  };
}

function Labelled({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return (
    <Box display="flex" flexDirection="column" gap={1}>
      <label htmlFor={id}>
        <Text>{label}</Text>
      </label>
      {children}
    </Box>
  );
}

function StepEditor({ t, step, index, onChange, onRemove }: {
  t: T;
  step: Draft["steps"][number];
  index: number;
  onChange: (s: Draft["steps"][number]) => void;
  onRemove: (() => void) | null;
}) {
  const n = index + 1;
  const setContent = (i: number, c: Content) => onChange({ ...step, contents: step.contents.map((x, j) => (j === i ? c : x)) });
  const unused = LANGUAGES.find((l) => !step.contents.some((c) => c.locale === l));
  return (
    <Box as="fieldset" display="flex" flexDirection="column" gap={2} padding={3} margin={0} borderRadius={3} borderWidth={1} borderStyle="solid" borderColor="default1">
      <legend>
        <Text fontWeight="bold">{t("stepN", { n })}</Text>
      </legend>
      <Labelled id={`step-${n}-send`} label={t("sendAt")}>
        <Box
          as="input"
          id={`step-${n}-send`}
          type="datetime-local"
          value={step.sendAt}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => onChange({ ...step, sendAt: e.target.value })}
          __maxWidth="260px"
          {...control}
        />
      </Labelled>
      {step.contents.map((c, i) => (
        <Box key={i} display="flex" flexDirection="column" gap={2} data-testid="step-content">
          <Select
            label={t("stepLanguage", { n, m: i + 1 })}
            value={c.locale}
            options={LANGUAGES.map((l) => ({ value: l, label: t(`lang_${l.replace("-", "_")}` as Key) || l }))}
            onChange={(locale) => setContent(i, { ...c, locale })}
          />
          <Labelled id={`step-${n}-${i}-subject`} label={t("subjectIn", { n, language: c.locale })}>
            <Box as="input" id={`step-${n}-${i}-subject`} value={c.subject} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setContent(i, { ...c, subject: e.target.value })} {...control} />
          </Labelled>
          <Labelled id={`step-${n}-${i}-body`} label={t("bodyIn", { n, language: c.locale })}>
            <Box as="textarea" id={`step-${n}-${i}-body`} rows={5} value={c.body} onChange={(e: React.ChangeEvent<HTMLTextAreaElement>) => setContent(i, { ...c, body: e.target.value })} {...control} />
          </Labelled>
          {step.contents.length > 1 && (
            <Box>
              <Button type="button" variant="tertiary" onClick={() => onChange({ ...step, contents: step.contents.filter((_x, j) => j !== i) })}>
                {t("removeLanguage", { language: c.locale })}
              </Button>
            </Box>
          )}
        </Box>
      ))}
      <Box display="flex" gap={2} flexWrap="wrap">
        {unused && (
          <Button type="button" variant="secondary" onClick={() => onChange({ ...step, contents: [...step.contents, { locale: unused, subject: "", body: "" }] })}>
            {t("addLanguage")}
          </Button>
        )}
        {onRemove && (
          <Button type="button" variant="tertiary" onClick={onRemove}>
            {t("removeStep", { n })}
          </Button>
        )}
      </Box>
    </Box>
  );
}

function statusLabel(t: T, status: string): string {
  return t(`status_${status}` as Key) || status;
}

export function CampaignSection({ session, t, locale, segmentsVersion }: Props & { segmentsVersion: number }) {
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [version, setVersion] = useState(0);
  const { segments } = useSegments(session, segmentsVersion);
  const [selected, setSelected] = useState<Campaign | null>(null);
  const [draft, setDraft] = useState<Draft>(() => emptyDraft(locale));
  const [previewLocale, setPreviewLocale] = useState(locale);
  const [previewStep, setPreviewStep] = useState("1");
  const [preview, setPreview] = useState<{ locale: string; subject: string; html: string } | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    gql<{ crmCampaigns: Campaign[] }>(session, CAMPAIGNS)
      .then((d) => setCampaigns(d.crmCampaigns))
      .catch((e: Error) => setError(e.message));
  }, [session.token, version]);

  const run = async (action: () => Promise<void>) => {
    setMessage("");
    setError("");
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const open = (c: Campaign | null) => {
    setSelected(c);
    setPreview(null);
    setMessage("");
    setError("");
    setDraft(c ? toDraft(c) : emptyDraft(locale));
  };
  const saved = (c: Campaign, text: string) => {
    setSelected(c);
    setDraft(toDraft(c));
    setMessage(text);
    setVersion((v) => v + 1);
  };
  const save = () =>
    run(async () => {
      const d = await gql<{ crmCampaignSave: Campaign }>(session, SAVE, { id: selected?.id ?? null, input: toInput(draft) });
      saved(d.crmCampaignSave, t("campaignSaved", { name: d.crmCampaignSave.name }));
    });
  const launch = () =>
    run(async () => {
      const d = await gql<{ crmCampaignLaunch: Campaign }>(session, LAUNCH, { id: selected!.id });
      saved(d.crmCampaignLaunch, t("campaignLaunched", { n: d.crmCampaignLaunch.audience }));
    });
  const cancel = () =>
    run(async () => {
      const d = await gql<{ crmCampaignCancel: Campaign }>(session, CANCEL, { id: selected!.id });
      saved(d.crmCampaignCancel, t("campaignCancelled"));
    });
  const showPreview = () =>
    run(async () => {
      const d = await gql<{ crmCampaignPreview: { locale: string; subject: string; html: string } }>(session, PREVIEW, {
        id: selected!.id,
        step: Number(previewStep) || 1,
        locale: previewLocale,
      });
      setPreview(d.crmCampaignPreview);
    });

  const number = (n: number) => new Intl.NumberFormat(locale).format(n);
  const editable = !selected || selected.status === "draft";
  const targets =
    draft.audience === "segment"
      ? (segments ?? []).map((s) => ({ value: s.id, label: s.name }))
      : (draft.audience === "rfm" ? RFM_GROUPS : STAGES).map((g) => ({
          value: g,
          label: t((draft.audience === "rfm" ? `group_${g}` : `stage_${g}`) as Key) || g,
        }));
  const setStep = (i: number, s: Draft["steps"][number]) => setDraft({ ...draft, steps: draft.steps.map((x, j) => (j === i ? s : x)) });
  return (
    <Section title={t("campaigns")}>
      {campaigns && campaigns.length === 0 && <Text>{t("noCampaigns")}</Text>}
      {campaigns && campaigns.length > 0 && (
        <Box overflowX="auto">
          <Box as="table" width="100%" style={{ borderCollapse: "collapse" }} data-testid="campaign-list">
            <thead>
              <tr>
                {[t("campaignName"), t("status"), t("audience"), t("sent"), t("queued"), t("failed"), t("waves")].map((h) => (
                  <Box as="th" key={h} textAlign="left" padding={2} borderBottomWidth={1} borderBottomStyle="solid" borderColor="default1">
                    <Text fontWeight="bold">{h}</Text>
                  </Box>
                ))}
              </tr>
            </thead>
            <tbody>
              {campaigns.map((c) => {
                const total = c.steps.reduce((a, s) => a + s.wavesTotal, 0);
                const released = c.steps.reduce((a, s) => a + s.wavesReleased, 0);
                return (
                  <tr key={c.id}>
                    <Box as="td" padding={2}>
                      <Button type="button" variant="tertiary" onClick={() => open(c)}>
                        {c.name}
                      </Button>
                    </Box>
                    <Box as="td" padding={2}><Text>{statusLabel(t, c.status)}</Text></Box>
                    <Box as="td" padding={2}><Text>{c.status === "draft" ? "—" : number(c.audience)}</Text></Box>
                    <Box as="td" padding={2}><Text>{number(c.counts.sent)}</Text></Box>
                    <Box as="td" padding={2}><Text>{number(c.counts.queued)}</Text></Box>
                    <Box as="td" padding={2}><Text>{number(c.counts.failed)}</Text></Box>
                    <Box as="td" padding={2}>
                      {total > 0 ? (
                        <Box display="flex" alignItems="center" gap={2}>
                          <progress value={released} max={total} aria-label={t("wavesOf", { name: c.name })} />
                          <Text>{t("wavesReleased", { released, total })}</Text>
                        </Box>
                      ) : (
                        <Text>—</Text>
                      )}
                    </Box>
                  </tr>
                );
              })}
            </tbody>
          </Box>
        </Box>
      )}
      <Text as="h3" size={4} fontWeight="bold">
        {selected ? t("campaignNamed", { name: selected.name, status: statusLabel(t, selected.status) }) : t("newCampaign")}
      </Text>
      {selected && selected.status !== "draft" && (
        <Box as="ul" margin={0} paddingLeft={4} data-testid="campaign-waves">
          {selected.steps.map((s) => (
            <li key={s.position}>
              <Text>
                {t("stepWaves", { n: s.position, released: s.wavesReleased, total: s.wavesTotal })}
                {s.nextReleaseAt && selected.status !== "cancelled"
                  ? ` · ${t("nextWave", { time: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(s.nextReleaseAt)) })}`
                  : ""}
              </Text>
            </li>
          ))}
        </Box>
      )}
      <Box as="fieldset" disabled={!editable} display="flex" flexDirection="column" gap={3} padding={0} margin={0} borderWidth={0}>
        <Input role={undefined} label={t("campaignName")} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} __maxWidth="420px" />
        <Box display="flex" gap={2} flexWrap="wrap" alignItems="flex-end">
          <Select
            label={t("audienceKind")}
            value={draft.audience}
            options={[
              { value: "segment", label: t("audienceSegment") },
              { value: "rfm", label: t("audienceRfm") },
              { value: "stage", label: t("audienceStage") },
            ]}
            onChange={(a) => {
              const audience = a as Audience;
              const first = audience === "segment" ? segments?.[0]?.id ?? "" : audience === "rfm" ? RFM_GROUPS[0] : STAGES[0];
              setDraft({ ...draft, audience, target: first });
            }}
          />
          {/* No segment picked yet (none saved, or the list still loading): say so rather than show one. */}
          <Select
            label={t("audienceTarget")}
            value={draft.target}
            options={targets.some((o) => o.value === draft.target) ? targets : [{ value: draft.target, label: "—" }, ...targets]}
            onChange={(target) => setDraft({ ...draft, target })}
          />
        </Box>
        <Box display="flex" gap={2} flexWrap="wrap">
          <Labelled id="campaign-channel" label={t("storeChannel")}>
            <Box as="input" id="campaign-channel" value={draft.storeChannel} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, storeChannel: e.target.value })} {...control} />
          </Labelled>
          <Labelled id="campaign-wave-size" label={t("waveSize")}>
            <Box as="input" id="campaign-wave-size" type="number" min={1} value={draft.waveSize} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, waveSize: e.target.value })} {...control} />
          </Labelled>
          <Labelled id="campaign-wave-minutes" label={t("waveMinutes")}>
            <Box as="input" id="campaign-wave-minutes" type="number" min={1} value={draft.waveMinutes} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, waveMinutes: e.target.value })} {...control} />
          </Labelled>
        </Box>
        {draft.steps.map((s, i) => (
          <StepEditor
            key={i}
            t={t}
            step={s}
            index={i}
            onChange={(x) => setStep(i, x)}
            onRemove={draft.steps.length > 1 ? () => setDraft({ ...draft, steps: draft.steps.filter((_x, j) => j !== i) }) : null}
          />
        ))}
        <Box display="flex" gap={2} flexWrap="wrap">
          {draft.steps.length < 10 && (
            <Button
              type="button"
              variant="secondary"
              onClick={() => {
                const last = draft.steps[draft.steps.length - 1];
                const next = new Date(new Date(last.sendAt).getTime() + 24 * 60 * 60 * 1000);
                setDraft({ ...draft, steps: [...draft.steps, { sendAt: localInput(next), contents: last.contents.map((c) => ({ ...c })) }] });
              }}
            >
              {t("addStep")}
            </Button>
          )}
          <Button type="button" onClick={save}>
            {t("saveCampaign")}
          </Button>
        </Box>
      </Box>
      <Box display="flex" gap={2} flexWrap="wrap">
        {selected?.status === "draft" && (
          <Button type="button" onClick={launch}>
            {t("launch")}
          </Button>
        )}
        {selected && ["draft", "scheduled", "sending"].includes(selected.status) && (
          <Button type="button" variant="secondary" onClick={cancel}>
            {t("cancelCampaign")}
          </Button>
        )}
        {selected && (
          <Button type="button" variant="tertiary" onClick={() => open(null)}>
            {t("newCampaign")}
          </Button>
        )}
      </Box>
      {message && <Text role="status">{message}</Text>}
      {error && <ErrorText t={t} message={error} />}
      {selected && (
        <Box display="flex" flexDirection="column" gap={2}>
          <Text as="h3" size={4} fontWeight="bold">
            {t("campaignPreview")}
          </Text>
          <Box display="flex" gap={2} flexWrap="wrap" alignItems="flex-end">
            <Labelled id="preview-locale" label={t("previewLocale")}>
              <Box as="input" id="preview-locale" value={previewLocale} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setPreviewLocale(e.target.value)} __width="8em" {...control} />
            </Labelled>
            <Select
              label={t("previewStep")}
              value={previewStep}
              options={selected.steps.map((s) => ({ value: String(s.position), label: t("stepN", { n: s.position }) }))}
              onChange={setPreviewStep}
            />
            <Button type="button" variant="secondary" onClick={showPreview}>
              {t("showPreview")}
            </Button>
          </Box>
          {preview && (
            <Box display="flex" flexDirection="column" gap={2} data-testid="campaign-preview">
              <Text>{t("previewSubject", { language: preview.locale, subject: preview.subject })}</Text>
              {/* The e-mail as the customer gets it, in a sandbox: no script, no same-origin access. */}
              <iframe
                title={t("previewFrame", { language: preview.locale })}
                sandbox=""
                srcDoc={preview.html}
                style={{ width: "100%", height: "420px", border: "1px solid currentColor", background: "#fff" }}
              />
            </Box>
          )}
        </Box>
      )}
    </Section>
  );
}
