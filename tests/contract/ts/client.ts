// What an SPA writes against the client generated from /openapi.json (api.d.ts, generated beside
// this file by openapi-typescript in tests/contract/test_typescript_client.py). It is
// type-checked, never run: if a route, a field or an error code it relies on changes, the strict
// `tsc --noEmit` fails.
import createClient from "openapi-fetch";

import type { paths } from "./api";

type Json<Response> = Response extends { content: { "application/json": infer Body } }
  ? Body
  : never;
type PostsPage = Json<paths["/api/v1/posts"]["get"]["responses"][200]>;
type Post = PostsPage["items"][number];
/** The 409 answers of placing an order: one model per error code, discriminated on `error`. */
type OrderConflict = Json<paths["/api/v1/orders/"]["post"]["responses"][409]>;

export const api = createClient<paths>({ baseUrl: "" });

function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

export async function logIn(email: string, password: string): Promise<string> {
  const { data, error } = await api.POST("/api/v1/auth/login", { body: { email, password } });
  if (error) {
    // Every documented failure (401, 403, 422, 423, 429, 503) has the one error shape.
    throw new Error(`${error.error}: ${error.detail}`);
  }
  if (!data.access_token) {
    throw new Error("the server answered with cookies only; this client sends bearer tokens");
  }
  return data.access_token;
}

export async function whoAmI(token: string): Promise<string> {
  const { data, error } = await api.GET("/api/v1/auth/me", { headers: bearer(token) });
  if (error) {
    throw new Error(error.detail);
  }
  return `${data.email} (${data.id})`;
}

/** Every post by one author, page after page, following the opaque cursor. */
export async function allPosts(token: string, authorId: string): Promise<Post[]> {
  const posts: Post[] = [];
  let cursor: string | undefined;
  do {
    const { data, error } = await api.GET("/api/v1/posts", {
      headers: bearer(token),
      params: { query: { limit: 50, author_id: authorId, ...(cursor ? { cursor } : {}) } },
    });
    if (error) {
      throw new Error(error.detail);
    }
    posts.push(...data.items);
    cursor = data.next_cursor ?? undefined;
  } while (cursor);
  return posts;
}

/** Place an order; a refusal becomes a sentence the page can show, chosen by error code. */
export async function placeOrder(
  token: string,
  productId: string,
  quantity: number,
): Promise<string> {
  const { data, error, response } = await api.POST("/api/v1/orders/", {
    headers: bearer(token),
    body: { items: [{ product_id: productId, quantity }] },
  });
  if (data) {
    return `order ${data.id} placed`;
  }
  if (response.status !== 409) {
    return error.detail;
  }
  const conflict = error as OrderConflict;
  switch (conflict.error) {
    case "out_of_stock":
      return `not enough stock: ${conflict.detail}`;
    case "product_unavailable":
      return "this product is no longer sold";
    case "idempotency_key_in_progress":
      return "the same order is still being placed";
    default: {
      // Exhaustive: a 409 code added to the route (or one removed) fails to compile here.
      const unhandled: never = conflict;
      return unhandled;
    }
  }
}
