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
