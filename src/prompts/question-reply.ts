// What the simulated user's raw reply becomes: a question, the user taking leave, or a question a
// filter rejects (asked again). Shared by the online ask activity and the batch results.
import type { AskSettings } from '../config/dataset-input';
import { cleanUserReply } from './prompted-user';
import { failedFilter, isUserDone } from './question-filters';
import type { QuestionFilter } from '../planning/filter-hits';

export interface JudgedQuestion {
  text: string;
  userDone?: true;
  rejectedBy?: QuestionFilter;
}

/** The cleaned question and its verdict; undefined when nothing usable is left. `earlier`: the dialogue's questions so far. */
export function judgeQuestion(
  settings: Pick<AskSettings, 'questionFilters' | 'minQuestionWords'>,
  earlier: string[],
  raw: string,
): JudgedQuestion | undefined {
  const text = cleanUserReply(raw);
  if (!text) return undefined;
  if (isUserDone(text)) return { text, userDone: true };
  const rejectedBy = !settings.questionFilters
    ? undefined
    : failedFilter(text, earlier, settings.minQuestionWords);
  return { text, ...(rejectedBy && { rejectedBy }) };
}
