// The estimate before a run (`npm run start -- input.json --estimate`): exact figures for small
// constructed inputs, the seed sample it reads, and the CLI printing them with no server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseDatasetInput, type DatasetInputJson } from '../../src/config/dataset-input';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { estimateDataset, formatEstimate, type SeedSample } from '../../src/estimate/dataset-estimate';
import { promptedUserMessages } from '../../src/prompts/prompted-user';
import { sampleCalls } from '../../src/estimate/sample-calls';
import { firstSeeds } from '../../src/seeds/seed-source';
import { FAKE_MODEL, startFakeOpenAiServer } from '../helpers/fake-openai-server';
import { sleep } from '../helpers/eventually';

/**
 * Two dialogues of 3 turns, parrot-ask mode. In tokens (characters / 4): a seed is 10, the
 * answerer's system prompt 2, a question 10 (its maxTokens), an answer 20; the Socratic prompt's
 * system line is 32 characters, so its framing is 10 tokens and 5 more per question/answer pair
 * ("\nHuman: \nAssistant: ").
 */
const INSTRUCTION = 'x'.repeat(32);
const constructed: DatasetInputJson = {
  count: 2,
  turns: 3,
  output: 'file:///tmp/parrot-estimate',
  ask: { endpoint: 'api', model: 'm', mode: 'parrot-ask', instruction: INSTRUCTION, maxTokens: 10 },
  answer: { endpoint: 'api', model: 'm', systemPrompt: 's'.repeat(8), maxTokens: 20 },
};
const SEEDS: SeedSample = { meanChars: 40, sampled: 5, complete: true };
const API = { PARROT_ENDPOINT_API_URL: 'http://127.0.0.1:9/v1' };
const PRICED = { ...API, PARROT_ENDPOINT_API_PRICE_IN: '1', PARROT_ENDPOINT_API_PRICE_OUT: '2' };

describe('dataset estimate', () => {
  it('counts calls and the quadratic growth of prompts exactly, and prices them', () => {
    const e = estimateDataset(
      parseDatasetInput(constructed),
      loadEndpointRegistry({ ...PRICED, PARROT_ENDPOINT_API_RPM: '6' }),
      SEEDS,
      { latencyMs: 1000 },
    );
    // Answers of one dialogue see (2 + 10), (2 + 10 + 20 + 10), (2 + 10 + 2 × 30) = 12 + 42 + 72 = 126.
    // Asks see (10 + 5 + 10 + 20) and (10 + 2 × 5 + 10 + 20 + 10 + 20) = 45 + 80 = 125.
    assert.deepEqual(e.answer, {
      endpoint: 'api',
      calls: 6,
      promptTokens: 252,
      completionTokens: 120,
      costUsd: (252 + 2 * 120) / 1e6,
    });
    assert.deepEqual(e.ask, {
      endpoint: 'api',
      calls: 4,
      promptTokens: 250,
      completionTokens: 40,
      costUsd: (250 + 2 * 40) / 1e6,
    });
    assert.equal(e.total.calls, 10);
    assert.equal(e.total.promptTokens, 502);
    assert.equal(e.total.completionTokens, 160);
    assert.equal(e.total.costUsd, 0.000822);
    assert.equal(e.turns, 6);
    // 10 calls at 6 a minute, which the server dispatches at 5 (src/config/task-queues.ts): 120 s,
    // more than the window (1 dialogue: 10 × 1 s) or a dialogue's 5 calls need.
    assert.equal(e.wallSeconds, 120);
    assert.deepEqual(
      e.bounds.map((b) => [b.what, b.seconds]),
      [
        ['api: 6 rpm', 120],
        ['1 dialogues in flight, one call each at a time', 10],
        ["the longest dialogue's 5 calls one after another", 5],
        ['orchestration: 120 LLM calls/s through Temporal and the workers', 10 / 120],
      ],
    );
    const text = formatEstimate(e);
    assert.match(text, /LLM calls +10 \(ask 4 on api, answer 6 on api\)/);
    assert.match(text, /cost +\$0\.000822/);
    assert.match(text, /wall time +2 min 0 s, bound by api: 6 rpm/);
  });

  it('prices batched calls at the batch price, and counts their rounds and wall-time range', () => {
    const batched = { ...constructed, answer: { ...constructed.answer, batch: true } };
    const e = estimateDataset(parseDatasetInput(batched), loadEndpointRegistry(PRICED), SEEDS, {
      latencyMs: 1000,
    });
    // The answers' 252 prompt and 120 completion tokens at half of $1/$2 per M tokens.
    assert.equal(e.answer.costUsd, (0.5 * 252 + 1 * 120) / 1e6);
    assert.equal(e.answer.onlineCostUsd, (252 + 2 * 120) / 1e6);
    assert.equal(e.answer.batch, true);
    assert.equal(e.ask.batch, undefined);
    // One wave of both dialogues; an answer round a turn.
    assert.deepEqual(
      {
        rounds: e.batch!.rounds,
        waves: e.batch!.waves,
        typical: e.batch!.typicalSeconds,
        worst: e.batch!.worstSeconds,
      },
      { rounds: 3, waves: 1, typical: 3 * 3600, worst: 3 * (24 * 3600 + 60) },
    );
    assert.equal(e.wallSeconds, 3 * 3600);
    const text = formatEstimate(e);
    assert.match(
      text,
      /batch +answer through the batch API: 3 rounds \(2 dialogues in flight, 1 wave; up to 1 batch a round\); online they would cost \$0\.000492, batched \$0\.000246/,
    );
    assert.match(
      text,
      /3 h 0 min if every round takes 1 h 0 min; at most 3 d 0 h if every round takes the provider's 1 d 0 h window/,
    );

    // Both roles batched, on an endpoint in batch mode; one dialogue at a time: two waves.
    const both = estimateDataset(
      parseDatasetInput({ ...constructed, concurrency: 1 }),
      loadEndpointRegistry({
        ...PRICED,
        PARROT_ENDPOINT_API_MODE: 'batch',
        PARROT_ENDPOINT_API_BATCH_MAX_ENQUEUED_TOKENS: '50',
      }),
      SEEDS,
      { batchTurnaroundMinutes: 10 },
    );
    // Per wave: answers at turns 1–3 (12, 42 and 72 prompt tokens) and asks at turns 2–3; the queue
    // limit (50 tokens) splits each turn-3 round in two, one batch after the other.
    assert.deepEqual(both.batch!.roles, ['ask', 'answer']);
    assert.equal(both.batch!.waves, 2);
    assert.equal(both.batch!.rounds, 2 * (1 + 1 + 2 + (1 + 2)));
    assert.equal(both.batch!.splitRounds, 2);
    assert.equal(both.batch!.typicalSeconds, both.batch!.rounds * 600);
  });

  it('measures the prompted ask framing on the real prompt, persona included', () => {
    const input = parseDatasetInput({
      ...constructed,
      count: 1,
      turns: 2,
      ask: { endpoint: 'api', model: 'm', instruction: 'Ask.', personas: ['a tester'], maxTokens: 10 },
    });
    const e = estimateDataset(input, loadEndpointRegistry(API), SEEDS);
    const prompt = promptedUserMessages(
      [
        { role: 'user', content: 'q'.repeat(40) },
        { role: 'assistant', content: 'a'.repeat(80) },
      ],
      'Ask.',
      'a tester',
    );
    assert.equal(e.ask.calls, 1);
    assert.equal(e.ask.promptTokens, Math.round(prompt[0].content.length / 4));
  });

  it('ends dialogues where the next round would overflow a context', () => {
    // After answer t the dialogue holds 10 + 30 (t - 1) + 20 = 30 t tokens; a round more needs
    // 10 + 20: past 256 from t = 8.
    const input = parseDatasetInput({
      ...constructed,
      turns: 10,
      answer: { endpoint: 'api', model: 'm', maxTokens: 20, contextTokens: 256 },
    });
    const e = estimateDataset(input, loadEndpointRegistry(API), SEEDS);
    assert.equal(e.turns, 16);
    assert.equal(e.answer.calls, 16);
    assert.equal(e.ask.calls, 14);
    assert.ok(e.assumptions.some((a) => a.includes('or to 8 where contextTokens would end it')));
  });

  it('says the price is unknown for an endpoint that declares none, and bounds time by its TPM', () => {
    const e = estimateDataset(
      parseDatasetInput({ ...constructed, answer: { endpoint: 'local', model: 'm', maxTokens: 20 } }),
      loadEndpointRegistry({ ...API, PARROT_ENDPOINT_API_TPM: '60' }),
      SEEDS,
      { latencyMs: 1 },
    );
    assert.equal(e.total.costUsd, undefined);
    assert.equal(e.answer.costUsd, 0);
    assert.deepEqual(e.unpricedEndpoints, ['api']);
    // 4 asks: 250 + 40 tokens under 60 tpm (the endpoint's, however many workers share it): 290 s.
    assert.deepEqual(e.bounds[0], { what: 'api: 60 tpm', seconds: 290 });
    assert.match(formatEstimate(e), /cost +unknown price: no price declared for 'api'.*; answer alone \$0/);
  });

  it('bounds time by the calls Temporal and the workers carry: 120 a second unless told', () => {
    // 3,000 dialogues of 3 turns at 5 s a call: 15,000 calls; the window's 25 s is not the limit.
    const input = parseDatasetInput({ ...constructed, count: 3000, turns: 3, concurrency: 3000 });
    const at = (callsPerSecond?: number) =>
      estimateDataset(input, loadEndpointRegistry(API), SEEDS, { latencyMs: 5000, callsPerSecond }).bounds[0];
    assert.deepEqual(at(), {
      what: 'orchestration: 120 LLM calls/s through Temporal and the workers',
      seconds: 15_000 / 120,
    });
    assert.deepEqual(at(1000), { what: '3,000 dialogues in flight, one call each at a time', seconds: 25 });
  });

  it('says how many dialogues a budget pays for at the estimated mean', () => {
    // The constructed input: 2 dialogues, $0.000822 and 662 tokens in all, so $0.000411 and 331 tokens each.
    const at = (budget: DatasetInputJson['budget']) =>
      estimateDataset(parseDatasetInput({ ...constructed, budget }), loadEndpointRegistry(PRICED), SEEDS)
        .budget;
    assert.deepEqual(at({ maxCostUsd: 0.0005 }), { dialogues: 1, by: 'maxCostUsd $0.0005' });
    assert.deepEqual(at({ maxTokens: 700 }), { dialogues: 2, by: 'maxTokens 700' });
    assert.deepEqual(at({ maxTokens: 700, maxCostUsd: 0.0005 }), { dialogues: 1, by: 'maxCostUsd $0.0005' });
    const text = formatEstimate(
      estimateDataset(
        parseDatasetInput({ ...constructed, budget: { maxTokens: 400 } }),
        loadEndpointRegistry(PRICED),
        SEEDS,
      ),
    );
    assert.match(
      text,
      /budget +maxTokens 400 stops it after about 1 of 2 dialogues \(resumeFrom runs the rest\)/,
    );
  });

  it('names an endpoint this configuration does not know', () => {
    const e = estimateDataset(parseDatasetInput(constructed), loadEndpointRegistry({}), SEEDS);
    assert.deepEqual(e.unpricedEndpoints, ['api']);
    assert.ok(e.assumptions.some((a) => a.includes("endpoint 'api' is not configured here")));
  });
});

describe('--estimate-sample: real calls to measure latency and lengths (FAKE LLM server)', () => {
  /** Prompted mode on the fake, whose chat replies all count 40 completion tokens. */
  const onFake: DatasetInputJson = {
    ...constructed,
    ask: { endpoint: 'fake', model: FAKE_MODEL, maxTokens: 10 },
    answer: { endpoint: 'fake', model: FAKE_MODEL, maxTokens: 20 },
  };

  it('measures the first round of N dialogues, and the estimate uses it', async () => {
    const fake = await startFakeOpenAiServer({ completionTokens: 40, latencyMs: 30 });
    try {
      const input = parseDatasetInput(onFake);
      const endpoints = loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url });
      const measured = await sampleCalls(
        input,
        endpoints,
        ['Why is the sky blue?', 'How do magnets work?'],
        3,
      );
      assert.equal(fake.stats.requests, 6, 'an answer and a question for each of 3 dialogues');
      assert.deepEqual(
        {
          dialogues: measured.dialogues,
          answerTokens: measured.answerTokens,
          questionTokens: measured.questionTokens,
        },
        { dialogues: 3, answerTokens: 40, questionTokens: 40 },
      );
      assert.ok(measured.latencyMs >= 30 && measured.latencyMs < 5000, `latency ${measured.latencyMs}`);
      assert.equal(measured.usage.calls, 6);
      assert.equal(measured.usage.unpricedCalls, 6);
      const e = estimateDataset(input, endpoints, SEEDS, { measured });
      // 6 answers and 4 questions of 40 tokens, not their maxTokens of 20 and 10.
      assert.equal(e.answer.completionTokens, 240);
      assert.equal(e.ask.completionTokens, 160);
      assert.ok(e.assumptions.some((a) => a.includes('measured: the mean of 3 sampled first rounds')));
      assert.ok(e.assumptions.some((a) => a.includes('measured: the mean of 6 sample calls')));
    } finally {
      await fake.close();
    }
  });
});

describe('seed sample', () => {
  it('reads the first seeds only, and says whether that was all', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-seeds-'));
    try {
      const file = path.join(dir, 'seeds.txt');
      fs.writeFileSync(file, ['one?', 'two?', 'three?', 'four?', 'five?'].join('\n'));
      const uri = pathToFileURL(file).href;
      assert.deepEqual(await firstSeeds(uri, 3), { seeds: ['one?', 'two?', 'three?'], complete: false });
      assert.deepEqual((await firstSeeds(uri, 5)).complete, true);
      assert.deepEqual((await firstSeeds(uri, 10)).seeds.length, 5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run start -- --estimate', () => {
  /** `npm run start -- <args> --estimate`'s output, with `env` added to the test's. */
  async function estimateCli(args: string[], env: Record<string, string>): Promise<string> {
    const start = path.join(__dirname, '../../src/cli/start.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--require', 'tsx/cjs', start, ...args, '--estimate'],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    return stdout;
  }

  it('prints the figures and contacts no server', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-estimate-'));
    // Stands in for the Temporal server: any connection to it is a failure.
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const seeds = path.join(dir, 'seeds.txt');
      fs.writeFileSync(seeds, `${'What is this, and why? '.repeat(2).slice(0, 39)}?\n`.repeat(5));
      const file = path.join(dir, 'input.json');
      fs.writeFileSync(file, JSON.stringify({ ...constructed, seeds: pathToFileURL(seeds).href }));
      const stdout = await estimateCli([file, '--estimate-latency-ms', '1000'], {
        ...PRICED,
        PARROT_ENDPOINT_API_RPM: '6',
        TEMPORAL_ADDRESS: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
      });
      assert.match(stdout, /estimate \(nothing started\)/);
      assert.match(stdout, /LLM calls +10 /);
      assert.match(stdout, /prompt tokens +502 /);
      assert.match(stdout, /completion tokens +160 /);
      assert.match(stdout, /cost +\$0\.000822 /);
      assert.match(stdout, /wall time +2 min 0 s/);
      assert.match(stdout, /mean of all 5 seeds/);
      assert.match(stdout, /tokens = characters \/ 4/);
      await sleep(100);
      assert.equal(connections, 0, 'the estimate must not contact the Temporal server');
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --estimate-sample, calls the endpoints (and nothing else) and uses what it measured', async () => {
    const fake = await startFakeOpenAiServer({ completionTokens: 40 });
    const file = path.join(os.tmpdir(), `parrot-estimate-sample-${process.pid}.json`);
    try {
      fs.writeFileSync(
        file,
        JSON.stringify({
          ...constructed,
          ask: { endpoint: 'fake', model: FAKE_MODEL, maxTokens: 10 },
          answer: { endpoint: 'fake', model: FAKE_MODEL, maxTokens: 20 },
        }),
      );
      const stdout = await estimateCli([file, '--estimate-sample', '2'], {
        PARROT_ENDPOINT_FAKE_URL: fake.url,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      });
      assert.equal(fake.stats.requests, 4);
      assert.match(stdout, /sampled 2 first rounds: 4 calls/);
      assert.match(stdout, /completion tokens +400 \(ask 160, answer 240\)/);
      assert.match(stdout, /measured: the mean of 2 sampled first rounds/);
    } finally {
      await fake.close();
      fs.rmSync(file, { force: true });
    }
  });
});
