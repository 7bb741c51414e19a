// Who the simulated user is, in the `prompted` Ask mode: one persona and one writing style per
// dialogue, drawn under the run's random seed, so that a dataset is not 40,000 dialogues with the
// same polite questioner (prompted simulators drift to one voice; real users differ).
// Pure and deterministic: the dataset workflow draws them.
import { derivedSeed, prng } from '../random';

export const BUILTIN_PERSONAS = [
  'a software engineer in a hurry, debugging something at work',
  'a high-school student doing homework who wants things explained simply',
  'a small-business owner with no technical background',
  'a graduate student who likes to dig into details and edge cases',
  'a retired teacher curious about a topic they read about in the news',
  'a nurse asking between shifts, practical and to the point',
  'a non-native English speaker who writes short, simple sentences',
  'a skeptical reader who pushes back when something sounds wrong',
  'a parent planning something for the family on a tight budget',
  'a data analyst who wants concrete numbers and examples',
  'a hobbyist who is enthusiastic but a beginner',
  'a manager who needs a summary they can pass on to their team',
  'a writer looking for ideas and wording',
  'a traveller planning a trip and comparing options',
  'a job seeker preparing for an interview',
  'an engineer from another field who knows the maths but not the jargon',
] as const;

export const BUILTIN_STYLES = [
  'types in lowercase with little punctuation',
  'writes one short line at a time',
  'asks about a specific detail of the last answer',
  'asks for an example or a comparison',
  'sometimes changes the subject to something related',
  'is polite and a little chatty',
  'is blunt and terse',
  'asks follow-ups that refer back with words like "it", "that" or "the second one"',
] as const;

const PERSONA_SALT = 0x70657273;

/**
 * The persona of dialogue `index`: one of the user's own descriptions, or a built-in persona with
 * a built-in style. Absent `personas` means the built-in set; `false`, none.
 */
export function personaFor(
  personas: false | string[] | undefined,
  randomSeed: number,
  index: number,
): string | undefined {
  if (personas === false) return undefined;
  const rand = prng(derivedSeed(randomSeed, index, PERSONA_SALT));
  if (personas) return personas[Math.floor(rand() * personas.length)];
  const who = BUILTIN_PERSONAS[Math.floor(rand() * BUILTIN_PERSONAS.length)];
  const style = BUILTIN_STYLES[Math.floor(rand() * BUILTIN_STYLES.length)];
  return `${who}; ${style}`;
}
