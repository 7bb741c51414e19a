// The failure converter of an encrypting data converter (aes-gcm-codec.ts): a failure's message
// and stack trace move into a payload, which the codec then encrypts like any other. Failures
// can carry model output (an unusable question is quoted in its EmptyQuestion message), so they
// are as private as the dialogues. Loaded by path: the workflow bundle needs it too.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
