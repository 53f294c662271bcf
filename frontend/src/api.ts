// The CRM's GraphQL, called with the staff token the dashboard handed over the app-bridge.

export class GraphQLError extends Error {}

export type Session = { url: string; token: string; saleorApiUrl: string };

export async function gql<T>(
  session: Session,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(session.url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${session.token}`,
      "Saleor-Api-Url": session.saleorApiUrl,
      // Due times of service cases come back in the staff member's own zone too.
      "Crm-Time-Zone": Intl.DateTimeFormat().resolvedOptions().timeZone,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new GraphQLError(body.errors[0].message);
  return body.data as T;
}

export type Money = { amount: number; currency: string };
export type Tier = {
  name: string;
  since: string;
  nextTier: string | null;
  missingForNext: number | null;
  currency: string | null;
};
export type PointsEntry = {
  kind: string;
  points: number;
  createdAt: string;
  reason: string;
  orderId: string | null;
};
export type TimelineEvent = { kind: string; occurredAt: string };
export type Customer = {
  id: string;
  userId: string | null;
  email: string;
  firstName: string | null;
  lastName: string | null;
  ordersCount: number;
  totalSpent: Money;
  tier: Tier | null;
  points: { available: number; pending: number; history?: PointsEntry[] };
  timeline?: { edges: { node: TimelineEvent }[] };
  notes?: { body: string; authorEmail: string; createdAt: string }[];
  tags?: { tag: string }[];
  cases?: { subject: string; status: string; dueAtStaff: { local: string } }[];
  scores?: { rfmGroup: string; quadrant: string; stage: string; recency: number | null; frequency: number | null; monetary: number | null } | null;
  consents?: { purpose: string; channel: string; granted: boolean; pendingConfirmation: boolean; since: string }[];
  prediction?: { churnRisk: number; value12m: Money; nextOrderAt: string | null } | null;
};

export const PROFILE = `
query Profile($userId: ID) {
  crmCustomer(userId: $userId) {
    id userId email firstName lastName ordersCount totalSpent { amount currency }
    tier { name since nextTier missingForNext currency }
    points { available pending history(first: 10) { kind points createdAt reason orderId } }
    timeline(first: 10) { edges { node { kind occurredAt } } }
    notes { body authorEmail createdAt } tags { tag }
    cases { subject status dueAtStaff { local } }
    scores { rfmGroup quadrant stage recency frequency monetary }
    prediction { churnRisk value12m { amount currency } nextOrderAt }
    consents { purpose channel granted pendingConfirmation since }
  }
  crmTierProgram { rules }
}`;

export const CUSTOMERS = `
query Customers($search: String) {
  crmCustomers(first: 20, filter: { search: $search }, sortBy: { field: SPENT, direction: DESC }) {
    totalCount
    edges { node {
      id userId email firstName lastName ordersCount totalSpent { amount currency }
      tier { name since nextTier missingForNext currency }
      points { available pending }
    } }
  }
  crmTierProgram { version rules }
}`;

export const ADJUST = `
mutation Adjust($userId: ID, $email: String, $points: Int!, $reason: String!, $id: String!) {
  crmPointsAdjust(userId: $userId, email: $email, points: $points, reason: $reason, adjustmentId: $id) {
    pointsAvailable pointsPending
  }
}`;

export const DRY_RUN = `
mutation DryRun($rules: JSONString) {
  crmTierDryRun(rules: $rules) { moves { fromTier toTier } }
}`;

export const SAVE_RULES = `
mutation Save($rules: JSONString!) { crmTierRulesSave(rules: $rules) { version rules } }`;

export type Count = { name: string; customers: number };
export type Kpis = {
  currency: string;
  customers: number;
  newCustomers: number;
  returningCustomers: number;
  orders: number;
  netRevenue: Money;
  averageOrderValue: Money | null;
  repeatPurchaseRate: number | null;
  predictedCustomerValue: Money | null;
  churn: { churned: number; couldChurn: number; rate: number | null };
  tiers: Count[];
  recovery: { started: number; reminded: number; recovered: number; rate: number | null; revenue: Money };
  stageSeries: { starts: string; stages: Count[] }[];
  revenueByFlow: FlowRevenue[];
  rfmGrid: RfmGrid;
};
export type Cohort = { month: string; customers: number; retention: { monthsSince: number; customers: number; share: number }[] };
export type CurrencyRevenue = {
  currency: string;
  orders: number;
  revenue: Money;
  atOrderRates: Money;
  atTodaysRates: Money | null;
  difference: Money | null;
};
export type Exposure = { currency: string; totals: CurrencyRevenue[] };

export const KPIS = `
query Kpis($period: CRMPeriodInput!, $interval: CRMKpiInterval) {
  crmKpis(period: $period, interval: $interval) {
    currency customers newCustomers returningCustomers orders
    netRevenue { amount currency } averageOrderValue { amount currency }
    repeatPurchaseRate predictedCustomerValue { amount currency }
    churn { churned couldChurn rate } tiers { name customers }
    recovery { started reminded recovered rate revenue { amount currency } }
    stageSeries { starts stages { name customers } }
    revenueByFlow { flow step campaignName orders customers revenue { amount currency } }
    rfmGrid { cells { recency frequencyMonetary group customers } groups { name customers } }
  }
  crmCohorts(period: $period) { month customers retention { monthsSince customers share } }
  crmCurrencyExposure(period: $period) {
    currency
    totals { currency orders revenue { amount currency } atOrderRates { amount currency }
             atTodaysRates { amount currency } difference { amount currency } }
  }
}`;

// RFM grid and revenue by flow (frontend/src/charts.tsx).
export type FlowRevenue = {
  flow: string;
  step: number | null;
  campaignName: string | null;
  orders: number;
  customers: number;
  revenue: Money;
};
export type RfmGrid = {
  cells: { recency: number; frequencyMonetary: number; group: string; customers: number }[];
  groups: Count[];
};
