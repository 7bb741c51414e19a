// The LLM judge of context-dependence (the Parrot paper counted such questions with a judge):
// shown the dialogue so far and the user's latest message, it answers whether the message can be
// understood on its own.
export const CONTEXT_JUDGE_INSTRUCTION =
  "Can the user's latest message be fully understood on its own, without the conversation above? " +
  'Answer "no" if it depends on earlier turns: it refers back with words like "it", "that", "those" or ' +
  '"the second one", or leaves out what it is about (like "And in Python?"). Answer "yes" if a stranger ' +
  'would understand it without the conversation. Answer with one word: yes or no.';

/** "no" → the question depends on context; "yes" → it stands alone; anything else: unclear. */
export function parseJudgeVerdict(reply: string): 'dependent' | 'standalone' | undefined {
  const m = /^[\s"'*`.]*(yes|no)\b/i.exec(reply);
  if (!m) return undefined;
  return m[1].toLowerCase() === 'no' ? 'dependent' : 'standalone';
}
