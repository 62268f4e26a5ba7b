// The operations the benchmark sends (the raw baseline answers the same two reads).

const ORDER_FIELDS = `id number status total currency createdAt paidAt
  lines { productName unitPrice quantity total }
  paymentAttempts { id status amount }
  events { at from to }`;

/** (a) a brand's orders page. */
export const ORDERS_PAGE = `query OrdersPage($brandId: ID!, $first: Int!) {
  orders(brandId: $brandId, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${ORDER_FIELDS} } }
  }
}`;

/** (b) one order. */
export const ONE_ORDER = `query OneOrder($id: ID!) {
  order(id: $id) { ${ORDER_FIELDS} }
}`;

/** (c) the checkout write path. */
export const CREATE_ORDER = `mutation CreateOrder($input: CreateOrderInput!) {
  createOrder(input: $input) { id total currency status }
}`;

export const ATTEMPT_TO_PAY = `mutation AttemptToPay($orderId: ID!) {
  attemptToPayForOrder(orderId: $orderId) { id externalId amount currency status }
}`;

/** (f) what the live order board subscribes to (as in tests/helpers/ws.ts). */
export const STATUS_EVENTS = `subscription StatusEvents($brandId: ID!) {
  orderStatusChanged(brandId: $brandId) { previousStatus status at seq order { id number status paidAt fulfilledAt } }
}`;

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token user { id } } }`;
export const LOG_IN = `mutation LogIn($email: String!, $password: String!) { logIn(email: $email, password: $password) { token user { id } } }`;
export const CREATE_BRAND = `mutation CreateBrand($input: CreateBrandInput!) { createBrand(input: $input) { id currency } }`;
export const CREATE_PRODUCT = `mutation CreateProduct($input: CreateProductInput!) { createProduct(input: $input) { id name unitPrice } }`;

/** (h) the on-sale: a visitor's session, the quota, and (i) what storefront pages watch. */
export const START_SESSION = `mutation StartSession { startAnonymousSession { token } }`;
export const CREATE_QUOTA = `mutation CreateQuota($input: CreateQuotaInput!) { createQuota(input: $input) { id size sold held available } }`;
export const QUOTA = `query Quota($id: ID!) { quota(id: $id) { size sold held available } }`;
export const AVAILABILITY = `subscription Availability($brandId: ID!) {
  availabilityChanged(brandId: $brandId) { product { id } available at }
}`;
