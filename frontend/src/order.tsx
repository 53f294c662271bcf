// The loyalty widget on Saleor's order page: what this order earned, held and gave back, by which
// rules, and its customer's balance and tier, with a way to the customer's page.

import { actions, useAppBridge } from "@saleor/app-sdk/app-bridge";
import { Box, Button, Text } from "@saleor/macaw-ui";
import { useEffect, useState } from "react";

import { gql, type Session } from "./api";
import { flowsTranslator } from "./i18n-flows";
import { ErrorText, Section } from "./views";
import type { T } from "./i18n";

type OrderLoyalty = {
  orderId: string;
  number: string | null;
  status: "CUSTOMER" | "GUEST" | "UNKNOWN";
  earned: number;
  bonus: number;
  reversed: number;
  voided: number;
  held: number;
  released: number;
  net: number;
  pendingUntil: string | null;
  rulesVersion: number | null;
  tier: string | null;
  multiplier: string | null;
  customer: {
    userId: string | null;
    email: string;
    points: { available: number; pending: number };
    tier: { name: string } | null;
  } | null;
  redemption: { points: number; code: string; value: { amount: number; currency: string } } | null;
};

const ORDER_LOYALTY = `
query OrderLoyalty($orderId: ID!) {
  crmOrderLoyalty(orderId: $orderId) {
    orderId number status earned bonus reversed voided held released net pendingUntil
    rulesVersion tier multiplier
    customer { userId email points { available pending } tier { name } }
    redemption { points code value { amount currency } }
  }
}`;

export function OrderWidget({ session, t, locale, orderId }: { session: Session; t: T; locale: string; orderId: string | null }) {
  const tf = flowsTranslator(locale);
  const { appBridge } = useAppBridge();
  const [data, setData] = useState<OrderLoyalty | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!orderId) return;
    gql<{ crmOrderLoyalty: OrderLoyalty }>(session, ORDER_LOYALTY, { orderId })
      .then((d) => setData(d.crmOrderLoyalty))
      .catch((e: Error) => setError(e.message));
  }, [session.token, orderId]);
  const n = (value: number) => new Intl.NumberFormat(locale, { signDisplay: "exceptZero" }).format(value);
  if (!orderId) return <Text>{tf("orderNoId")}</Text>;
  if (error) return <ErrorText t={t} message={error} />;
  if (!data) return <Text>{t("loading")}</Text>;
  if (data.status === "UNKNOWN") {
    return (
      <Section title={tf("orderLoyalty")}>
        <Text data-testid="order-empty">{tf("orderUnknown")}</Text>
      </Section>
    );
  }
  const rows: [string, number, string][] = [
    [tf("earned"), data.earned, "earned"],
    [tf("bonus"), data.bonus, "bonus"],
    [tf("reversed"), data.reversed, "reversed"],
    [tf("voided"), data.voided, "voided"],
    [tf("held"), data.held, "held"],
    [tf("released"), data.released, "released"],
  ];
  const shown = rows.filter(([, value, id]) => value !== 0 || id === "earned");
  const customer = data.customer;
  const pending = data.pendingUntil && new Date(data.pendingUntil) > new Date() ? data.pendingUntil : null;
  return (
    <Section title={tf("orderLoyalty")}>
      {data.status === "GUEST" && (
        <Text data-testid="order-guest">
          {customer?.email ? tf("orderGuest", { email: customer.email }) : tf("orderGuestNoEmail")}
        </Text>
      )}
      <Box as="dl" display="grid" gap={1} style={{ gridTemplateColumns: "1fr auto", margin: 0, maxWidth: "480px" }}>
        {shown.map(([label, value, id]) => (
          <Box key={id} display="contents">
            <Box as="dt"><Text>{label}</Text></Box>
            <Box as="dd" margin={0} textAlign="right"><Text data-testid={`order-${id}`}>{n(value)}</Text></Box>
          </Box>
        ))}
        <Box as="dt"><Text fontWeight="bold">{tf("net")}</Text></Box>
        <Box as="dd" margin={0} textAlign="right"><Text fontWeight="bold" data-testid="order-net">{n(data.net)}</Text></Box>
      </Box>
      {pending && (
        <Text>{tf("pendingUntil", { date: new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(pending)) })}</Text>
      )}
      {data.earned > 0 && (
        <Text data-testid="order-rules">
          {data.rulesVersion ? tf("rulesVersion", { version: data.rulesVersion }) : tf("rulesDefault")}
        </Text>
      )}
      {data.redemption && (
        <Text data-testid="order-redeemed">
          {tf("redeemed", {
            points: new Intl.NumberFormat(locale).format(data.redemption.points),
            code: data.redemption.code,
            value: new Intl.NumberFormat(locale, { style: "currency", currency: data.redemption.value.currency }).format(
              data.redemption.value.amount,
            ),
          })}
        </Text>
      )}
      {data.earned > 0 && data.tier && <Text>{tf("tierMultiplier", { tier: data.tier, multiplier: data.multiplier ?? "1" })}</Text>}
      {customer && (
        <Box display="flex" flexDirection="column" gap={1} marginTop={2}>
          <Text as="h3" fontWeight="bold">{tf("balance")}</Text>
          <Text data-testid="order-balance">
            {tf("balanceLine", {
              available: new Intl.NumberFormat(locale).format(customer.points.available),
              pending: new Intl.NumberFormat(locale).format(customer.points.pending),
            })}
          </Text>
          <Text>
            {tf("customerTier")}: <span data-testid="order-tier">{customer.tier?.name ?? tf("noTierYet")}</span>
          </Text>
          {customer.userId && (
            <Box>
              <Button
                type="button"
                variant="secondary"
                onClick={() =>
                  appBridge?.dispatch(actions.Redirect({ to: `/customers/${encodeURIComponent(customer.userId!)}` }))
                }
              >
                {tf("openCustomer")}
              </Button>
            </Box>
          )}
        </Box>
      )}
    </Section>
  );
}
