import { getLlama, LlamaChatSession } from 'node-llama-cpp';
const llama = await getLlama({ build: 'never', gpu: false });
const model = await llama.loadModel({ modelPath: '.tools/models/SmolLM2-135M-Instruct.Q4_1.gguf' });
for (const [cs, seq, threads] of [[2048,1,1],[2048,4,1],[8192,4,2]]) {
const ctx = await model.createContext({ contextSize: cs, sequences: seq, threads });
const s = new LlamaChatSession({ contextSequence: ctx.getSequence() });
const t1 = Date.now();
const r = await s.prompt('What is the capital of France?', { maxTokens: 32 });
const n = model.tokenize(r).length; const dt=(Date.now()-t1)/1000;
console.log(cs, seq, threads, JSON.stringify(r), n, dt, (n/dt).toFixed(1), 'tok/s', s.chatWrapper.wrapperName);
await ctx.dispose();
}
