/**
 * Security headers for every dashboard page, set by src/proxy.ts with a fresh nonce per request (the pattern of
 * Next.js' CSP guide: Next reads the nonce from the request's Content-Security-Policy header and puts it on the
 * scripts it renders, which is why every page renders dynamically — see app/layout.tsx).
 *
 * - scripts: only those carrying the nonce, and what they load ('strict-dynamic'); 'wasm-unsafe-eval' lets the
 *   in-browser sampler compile TF.js' wasm backend (no JavaScript eval). `next dev` needs 'unsafe-eval' too.
 * - workers: the sampler's Web Worker (same origin) and blob: workers.
 * - styles: inline styles are allowed: React `style` props and Next's style tags carry no nonce, and styles
 *   cannot run code.
 * - connections, images, fonts: this origin only (plus blob:/data: images the pages make); the API is reached
 *   through this origin's proxy, WebSockets included ('self' covers ws(s) of the same host).
 * - nobody may frame the dashboard (clickjacking), forms post only here, no plugins, no <base> hijack.
 */
export function contentSecurityPolicy(nonce: string, opts: { dev?: boolean } = {}): string {
  const directives: [string, ...string[]][] = [
    ['default-src', "'self'"],
    [
      'script-src',
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      "'wasm-unsafe-eval'",
      ...(opts.dev ? ["'unsafe-eval'"] : []),
    ],
    ['worker-src', "'self'", 'blob:'],
    ['style-src', "'self'", "'unsafe-inline'"],
    ['img-src', "'self'", 'blob:', 'data:'],
    ['font-src', "'self'", 'data:'],
    ['connect-src', "'self'", 'blob:', 'data:'],
    ['object-src', "'none'"],
    ['base-uri', "'self'"],
    ['form-action', "'self'"],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map((d) => d.join(' ')).join('; ');
}

/** The other headers every page gets. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Content-Type-Options': 'nosniff',
  // For browsers that predate frame-ancestors.
  'X-Frame-Options': 'DENY',
  // The dashboard uses none of these; WebGPU and WebGL are not permission-gated and keep working.
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
};

/** 128 random bits, base64: what the CSP nonce must be (unguessable, new for every response). */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}
