// Opens the playground in headless Chromium, runs its default query and checks the rendered
// result; saves a screenshot. The machine has no internet: if the page needed a CDN, it would
// fail here.
// Then runs a subscription in the playground (over WebSocket) and writes a statement with the
// given key: the playground must show it.
// Usage: node browser.mjs http://127.0.0.1:PORT/ <screenshot.png> <writer key>
import { chromium } from 'playwright-core';

const [url, screenshot, key] = process.argv.slice(2);
if (!url || !screenshot || !key) {
  console.error('usage: node browser.mjs <playground url> <screenshot path> <writer key>');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
let passed = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const outside = [];
  page.on('request', (request) => {
    const host = new URL(request.url()).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') outside.push(request.url());
  });
  await page.goto(url, { waitUntil: 'networkidle' });
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.getByText('"Israel"').first().waitFor({ timeout: 15000 });
  const text = await result.innerText();
  for (const expected of ['"Kosovo"', '"DIPLOMATIC_RELATIONS"', '"2021-02-01"', '"Gabi Ashkenazi"', '"Meliza Haradinaj-Stublla"']) {
    if (text.includes(expected)) {
      passed += 1;
    } else {
      failed += 1;
      console.log(`FAIL the result does not show ${expected}`);
    }
  }
  if (outside.length === 0) {
    passed += 1;
  } else {
    failed += 1;
    console.log(`FAIL the page requested outside hosts: ${outside.join(', ')}`);
  }
  await page.screenshot({ path: screenshot });

  // A subscription from the playground, fed by another client's write.
  await page.locator('.graphiql-query-editor .CodeMirror').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('subscription Live { statementAdded { text } }');
  // GraphiQL chooses the WebSocket from the parsed document; let the editor parse it.
  await page.waitForTimeout(800);
  await page.locator('.graphiql-execute-button').click();
  await page.waitForTimeout(800);
  await fetch(new URL('/graphql', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: 'mutation { createStatement(input: { text: "Seen live in the playground.", direct: false, medium: OTHER, source: { source: "kosovo-kenya-missions", excerpt: "Kosovo and Kenya" } }) { id } }' }),
  });
  try {
    await result.getByText('Seen live in the playground.').waitFor({ timeout: 10000 });
    passed += 1;
  } catch {
    failed += 1;
    console.log(`FAIL the playground did not show the subscribed statement: ${await result.innerText()}`);
  }
} catch (e) {
  failed += 1;
  console.log(`FAIL ${e?.message ?? e}`);
} finally {
  await browser.close();
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
