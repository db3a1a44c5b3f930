// SPDX-License-Identifier: Apache-2.0
// The DPoP client of the interop suite: oauth4webapi (version pinned in
// package-lock.json) discovers the authorization server, gets a
// DPoP-bound access token with the client-credentials grant and calls
// protected resources with proofs it makes itself. The tests hand it a
// plan as JSON on stdin and read what happened as JSON on stdout:
//
//   {"issuer": "https://127.0.0.1:8443", "client_id": "c",
//    "client_secret": "s", "resource": "https://api.example/",
//    "scope": "hr.read", "alg": "ES256",
//    "calls": [{"method": "GET", "url": "https://127.0.0.1:8444/a"}, ...]}
//
// A call is made by oauth4webapi's protectedResourceRequest with the
// client's DPoP key unless it says otherwise:
//   "key": "other"        the proof is signed by another key pair;
//   "send_to": URL, "send_method": M
//                         the proof is made for method and url, the
//                         request goes to send_to with send_method;
//   "replay": N           the exact Authorization and DPoP headers of
//                         call N are sent again (plain fetch);
//   "scheme": "Bearer"    the token alone, as a Bearer token (plain fetch);
//   "proof_claims": {...} claims of the proof set to these values after
//                         oauth4webapi made them (e.g. "iat", "nonce").
// A 401 whose challenge says use_dpop_nonce is retried once with the nonce
// the server sent (oauth4webapi keeps it), as RFC 9449 section 9 asks of
// a client; "nonce_retries" counts them.
//
// Output: {"access_token", "token_type", "scope", "calls": [{"status",
// "headers" (the response's), "sent" (authorization, dpop),
// "challenges" (as oauth4webapi parsed the WWW-Authenticate header, or
// null), "nonce_retries"}]}.

// Debian's Node.js 18 has WebCrypto, but not yet as globals.
const { webcrypto } = await import('node:crypto');
globalThis.crypto ??= webcrypto;
globalThis.CryptoKey ??= webcrypto.CryptoKey;
const oauth = await import('oauth4webapi');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// fetch that records the headers of every request it sends.
function recordingFetch(sent, redirect) {
  return (url, init) => {
    sent.push(new Headers(init.headers));
    return fetch(redirect?.url ?? url,
      { ...init, method: redirect?.method ?? init.method });
  };
}

async function discover(issuer) {
  const url = new URL(issuer);
  const response = await oauth.discoveryRequest(url, { algorithm: 'oidc' });
  return oauth.processDiscoveryResponse(url, response);
}

async function getToken(plan, as, client, dpop) {
  const params = new URLSearchParams({ resource: plan.resource });
  if (plan.scope) params.set('scope', plan.scope);
  const auth = oauth.ClientSecretBasic(plan.client_secret);
  const request = () => oauth.clientCredentialsGrantRequest(
    as, client, auth, params, { DPoP: dpop });
  try {
    return await oauth.processClientCredentialsResponse(as, client, await request());
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return oauth.processClientCredentialsResponse(as, client, await request());
  }
}

function headersOf(response) {
  return Object.fromEntries(response.headers.entries());
}

// One protected-resource request by oauth4webapi; challenges as it saw them.
async function resourceCall(token, call, dpop) {
  const sent = [];
  const redirect = call.send_to || call.send_method
    ? { url: call.send_to, method: call.send_method } : null;
  const options = { DPoP: dpop, [oauth.customFetch]: recordingFetch(sent, redirect) };
  let retries = 0;
  for (;;) {
    try {
      const response = await oauth.protectedResourceRequest(
        token, call.method, new URL(call.url), new Headers(), null, options);
      return result(response, sent.at(-1), null, retries);
    } catch (err) {
      if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
      if (oauth.isDPoPNonceError(err) && retries === 0) {
        retries += 1;
        continue;
      }
      return result(err.response, sent.at(-1), err.cause, retries);
    }
  }
}

function result(response, sent, challenges, retries) {
  return {
    status: response.status,
    headers: headersOf(response),
    sent: { authorization: sent.get('authorization'), dpop: sent.get('dpop') },
    challenges,
    nonce_retries: retries,
  };
}

// The same headers again, or the token as Bearer: no proof made.
async function rawCall(call, headers) {
  const response = await fetch(call.url, {
    method: call.method, headers, redirect: 'manual',
  });
  const sent = new Headers(headers);
  return result(response, sent, null, 0);
}

async function runCall(token, call, done, dpop, other) {
  if (call.replay !== undefined) {
    const before = done[call.replay].sent;
    return rawCall(call, { authorization: before.authorization, dpop: before.dpop });
  }
  if (call.scheme === 'Bearer') {
    return rawCall(call, { authorization: `Bearer ${token}` });
  }
  return resourceCall(token, call, call.key === 'other' ? await other() : dpop);
}

// The claims of the call being made, over what oauth4webapi puts in a proof.
let proofClaims = null;
const modify = {
  [oauth.modifyAssertion]: (header, payload) => Object.assign(payload, proofClaims),
};

async function main() {
  const plan = await readStdin();
  const as = await discover(plan.issuer);
  const client = { client_id: plan.client_id };
  const alg = plan.alg ?? 'ES256';
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair(alg), modify);
  let otherKey;            // made when a call asks for it (RSA keys are slow)
  const other = async () => {
    otherKey ??= oauth.DPoP(client, await oauth.generateKeyPair(alg), modify);
    return otherKey;
  };
  const token = await getToken(plan, as, client, dpop);
  const calls = [];
  for (const call of plan.calls ?? []) {
    proofClaims = call.proof_claims ?? null;
    calls.push(await runCall(token.access_token, call, calls, dpop, other));
  }
  process.stdout.write(JSON.stringify({
    access_token: token.access_token,
    token_type: token.token_type,
    scope: token.scope,
    calls,
  }));
}

main().catch((err) => {
  console.error('client: %s', err.stack ?? err);
  if (err.cause) console.error('client: cause: %s', JSON.stringify(err.cause));
  process.exit(1);
});
