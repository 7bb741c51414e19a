/// <reference lib="dom" />
// The report and dataset card each export writes, in both Ask modes (FAKE LLM server), and the
// report opened in headless Chromium: every chart drawn, nothing fetched from the network.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_CHARTS } from '../src/report/report-charts';
import type { DatasetResult } from '../src/types';
import { launchChromium } from './helpers/chromium';
import { openAiChatProblems } from './helpers/openai-chat-format';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDatasetInput, fakeRole } from './helpers/inputs';
import { runDataset } from './helpers/temporal';

/** Where the test leaves a screenshot of the report, for people to look at. */
const SCREENSHOT = path.join(os.tmpdir(), 'parrot-report.png');

describe('dataset report and card (fake LLM server)', () => {
  const s = useFakeLlmSuite('report');
  const results: Record<string, DatasetResult> = {};

  const run = async (mode: 'prompted' | 'parrot-ask', count: number, license?: string) => {
    const input = fakeDatasetInput(path.join(s.outDir, mode), {
      license,
      count,
      turns: { histogram: { 2: 1, 4: 2 } },
      randomSeed: 5,
      concurrency: 4,
      ask: { ...fakeRole(), mode },
      // Both formats where the dialogues have personas (an extra column of the openai lines).
      ...(mode === 'prompted' && { exportFormats: ['sharegpt', 'openai'] }),
    });
    results[mode] = await runDataset(s.t, `report-${mode}`, input);
  };

  it('writes report.html and a Hugging Face dataset card beside the data, in each Ask mode', async () => {
    await run('prompted', 12);
    await run('parrot-ask', 3, 'apache-2.0');
    for (const [mode, result] of Object.entries(results)) {
      const html = fs.readFileSync(fileURLToPath(result.export.reportUri), 'utf8');
      assert.match(html, new RegExp(`<h1>report-${mode}</h1>`));
      assert.match(html, /<td>8\.71<\/td>/, 'the Parrot-40K reference number is beside ours');
      assert.match(html, new RegExp(`${mode} mode`));
      const card = fs.readFileSync(fileURLToPath(result.export.cardUri), 'utf8');
      const license = mode === 'parrot-ask' ? 'apache-2.0' : 'other';
      assert.match(
        card,
        new RegExp(`^---\\npretty_name: "report-${mode}"\\nlicense: ${license}\\n`),
        'the license the input named, else "other"',
      );
      assert.match(
        card,
        mode === 'parrot-ask'
          ? /Licensed `apache-2.0`/
          : /Set the license before publishing \(input field `license`\)/,
      );
      const formats = mode === 'prompted' ? ['sharegpt', 'openai'] : ['sharegpt'];
      assert.deepEqual(
        result.export.formats?.map((f) => f.format),
        formats,
      );
      const configs = formats
        .map((format, i) => {
          const shardLines = result.export.shards
            .filter((sh) => sh.format === format)
            .map((sh) => `    - "${sh.key}"\n`)
            .join('');
          return `- config_name: ${format}\n${i === 0 ? '  default: true\n' : ''}  data_files:\n  - split: train\n    path:\n${shardLines}`;
        })
        .join('');
      assert.ok(card.includes(`\nconfigs:\n${configs}---\n`), 'the card lists exactly the shards written');
      assert.match(card, /\n- n<1K\n/);
      assert.match(
        card,
        new RegExp(
          `\\| turns per dialogue \\| ${result.metrics!.turnsPerDialogue} \\| 8.71 \\| 6.67 \\| 3.85 \\| 4.54 \\|`,
        ),
      );
    }
    const turns = results.prompted.metrics!.histograms.turns;
    assert.deepEqual(Object.keys(turns).sort(), ['2', '4']);
    assert.equal(turns[2] + turns[4], 12);
  });

  it('exports the same dialogues in the OpenAI chat format, every line passing its fine-tuning checks', function () {
    if (!results.prompted) this.skip();
    const { shards, formats } = results.prompted.export;
    const rows = (format: string) =>
      shards
        .filter((sh) => sh.format === format)
        .flatMap((sh) => fs.readFileSync(fileURLToPath(sh.uri), 'utf8').split('\n').slice(0, -1));
    const openai = rows('openai');
    for (const line of openai) assert.deepEqual(openAiChatProblems(line), [], line);
    // Dialogues as the workflow stores them end on an answer: none is cut or left out.
    assert.deepEqual(formats?.[1], { format: 'openai', dialogues: 12, trimmed: 0, excluded: 0 });
    const shareGpt = new Map(
      rows('sharegpt').map((l) => {
        const r = JSON.parse(l) as { id: string; conversations: { value: string }[] };
        return [r.id, r.conversations.map((t) => t.value)];
      }),
    );
    for (const line of openai) {
      const r = JSON.parse(line) as { id: string; messages: { content: string }[]; persona: unknown };
      assert.deepEqual(
        r.messages.map((m) => m.content),
        shareGpt.get(r.id),
        r.id,
      );
      assert.ok(typeof r.persona === 'string' && r.persona.length > 0, 'prompted mode: a persona column');
    }
  });

  it('renders every chart in headless Chromium, offline', async function () {
    if (!results.prompted) this.skip();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const fetched: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('request', (r) => fetched.push(r.url()));
      await page.goto(results.prompted.export.reportUri);
      await page.waitForFunction(
        () => (window as unknown as { reportRendered?: boolean }).reportRendered === true,
        undefined,
        { timeout: 10_000 },
      );
      // Each chart: its bars' data, and pixels in the bar colour on its canvas.
      const charts = await page.evaluate(
        (ids) =>
          ids.map((id) => {
            const canvas = document.getElementById(`chart-${id}`) as HTMLCanvasElement;
            const chart = (
              window as unknown as {
                Chart: {
                  getChart(c: HTMLCanvasElement): { data: { datasets: { data: (number | null)[] }[] } };
                };
              }
            ).Chart.getChart(canvas);
            const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            let barPixels = 0;
            for (let i = 0; i < px.length; i += 4)
              if (px[i] === 79 && px[i + 1] === 124 && px[i + 2] === 255 && px[i + 3] === 255) barPixels++;
            return {
              id,
              series: chart.data.datasets.length,
              total: chart.data.datasets[0].data.reduce<number>((a, b) => a + (b ?? 0), 0),
              barPixels,
            };
          }),
        [...REPORT_CHARTS],
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.deepEqual(errors, []);
      assert.deepEqual(
        fetched.filter((u) => !u.startsWith('file:')),
        [],
        'the report must not fetch anything',
      );
      const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
      assert.equal(byId.turns.total, 12, 'the turns histogram counts every dialogue');
      assert.equal(
        byId['question-lengths'].total,
        results.prompted.metrics!.histograms.questionTokens &&
          Object.values(results.prompted.metrics!.histograms.questionTokens).reduce((a, b) => a + b, 0),
      );
      assert.equal(byId['versus-references'].series, 5, 'ours and the four reference datasets');
      for (const c of charts) assert.ok(c.barPixels > 200, `${c.id}: no bars drawn (${c.barPixels} pixels)`);
    } finally {
      await browser.close();
    }
  });
});
