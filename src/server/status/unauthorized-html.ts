/**
 * The 401 a browser gets for the status page itself: the same status, challenges and error code as the API's 401, but a
 * page a person can read (shown when the sign-in prompt is cancelled, or when only a bearer token is configured).
 */
import { ERR } from '../../lib/error-codes.js';

export function unauthorizedDocument(basic: boolean): string {
  const how = basic
    ? 'Reload the page and sign in with the status page\'s user name and password (<code>server.auth.basic</code>).'
    : 'This vipwatch accepts only a bearer token (<code>server.auth.bearerTokenFile</code>), which a browser cannot send: ask for basic credentials to be configured for the page, or use the API with the token.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>vipwatch: credentials needed</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#111827}main{max-width:640px;margin:40px auto;padding:0 16px}
.card{background:#fff;border:1px solid #fca5a5;border-radius:8px;padding:16px}code{font:13px ui-monospace,monospace;background:#f3f4f6;padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}</style></head>
<body><main><div class="card" id="auth-needed"><h1 style="font-size:18px;margin:0 0 8px">vipwatch: credentials needed</h1>
<p>The status page and its API ask for credentials (401 Unauthorized, <code>${ERR.UNAUTHORIZED}</code>) that this browser did not send or that are wrong.</p>
<p>${how}</p></div></main></body></html>
`;
}
