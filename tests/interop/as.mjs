// SPDX-License-Identifier: Apache-2.0
// The authorization server of the interop suite: oidc-provider (the
// certified Node.js OAuth 2.0 / OpenID Connect server, version pinned in
// package-lock.json) on loopback HTTPS, configured from a JSON file that
// the tests write:
//
//   node as.mjs CONFIG.json
//
//   {"port": 8443, "issuer": "https://127.0.0.1:8443",
//    "tls": {"cert": "server.pem", "key": "server-key.pem"},
//    "keys": [{"kid": "rs-1", "alg": "RS256"}, ...],
//    "clients": [{"client_id": "c", "client_secret": "s",
//                 "dpop": false, "mtls": false}],
//    "resources": {"https://api.example/": {"alg": "ES256", "ttl": 300,
//                  "grants": {"c": "hr.read"}}}}
//
// Keys are made at each start (RSA 2048, EC P-256), so a restart with
// other kids is a key rotation. Clients use client_secret_basic and the
// client-credentials grant; a resource indicator (RFC 8707) is required;
// its access tokens are JWTs (RFC 9068, typ at+jwt), audience the resource,
// signed with the resource's alg, carrying only the scopes granted to that
// client for that resource. DPoP (RFC 9449) and certificate-bound tokens
// (RFC 8705: the TLS client certificate of the token request) are on.
// Prints "listening ISSUER" on stdout when it answers; stops on SIGTERM.

import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// A private JWK for alg, with kid.
function makeKey({ kid, alg }) {
  const key = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...key.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

// client metadata for the provider.
function makeClient(c) {
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    dpop_bound_access_tokens: Boolean(c.dpop),
    tls_client_certificate_bound_access_tokens: Boolean(c.mtls),
  };
}

// What the provider knows of one resource server, for one client.
function resourceServer(ctx, indicator, client) {
  const r = config.resources[indicator];
  const scope = r?.grants[client.clientId];
  if (scope === undefined) {
    throw new errors.InvalidTarget('unknown resource, or not for this client');
  }
  return {
    scope,
    audience: indicator,
    accessTokenTTL: r.ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: r.alg } },
  };
}

const provider = new Provider(config.issuer, {
  jwks: { keys: config.keys.map(makeKey) },
  clients: config.clients.map(makeClient),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // the default is ES256 and EdDSA; the module takes RSA proofs too
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      getCertificate: (ctx) => ctx.socket.getPeerX509Certificate?.(),
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      getResourceServerInfo: resourceServer,
    },
  },
});

for (const event of ['grant.error', 'server_error']) {
  provider.on(event, (ctx, err) => {
    console.error('as: %s: %s %s', event, err.message, err.error_description || '');
  });
}
provider.on('grant.success', (ctx) => {
  console.error('as: token for %s', ctx.oidc.client?.clientId);
});

const server = createServer({
  cert: readFileSync(config.tls.cert),
  key: readFileSync(config.tls.key),
  requestCert: true,          // a client certificate binds the token
  rejectUnauthorized: false,  // self-signed ones too (RFC 8705 section 3)
}, provider.callback());

server.listen(config.port, '127.0.0.1', () => {
  console.log('listening %s', config.issuer);
});

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
