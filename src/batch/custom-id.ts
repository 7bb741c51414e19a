// A batch request's custom_id names its dataset run, dialogue, turn, role and try:
//   <datasetRunId>:<dialogue index>:<turn>:<role>:<try>
// so that a line in any provider file says whose call it was, and no two requests share one.
import type { BatchRole } from './batch-types';

export interface CallId {
  datasetRunId: string;
  index: number;
  turn: number;
  role: BatchRole;
  /** 1 for the first request of that turn and role, one more for each asked again (a failed line, a rejected question). */
  attempt: number;
}

export const formatCustomId = (c: CallId) => `${c.datasetRunId}:${c.index}:${c.turn}:${c.role}:${c.attempt}`;

export function parseCustomId(id: string): CallId | undefined {
  const m = /^(.+):(\d+):(\d+):(ask|answer):(\d+)$/.exec(id);
  if (!m) return undefined;
  return {
    datasetRunId: m[1],
    index: Number(m[2]),
    turn: Number(m[3]),
    role: m[4] as BatchRole,
    attempt: Number(m[5]),
  };
}
