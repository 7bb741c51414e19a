// The `reason` label of parrot_dialogues_failed: few values, whatever the failure's message.
import assert from 'node:assert/strict';
import {
  ActivityFailure,
  ApplicationFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { failureReason } from '../../src/telemetry/dialogue-counters';

const inActivity = (cause: Error) =>
  new ActivityFailure('activity failed', 'answer', '1', RetryState.NON_RETRYABLE_FAILURE, 'w', cause);

describe('failureReason', () => {
  it("names the innermost application failure's type", () => {
    assert.equal(
      failureReason(inActivity(ApplicationFailure.nonRetryable('HTTP 401: bad key', 'Http401'))),
      'Http401',
    );
  });

  it('says timeout when a retry budget ran out, whatever the last try was', () => {
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.SCHEDULE_TO_CLOSE);
    Object.assign(timeout, { cause: ApplicationFailure.retryable('HTTP 429', 'RateLimited') });
    assert.equal(failureReason(inActivity(timeout)), 'timeout');
  });

  it('says other for anything else, and for a type that is not a short word', () => {
    assert.equal(failureReason(new Error('boom')), 'other');
    assert.equal(failureReason(inActivity(ApplicationFailure.create({ type: 'a dataset id/42' }))), 'other');
  });
});
