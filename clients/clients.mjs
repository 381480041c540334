// Mainstream JavaScript clients against a running diplograph: graphql-request for queries and
// a mutation, graphql-ws for a subscription fed by that client's writes.
// Usage: node clients.mjs http://127.0.0.1:PORT/graphql <writer key>
// Prints a closing "N passed, N failed" line; exits 1 if any check fails.
import { GraphQLClient, gql } from 'graphql-request';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node clients.mjs <graphql url> <writer key>');
  process.exit(2);
}
let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const reader = new GraphQLClient(url);
const writer = new GraphQLClient(url, { headers: { Authorization: `Bearer ${key}` } });

await check('graphql-request: a query', async () => {
  const data = await reader.request(gql`{ country(code: "XKX") { name relations { totalCount } } }`);
  assert(data.country.name === 'Kosovo', JSON.stringify(data));
  assert(data.country.relations.totalCount >= 3, JSON.stringify(data));
});

await check('graphql-request: variables and nested citations', async () => {
  const data = await reader.request(
    gql`query People($name: String) { people(filter: { name: $name }) { edges { node { name posts { sources { excerpt } } } } } }`,
    { name: 'Vucic' },
  );
  const person = data.people.edges[0].node;
  assert(person.name === 'Aleksandar Vučić', JSON.stringify(data));
  assert(person.posts[0].sources.length === 2, JSON.stringify(person));
});

await check('graphql-request: errors surface with their code', async () => {
  try {
    await reader.request(gql`{ countries(first: 1000) { totalCount } }`);
    throw new Error('no error');
  } catch (e) {
    const code = e?.response?.errors?.[0]?.extensions?.code;
    assert(code === 'BAD_USER_INPUT', `code ${code}`);
  }
});

await check('graphql-request: a mutation needs the key', async () => {
  const mutation = gql`mutation { createOrganization(input: { name: "Client Org", kind: NGO,
    sources: [{ source: "kosovo-kenya-missions", excerpt: "Kosovo and Kenya" }] }) { name } }`;
  try {
    await reader.request(mutation);
    throw new Error('an anonymous mutation went through');
  } catch (e) {
    assert(e?.response?.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', e.message);
  }
  const data = await writer.request(mutation);
  assert(data.createOrganization.name === 'Client Org', JSON.stringify(data));
});

await check('graphql-ws: a subscription receives a statement another client writes', async () => {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: false });
  const received = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event within 10 s')), 10000);
    client.subscribe(
      { query: 'subscription { statementAdded(filter: { about: "KE" }) { text speaker { __typename } } }' },
      {
        next: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  // Let the server register the subscription before writing.
  await new Promise((r) => setTimeout(r, 500));
  await writer.request(gql`mutation { createStatement(input: { text: "Kenya and Kosovo met again.", direct: false,
    medium: OTHER, about: ["KE"], source: { source: "kosovo-kenya-missions", excerpt: "Kosovo and Kenya" } }) { id } }`);
  const message = await received;
  await client.dispose();
  assert(message.data.statementAdded.text === 'Kenya and Kosovo met again.', JSON.stringify(message));
});

console.log(`clients: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
