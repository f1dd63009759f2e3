/**
 * @module Headers every response carries so that a browser never renders
 * what the registry serves: a blob or manifest opened in a tab stays an
 * inert download, whatever bytes someone pushed into it.
 */

/** Set on every response, whatever route or error produced it. */
export const SECURITY_HEADERS = {
  // Blobs are arbitrary bytes (an HTML file pushed as a layer): never guess a type for them.
  "X-Content-Type-Options": "nosniff",
  // Nothing served is a page: no scripts, styles, frames or plugins, and no embedding.
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
} as const;

/**
 * Adds the security headers to `response` (in place) and returns it. The
 * web UI's pages pass their own, still strict, Content-Security-Policy.
 */
export function withSecurityHeaders(response: Response, contentSecurityPolicy?: string): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  if (contentSecurityPolicy !== undefined) response.headers.set("Content-Security-Policy", contentSecurityPolicy);
  return response;
}
