// Endpoint prices and what calls cost: the price settings and their errors, the arithmetic, and a
// call through the provider against the FAKE LLM server carrying its cost in its usage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callCostUsd, loadEndpointRegistry } from '../../src/config/endpoints';
import { LlmProvider } from '../../src/providers/openai-provider';
import { addUsage, callUsage, emptyUsage } from '../../src/usage';
import { costSummary } from '../../src/report/report-facts';
import { FAKE_MODEL, startFakeOpenAiServer } from '../helpers/fake-openai-server';

describe('endpoint prices', () => {
  it('reads PRICE_IN / PRICE_OUT as USD per million tokens; local is free', () => {
    const endpoints = loadEndpointRegistry({
      PARROT_ENDPOINT_A_URL: 'http://x/v1',
      PARROT_ENDPOINT_A_PRICE_IN: '0.15',
      PARROT_ENDPOINT_A_PRICE_OUT: '0.6',
      PARROT_ENDPOINT_B_URL: 'http://y/v1',
    });
    assert.deepEqual(
      { ...endpoints.get('a') },
      {
        name: 'a',
        baseURL: 'http://x/v1',
        apiKey: 'none',
        rpm: undefined,
        tpm: undefined,
        priceIn: 0.15,
        priceOut: 0.6,
      },
    );
    assert.equal(endpoints.get('b')!.priceIn, undefined);
    assert.equal(endpoints.get('local')!.priceIn, 0);
    assert.equal(endpoints.get('local')!.priceOut, 0);
  });

  it('names the variable of a bad or half-set price', () => {
    assert.throws(
      () =>
        loadEndpointRegistry({
          PARROT_ENDPOINT_A_URL: 'http://x/v1',
          PARROT_ENDPOINT_A_PRICE_IN: '-1',
          PARROT_ENDPOINT_A_PRICE_OUT: '$2',
          PARROT_ENDPOINT_B_URL: 'http://y/v1',
          PARROT_ENDPOINT_B_PRICE_IN: '1',
        }),
      (err: Error) => {
        assert.match(err.message, /PARROT_ENDPOINT_A_PRICE_IN: '-1' is not a non-negative decimal/);
        assert.match(err.message, /PARROT_ENDPOINT_A_PRICE_OUT: '\$2' is not a non-negative decimal/);
        assert.match(
          err.message,
          /PARROT_ENDPOINT_B_PRICE_OUT is not set, but PARROT_ENDPOINT_B_PRICE_IN is/,
        );
        return true;
      },
    );
  });

  it('reads priceIn / priceOut from the endpoints file, naming a bad field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-prices-'));
    const file = path.join(dir, 'endpoints.json');
    try {
      fs.writeFileSync(
        file,
        JSON.stringify({ openai: { baseURL: 'http://o/v1', priceIn: 2.5, priceOut: 10 } }),
      );
      const ok = loadEndpointRegistry({ PARROT_ENDPOINTS_FILE: file });
      assert.equal(ok.get('openai')!.priceIn, 2.5);
      assert.equal(ok.get('openai')!.priceOut, 10);

      fs.writeFileSync(
        file,
        JSON.stringify({
          a: { baseURL: 'http://a/v1', priceIn: -0.5, priceOut: 1 },
          b: { baseURL: 'http://b/v1', priceIn: '1', priceOut: 1 },
          c: { baseURL: 'http://c/v1', priceOut: 1 },
        }),
      );
      assert.throws(
        () => loadEndpointRegistry({ PARROT_ENDPOINTS_FILE: file }),
        (err: Error) => {
          assert.match(err.message, /PARROT_ENDPOINTS_FILE: a\.priceIn: must be a non-negative number/);
          assert.match(err.message, /PARROT_ENDPOINTS_FILE: b\.priceIn: .*number/);
          assert.match(err.message, /PARROT_ENDPOINTS_FILE: c: priceIn and priceOut go together/);
          return true;
        },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cost of calls', () => {
  it('prices prompt and completion tokens separately, per million', () => {
    // 1,000 prompt tokens at $2.50/M + 500 completion tokens at $10/M = $0.0025 + $0.005
    assert.equal(callCostUsd({ priceIn: 2.5, priceOut: 10 }, 1000, 500), 0.0075);
    assert.equal(callCostUsd({ priceIn: 0, priceOut: 0 }, 1000, 500), 0);
    assert.equal(callCostUsd({}, 1000, 500), undefined);
  });

  it('sums cost over calls and counts the unpriced ones apart', () => {
    const priced = callUsage(1000, 500, 0.0075);
    const unpriced = callUsage(10, 20, undefined);
    assert.deepEqual(priced, { promptTokens: 1000, completionTokens: 500, calls: 1, costUsd: 0.0075 });
    assert.deepEqual(unpriced, { promptTokens: 10, completionTokens: 20, calls: 1, unpricedCalls: 1 });
    assert.deepEqual(addUsage(addUsage(emptyUsage(), priced), unpriced), {
      promptTokens: 1010,
      completionTokens: 520,
      calls: 2,
      costUsd: 0.0075,
      unpricedCalls: 1,
    });
    assert.equal(addUsage(priced, priced).costUsd, 0.015);
    // Usage with neither keeps its old shape.
    assert.deepEqual(addUsage(emptyUsage(), emptyUsage()), emptyUsage());
  });

  it('says in the report what a run cost and which calls that leaves out', () => {
    const priced = { ...callUsage(1000, 500, 1.5), calls: 3 };
    const unpriced = { ...callUsage(10, 20, undefined), calls: 2, unpricedCalls: 2 };
    assert.equal(costSummary({ ask: priced, answer: priced }), '$3.00');
    assert.equal(
      costSummary({ ask: unpriced, answer: priced }),
      '$1.50, 2 calls to endpoints with no declared price not included',
    );
    assert.equal(
      costSummary({ ask: unpriced, answer: unpriced }),
      '4 calls to endpoints with no declared price',
    );
    assert.equal(costSummary({ ask: callUsage(1, 1, 0.0001234), answer: emptyUsage() }), '$0.0001234');
    assert.equal(costSummary({ ask: emptyUsage(), answer: emptyUsage() }), undefined);
  });

  it('puts the cost of a call in its usage, from the endpoint prices and the provider counts', async () => {
    const fake = await startFakeOpenAiServer({ completionTokens: 40 });
    try {
      const provider = new LlmProvider();
      const base = { baseURL: fake.url, apiKey: 'none' };
      const messages = [{ role: 'user' as const, content: 'one two three four' }];
      const priced = await provider.chat(
        { name: 'p', ...base, priceIn: 1, priceOut: 1000 },
        { model: FAKE_MODEL },
        messages,
      );
      // The fake counts a token a word: 4 prompt tokens at $1/M, 40 completion tokens at $1,000/M.
      assert.equal(priced.usage.promptTokens, 4);
      assert.equal(priced.usage.costUsd, (4 * 1 + 40 * 1000) / 1e6);
      assert.equal(priced.usage.unpricedCalls, undefined);
      const unpriced = await provider.chat({ name: 'u', ...base }, { model: FAKE_MODEL }, messages);
      assert.equal(unpriced.usage.costUsd, undefined);
      assert.equal(unpriced.usage.unpricedCalls, 1);
    } finally {
      await fake.close();
    }
  });
});
