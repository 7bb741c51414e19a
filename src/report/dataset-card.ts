// A dataset card: README.md with the Hugging Face YAML header, so the export folder can be
// pushed to the Hub as it is (the `configs` entry lists the JSONL shards the export wrote).
import type { ReportData } from './html-report';
import { REFERENCE_DATASETS, REFERENCE_ROWS } from './reference-metrics';

function sizeCategory(n: number): string {
  if (n < 1_000) return 'n<1K';
  if (n < 10_000) return '1K<n<10K';
  if (n < 100_000) return '10K<n<100K';
  if (n < 1_000_000) return '100K<n<1M';
  return '1M<n<10M';
}

/** YAML scalars we write are plain words or quoted with JSON's escaping, which YAML reads too. */
const yamlString = (s: string) => JSON.stringify(s);
const cell = (x: number | string | undefined) => (x === undefined ? '–' : String(x)).replace(/\|/g, '\\|');

/** The shards this export wrote, by name: a glob would also take in files that are not ours. */
const dataFilesYaml = (files: string[]) =>
  files.length ? files.map((f) => `\n    - ${yamlString(f)}`).join('') : ' []';

export function renderDatasetCard(d: ReportData): string {
  const m = d.metrics;
  const { ask, answer } = d.input;
  const metricsTable = [
    `| metric | this dataset | ${REFERENCE_DATASETS.join(' | ')} |`,
    `|---|---|${REFERENCE_DATASETS.map(() => '---').join('|')}|`,
    ...REFERENCE_ROWS.map(
      (r) =>
        `| ${cell(r.label)} | ${cell(r.ours(m))} | ${REFERENCE_DATASETS.map((ds) => cell(r.reference[ds])).join(' | ')} |`,
    ),
  ].join('\n');
  return `---
pretty_name: ${yamlString(d.datasetId)}
license: ${d.input.license ?? 'other'}
language:
- en
task_categories:
- text-generation
tags:
- synthetic
- multi-turn
- instruction-tuning
- parrot
size_categories:
- ${sizeCategory(d.exported)}
configs:
- config_name: default
  data_files:
  - split: train
    path:${dataFilesYaml(d.dataFiles)}
---

# ${d.datasetId}

${d.exported.toLocaleString('en-US')} multi-turn dialogues generated with [parrot](https://arxiv.org/abs/2310.07301)-style
simulation: a simulated user (\`${ask.model}\` on \`${ask.endpoint}\`, ${ask.mode} mode) asks follow-up questions
and an answerer (\`${answer.model}\` on \`${answer.endpoint}\`) answers, from a seed question (\`${d.input.seeds}\`,
random seed ${d.input.randomSeed}), for a target of \`${JSON.stringify(d.input.turns)}\` turns. Generated ${d.generatedAt}.

## Format

ShareGPT-style JSONL in \`data/\`, one dialogue a line:
\`{"id": "<run>/<index>", "conversations": [{"from": "human", "value": …}, {"from": "gpt", "value": …}, …]}\`.
\`manifest.json\` lists every shard with its count and sha256, the dialogues that failed, the full
input and the token usage; \`report.html\` has the charts.

## Metrics

${metricsTable}

Reference numbers are those reported in the Parrot paper (Sun et al., 2023); its data was never
published, so they could not be recomputed with the same code. ${
    m.judgedDialogues
      ? `Context-dependence is given twice: by a heuristic (anaphora and ellipsis) over every dialogue, and by an LLM judge (\`${d.input.metrics?.judge?.model}\`) over ${m.judgedDialogues} sampled dialogues.`
      : "Context-dependence here is a heuristic (anaphora and ellipsis), not the paper's LLM judge (set `metrics.judge` in the input for that)."
  }

## License and limitations

${
  d.input.license
    ? `Licensed \`${d.input.license}\` by whoever ran it; that license must fit the terms of the seed questions and of the models that wrote the text.`
    : 'Set the license before publishing (input field `license`): it follows the terms of the seed questions and of the models that wrote the text.'
} The dialogues are machine-generated and unreviewed: they can be wrong,
repetitive or unsafe, and inherit the biases of both models.
`;
}
