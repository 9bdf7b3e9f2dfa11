import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { constantTimeEqual, randomBytes } from '../crypto/digest.js';

/**
 * What every page answer carries: a strict Content-Security-Policy (only this service's own
 * script and style files: no inline script or style, no other origin, no framing), and the
 * cookie that protects forms against cross-site requests (double-submit: the cookie's token must
 * come back in the form's `csrf` field; another site can neither read the cookie nor set it).
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CSRF_COOKIE = 'chancery_csrf';
export const CSRF_FIELD = 'csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Cookies of the request, by name (the first of a repeated name); malformed pairs are ignored. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (header === undefined) return out;
  for (const pair of header.split(';').slice(0, 64)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!(name in out)) out[name] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Behind TLS (directly, or a proxy express is told to trust): cookies get `Secure`. */
export function isSecure(req: Request): boolean {
  return req.secure;
}

export function pageHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
}

/** The browser's CSRF token, set as an HttpOnly SameSite=Strict cookie when it has none yet. */
export function csrfToken(req: Request, res: Response, cookies: Record<string, string>): string {
  const existing = cookies[CSRF_COOKIE];
  if (existing !== undefined && TOKEN.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  res.append('Set-Cookie', `${CSRF_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${isSecure(req) ? '; Secure' : ''}`);
  cookies[CSRF_COOKIE] = token;
  return token;
}

/**
 * True when a POST is this service's own form: the `csrf` field equals the cookie's token, and an
 * Origin header, when the browser sends one, names this host.
 */
export function csrfValid(req: Request, cookies: Record<string, string>, field: string | undefined): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    if (host !== req.headers.host) return false;
  } else if (origin === 'null') {
    return false;
  }
  const cookie = cookies[CSRF_COOKIE];
  if (cookie === undefined || field === undefined || !TOKEN.test(cookie) || !TOKEN.test(field)) return false;
  return constantTimeEqual(Buffer.from(cookie), Buffer.from(field));
}

export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
