// A certified OpenID provider (npm oidc-provider, pinned in tests/support/ensure_oidc_provider.sh)
// with test identities that carry MitID-like claims, for the tests and, optionally, `make run`.
//
// Configured by one JSON document in OIDC_TEST_CONFIG:
//   {"port": 0, "issuer": "http://127.0.0.1:PORT", "clients": [...oidc-provider client metadata],
//    "jwks": {"keys": [private JWKs]}, "claims": ["dk:cpr", "loa", "email"],
//    "identities": {"<login>": {"label": "...", "claims": {...}, "amr": ["pwd"], "acr": "..."}}}
// Prints "listening <port>" when ready. The interaction page lists the identities; choosing one
// logs in as it (no password: this is a test provider) and grants what the client asked for.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const identities = config.identities;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: [config.cookieKey || 'test-only-cookie-key'] },
  claims: { openid: ['sub', 'amr', ...config.claims] },
  conformIdTokenClaims: false, // scope claims go into the ID token, as brokers do
  pkce: { required: () => true },
  ttl: { IdToken: config.idTokenTtl || 3600 },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test provider: log out</title></head>
<body><main><h1>Log out of the test provider?</h1>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, log out</button></main></body></html>`;
      },
    },
  },
  findAccount: async (ctx, id) => {
    const identity = identities[id];
    if (!identity) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...identity.claims }) };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      const options = Object.entries(identities).map(([login, identity]) =>
        `<li><button type="submit" name="login" value="${escape(login)}">${escape(identity.label || login)}</button></li>`).join('');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test provider: choose an identity</title></head>
<body><main><h1>Test identity provider</h1><p>Choose who you are.</p>
<form method="post" action="/interaction/${escape(details.uid)}"><ul>${options}</ul></form></main></body></html>`);
      return;
    }
    const form = await readForm(req);
    const login = form.get('login');
    const identity = identities[login];
    if (!identity) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('unknown identity');
      return;
    }
    const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    grant.addOIDCClaims(config.claims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, {
      login: { accountId: login, amr: identity.amr, acr: identity.acr },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    res.end(`interaction failed: ${err.message}`);
  }
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res);
  } else {
    callback(req, res);
  }
});
server.listen(config.port || 0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
