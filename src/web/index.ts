import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { servedAssets } from './assets.js';
import {
  applicationDownload,
  applicationPage,
  applicationsPage,
  countersignPost,
  sessionOf,
  reviewPage,
  signinPage,
  signinPost,
  signoutPost,
  type AccountDeps,
} from './pages/account.js';
import { applyFormPage, applyStartPage } from './pages/apply.js';
import { homePage } from './pages/home.js';
import { logConsistencyPage, logEntryPage, logIndexPage, notFound, type LogPageDeps } from './pages/log.js';
import { certificatePage, revokedPage, type PublicPageDeps } from './pages/public.js';
import { verifyPage, type VerifyPageDeps } from './pages/verify.js';
import { pageContext } from './layout.js';
import { pageHeaders } from './security.js';
import type { PolicySet } from '../policy/policy.js';

/**
 * The web pages: a third transport beside the HTTP API and the CLI, server-rendered, calling
 * the parts directly. The composition root mounts the router this returns (src/app/routes.ts).
 */
export interface WebDeps {
  verify: VerifyPageDeps;
  public: PublicPageDeps;
  log: LogPageDeps;
  account: AccountDeps;
  policies: PolicySet;
}

type Handler = (req: Request, res: Response, next: NextFunction) => void | Promise<void>;

/** Express 5 passes a rejected promise to the error handler; this keeps the types honest. */
function route(handler: Handler): Handler {
  return handler;
}

export function webRouter(deps: WebDeps): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const assets = servedAssets();
  router.get('/assets/:name', assets.handler);
  router.use(pageHeaders());
  router.get('/', route(homePage));
  const verify = verifyPage(deps.verify);
  router.get('/verify', route(verify.get));
  router.post('/verify', route(verify.post));
  router.get('/revoked', route(revokedPage(deps.public)));
  router.get('/certificate', route(certificatePage(deps.public)));
  router.get('/log', route(logIndexPage(deps.log)));
  router.get('/log/entry/:index', route(logEntryPage(deps.log)));
  router.get('/log/consistency', route(logConsistencyPage(deps.log)));
  router.get('/signin', route(signinPage(deps.account)));
  router.post('/signin', route(signinPost(deps.account)));
  router.post('/signout', route(signoutPost()));
  const apply = { policies: deps.policies, session: (ctx: Parameters<typeof sessionOf>[0]) => sessionOf(ctx, deps.account) };
  router.get('/apply', route(applyStartPage(apply)));
  const applyForm = applyFormPage(apply);
  router.get('/apply/form', route(applyForm.get));
  router.post('/apply/form', route(applyForm.post));
  router.get('/applications', route(applicationsPage(deps.account)));
  router.get('/applications/:id', route(applicationPage(deps.account)));
  router.get('/applications/:id/receipt', route(applicationDownload(deps.account, 'receipt')));
  router.get('/applications/:id/envelope', route(applicationDownload(deps.account, 'envelope')));
  router.get('/applications/:id/evidence', route(applicationDownload(deps.account, 'evidence')));
  router.post('/applications/:id/countersign', route(countersignPost(deps.account)));
  router.get('/review', route(reviewPage(deps.account)));
  return router;
}

export { notFound, pageContext };
