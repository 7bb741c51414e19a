import { getLlama, LlamaCompletion } from 'node-llama-cpp';
const llama = await getLlama({ build: 'never', gpu: false });
console.log('gpu', llama.gpu, 'cores', llama.cpuMathCores, 'maxThreads', llama.maxThreads, llama.buildType);
const model = await llama.loadModel({ modelPath: '.tools/models/SmolLM2-135M-Instruct.Q4_1.gguf' });
for (const threads of [2, 1]) {
const ctx = await model.createContext({ contextSize: 2048, threads });
const c = new LlamaCompletion({ contextSequence: ctx.getSequence() });
const t1 = Date.now();
const r = await c.generateCompletion('The capital of France is', { maxTokens: 32 });
const n = model.tokenize(r).length; const dt=(Date.now()-t1)/1000;
console.log(threads, JSON.stringify(r), n, dt, (n/dt).toFixed(1), 'tok/s');
await ctx.dispose();
}
