// POST /v1/chat/completions: a chat history through the model's own chat template.
import type { ChatHistoryItem } from 'node-llama-cpp';
import { contextLengthExceeded, HttpError } from './http-error';
import type { LoadedModel } from './loaded-model';
import {
  contentText,
  finishReason,
  responseId,
  sampling,
  stopList,
  usage,
  type RequestBody,
} from './request-fields';

interface ChatMessage {
  role: string;
  content: unknown;
}

/** OpenAI's messages as node-llama-cpp's chat history; a bad message is a 400 naming its index. */
function chatHistory(body: RequestBody): ChatHistoryItem[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new HttpError(400, 'messages: must be a non-empty array');
  return (messages as ChatMessage[]).map((m, i) => {
    const text = contentText(m.content, `messages[${i}].content`);
    if (m.role === 'system' || m.role === 'developer') return { type: 'system' as const, text };
    if (m.role === 'user') return { type: 'user' as const, text };
    if (m.role === 'assistant') return { type: 'model' as const, response: [text] };
    throw new HttpError(400, `messages[${i}].role: unsupported role '${String(m.role)}'`);
  });
}

export async function chatCompletion(llm: LoadedModel, body: RequestBody, signal: AbortSignal) {
  const history = chatHistory(body);
  const stop = stopList(body.stop);
  return llm.pool.use(async (contextSequence) => {
    const chat = new llm.lib.LlamaChat({ contextSequence, autoDisposeSequence: false });
    try {
      // The prompt's size is known only after the chat template renders it; check it before
      // generating so an oversized history is OpenAI's 400, not a truncated answer.
      const promptText = chat.chatWrapper.generateContextState({
        chatHistory: [...history, { type: 'model', response: [] }],
      }).contextText;
      const promptTokens = promptText.tokenize(llm.model.tokenizer).length;
      if (promptTokens >= llm.context.contextSize) {
        throw contextLengthExceeded(
          `This model's maximum context length is ${llm.context.contextSize} tokens; the messages have ${promptTokens}.`,
        );
      }
      const r = await chat.generateResponse(history, { ...sampling(body), signal, customStopTriggers: stop });
      return {
        id: responseId('chatcmpl'),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: llm.modelId,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: r.response },
            finish_reason: finishReason(r.metadata.stopReason),
          },
        ],
        usage: usage(promptTokens, llm.countTokens(r.response)),
      };
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  });
}
