// The customer page's "Export CRM data" and "Erase CRM data" actions.
import { Box, Button, Input, Text } from "@saleor/macaw-ui";
import { useState } from "react";

import { gql, type Session } from "./api";
import type { T } from "./i18n";

type Props = { session: Session; t: T; userId: string | null };

const EXPORT = `
query Export($userId: ID) { crmCustomerExport(userId: $userId) { version document summaryHtml } }`;

const ERASE = `
mutation Erase($userId: ID, $reason: String!) {
  crmCustomerErase(userId: $userId, reason: $reason) { erased erasedAt }
}`;

type Exported = { version: number; document: string; summaryHtml: string };

function download(name: string, type: string, text: string) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.click();
  URL.revokeObjectURL(link.href);
}

export function ExportData({ session, t, userId }: Props) {
  const [data, setData] = useState<Exported | null | undefined>(undefined);
  const [error, setError] = useState("");
  const load = async () => {
    setError("");
    try {
      const d = await gql<{ crmCustomerExport: Exported | null }>(session, EXPORT, { userId });
      setData(d.crmCustomerExport);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const base = `crm-export-${(userId ?? "customer").replace(/[^A-Za-z0-9]/g, "")}`;
  return (
    <Box display="flex" flexDirection="column" gap={3}>
      <Text as="h2" size={5} fontWeight="bold">
        {t("exportTitle")}
      </Text>
      <Text>{t("exportHelp")}</Text>
      <Box display="flex" gap={2}>
        <Button onClick={load} disabled={!userId}>
          {t("exportLoad")}
        </Button>
        {data && (
          <>
            <Button variant="secondary" onClick={() => download(`${base}.json`, "application/json", data.document)}>
              {t("exportJson")}
            </Button>
            <Button variant="secondary" onClick={() => download(`${base}.html`, "text/html", data.summaryHtml)}>
              {t("exportPage")}
            </Button>
          </>
        )}
      </Box>
      {data === null && <Text>{t("noProfile")}</Text>}
      {data && (
        <Box as="iframe" title={t("exportTitle")} data-testid="export-summary" srcDoc={data.summaryHtml}
          sandbox="" __width="100%" __height="480px" borderWidth={1} borderStyle="solid" />
      )}
      {error && <Text role="alert" color="critical1">{t("error", { message: error })}</Text>}
    </Box>
  );
}

export function EraseData({ session, t, userId }: Props) {
  const [reason, setReason] = useState("");
  const [sure, setSure] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await gql(session, ERASE, { userId, reason });
      setDone(true);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (done) return <Text role="status" data-testid="erase-result">{t("erased")}</Text>;
  return (
    <Box as="form" onSubmit={submit} display="flex" flexDirection="column" gap={3} __maxWidth="480px">
      <Text as="h2" size={5} fontWeight="bold">
        {t("eraseTitle")}
      </Text>
      <Text>{t("eraseHelp")}</Text>
      <Input label={t("reason")} required value={reason} onChange={(e) => setReason(e.target.value)} />
      <label>
        <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} /> <Text>{t("eraseSure")}</Text>
      </label>
      <Button type="submit" variant="error" disabled={busy || !sure || !userId}>
        {t("erase")}
      </Button>
      {error && <Text role="alert" color="critical1">{t("error", { message: error })}</Text>}
    </Box>
  );
}
