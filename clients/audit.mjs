// Runs graphql-http's GraphQL-over-HTTP server audit against a running diplograph.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Prints each check and a closing "N passed, N failed" line; exits 1 if any check fails
// (a SHOULD that warns counts as failed: the target is all of them).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
let passed = 0;
let failed = 0;
for (const result of results) {
  if (result.status === 'ok') {
    passed += 1;
  } else {
    failed += 1;
    const detail = result.reason ? `: ${result.reason}` : '';
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}${detail}`);
  }
}
console.log(`audit: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
