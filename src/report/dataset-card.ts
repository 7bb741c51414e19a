// A dataset card: README.md with the Hugging Face YAML header, so the export folder can be
// pushed to the Hub as it is: a `configs` entry per export format lists the JSONL shards the
// export wrote, and `dataset_info` gives each format's columns.
import type { ExportFormat } from '../config/dataset-input';
import type { DatasetMetrics } from '../types';
import type { ReportData, ReportFormat } from './html-report';
import { shardFolder } from '../storage/dataset-layout';
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

/** One `configs` entry per format, named after it, the first the default: `load_dataset(folder, "openai")`. */
const configsYaml = (formats: ReportFormat[]) =>
  formats
    .map(
      ({ format, files }, i) =>
        `- config_name: ${format}\n${i === 0 ? '  default: true\n' : ''}  data_files:\n  - split: train\n    path:${dataFilesYaml(files)}`,
    )
    .join('\n');

/**
 * Each format's columns, as `dataset_info` features: `load_dataset` then reads every shard with
 * them, rather than inferring a type from the first shard (a column null in all of one shard, such
 * as `persona` where no dialogue had one, would not cast to the strings of the next).
 */
const FEATURES: Record<ExportFormat, [string, string][]> = {
  sharegpt: [
    ['id', 'string'],
    ['conversations', 'from,value'],
  ],
  openai: [
    ['messages', 'role,content'],
    ['id', 'string'],
    ['persona', 'string'],
    ['endedBy', 'string'],
  ],
};

/** A feature is a string, or a list of records of string fields (named, comma-separated). */
const featuresYaml = (format: ExportFormat) =>
  FEATURES[format]
    .map(([name, type]) =>
      type === 'string'
        ? `  - name: ${name}\n    dtype: string`
        : `  - name: ${name}\n    list:\n${type
            .split(',')
            .map((field) => `    - name: ${field}\n      dtype: string`)
            .join('\n')}`,
    )
    .join('\n');

const datasetInfoYaml = (formats: ReportFormat[]) =>
  formats.map(({ format }) => `- config_name: ${format}\n  features:\n${featuresYaml(format)}`).join('\n');

const FORMAT_DOCS: Record<ExportFormat, (folder: string) => string> = {
  sharegpt: (folder) => `ShareGPT-style JSONL in \`${folder}\`, one dialogue a line:
  \`{"id": "<run>/<index>", "conversations": [{"from": "human", "value": …}, {"from": "gpt", "value": …}, …]}\`.`,
  openai: (folder) => `OpenAI chat-format JSONL in \`${folder}\` (read by OpenAI fine-tuning, TRL's
  \`SFTTrainer\` and axolotl's \`chat_template\`), one dialogue a line:
  \`{"messages": [{"role": "user", "content": …}, {"role": "assistant", "content": …}, …], "id": …, "persona": …, "endedBy": …}\`.
  Every line alternates user and assistant and ends on an answer: a dialogue is cut before a turn
  that would break this, and left out when not one round of it is whole.`,
};

function formatSection(formats: ReportFormat[]): string {
  return formats
    .map((f, i) => {
      const counts =
        f.trimmed || f.excluded
          ? ` In this export: ${f.trimmed.toLocaleString('en-US')} cut, ${f.excluded.toLocaleString('en-US')} left out.`
          : '';
      return `- **\`${f.format}\`**${i === 0 ? ' (the default config)' : ''}: ${FORMAT_DOCS[f.format](shardFolder(f.format))}${counts}`;
    })
    .join('\n');
}

export function renderDatasetCard(d: ReportData): string {
  const m: Partial<DatasetMetrics> = d.metrics ?? {};
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
dataset_info:
${datasetInfoYaml(d.formats)}
configs:
${configsYaml(d.formats)}
---

# ${d.datasetId}

${d.exported.toLocaleString('en-US')} multi-turn dialogues generated with [parrot](https://arxiv.org/abs/2310.07301)-style
simulation: a simulated user (\`${ask.model}\` on \`${ask.endpoint}\`, ${ask.mode} mode) asks follow-up questions
and an answerer (\`${answer.model}\` on \`${answer.endpoint}\`) answers, from a seed question (\`${d.input.seeds}\`,
random seed ${d.input.randomSeed}), for a target of \`${JSON.stringify(d.input.turns)}\` turns. Generated ${d.generatedAt}.

## Format

${formatSection(d.formats)}

Each format is a config of the YAML header, named after it (\`load_dataset(<folder>, "<format>")\`); the
first is the default.
\`manifest.json\` lists every shard with its count and sha256, the dialogues that failed, the full
input and the token usage; \`report.html\` has the charts.

## Metrics

${d.metricsError ? `Some metrics could not be computed (the dialogues are all exported): ${d.metricsError}\n\n` : ''}${metricsTable}

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
