import "@saleor/macaw-ui/style";
import "./contrast.css";

import { AppBridge, AppBridgeProvider, useAppBridge } from "@saleor/app-sdk/app-bridge";
import { Box, Text, ThemeProvider, useTheme } from "@saleor/macaw-ui";
import { StrictMode, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";

import type { Session } from "./api";
import { isRtl, resolveLocale, translator } from "./i18n";
import { OrderWidget } from "./order";
import { EraseData, ExportData } from "./privacy";
import { AdjustPoints, CRMPage, CustomerWidget } from "./views";

const root = document.getElementById("root")!;
const VIEW = root.dataset.view ?? "crm";
const GRAPHQL = root.dataset.graphql ?? "/graphql/";

function ThemeSync({ theme }: { theme: string | undefined }) {
  const { setTheme } = useTheme();
  useEffect(() => {
    setTheme(theme === "dark" ? "defaultDark" : "defaultLight");
    document.documentElement.dataset.crmTheme = theme === "dark" ? "dark" : "light";
  }, [theme, setTheme]);
  return null;
}

// The bridge's state, re-read after subscribing: the dashboard may send the handshake before
// React's effects run, and useAppBridge() alone would miss it (and never hears localeChanged).
function useBridgeState(bridge: AppBridge) {
  const [state, setState] = useState(() => bridge.getState());
  useEffect(() => {
    const update = () => setState({ ...bridge.getState() });
    const events = ["handshake", "theme", "localeChanged", "tokenRefresh", "redirect"] as const;
    const unsubscribe = events.map((event) => bridge.subscribe(event, update));
    update();
    return () => unsubscribe.forEach((u) => u());
  }, [bridge]);
  return state;
}

function App({ bridge }: { bridge: AppBridge }) {
  useAppBridge();
  const appBridgeState = useBridgeState(bridge);
  const locale = resolveLocale(appBridgeState.locale);
  const t = useMemo(() => translator(locale), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.documentElement.dir = isRtl(locale) ? "rtl" : "ltr";
  }, [locale]);

  const params = new URLSearchParams(window.location.search);
  const token = appBridgeState?.token;
  const session: Session | null = token
    ? { url: GRAPHQL, token, saleorApiUrl: appBridgeState?.saleorApiUrl ?? "" }
    : null;
  const theme = appBridgeState?.theme;

  let body;
  if (!session) {
    body = <Text>{window.parent === window ? t("notBuiltHere") : t("loading")}</Text>;
  } else if (VIEW === "widgets/customer") {
    body = <CustomerWidget session={session} t={t} locale={locale} userId={params.get("customerId")} />;
  } else if (VIEW === "actions/adjust-points") {
    body = <AdjustPoints session={session} t={t} locale={locale} userId={params.get("customerId")} />;
  } else if (VIEW === "actions/export") {
    body = <ExportData session={session} t={t} userId={params.get("customerId")} />;
  } else if (VIEW === "actions/erase") {
    body = <EraseData session={session} t={t} userId={params.get("customerId")} />;
  } else if (VIEW === "widgets/order") {
    body = <OrderWidget session={session} t={t} locale={locale} orderId={params.get("orderId")} />;
  } else {
    body = <CRMPage session={session} t={t} locale={locale} />;
  }
  return (
    <>
      <ThemeSync theme={theme} />
      <Box as="main" padding={4} backgroundColor="default1" color="default1" __minHeight="100vh">
        {body}
      </Box>
    </>
  );
}

const bridge = new AppBridge({ autoNotifyReady: true });
const initialTheme = bridge.getState().theme === "dark" ? "defaultDark" : "defaultLight";

createRoot(root).render(
  <StrictMode>
    <AppBridgeProvider appBridgeInstance={bridge}>
      <ThemeProvider defaultTheme={initialTheme}>
        <App bridge={bridge} />
      </ThemeProvider>
    </AppBridgeProvider>
  </StrictMode>,
);
