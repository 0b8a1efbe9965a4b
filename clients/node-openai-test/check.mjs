// quasiroll's HTTP API driven by the official `openai` npm client (pinned in package.json).
// Usage: node check.mjs BASE_URL MODEL [CHAT_MODEL]
// Exits non-zero on the first failed check; prints "openai client OK" at the end.
import assert from "node:assert/strict";
import OpenAI from "openai";

const [baseURL, model, chatModel] = process.argv.slice(2);
if (!baseURL || !model) {
  console.error("usage: node check.mjs BASE_URL MODEL [CHAT_MODEL]");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: process.env.QUASIROLL_AUTH_TOKEN || "none", maxRetries: 0 });
const prompt = "The little robot";

// completions: n = 8 samples of one coupled group, logprobs, seed
const params = { model, prompt, n: 8, max_tokens: 12, seed: 1234, logprobs: 5, temperature: 1.0 };
const a = await client.completions.create(params);
assert.equal(a.object, "text_completion");
assert.equal(a.choices.length, 8);
assert.deepEqual(a.choices.map((c) => c.index), [0, 1, 2, 3, 4, 5, 6, 7]);
for (const c of a.choices) {
  assert.ok(["stop", "length"].includes(c.finish_reason), c.finish_reason);
  assert.equal(c.logprobs.tokens.length, c.logprobs.token_logprobs.length);
  assert.equal(c.logprobs.tokens.length, c.logprobs.text_offset.length);
  for (const lp of c.logprobs.token_logprobs) assert.ok(lp <= 0, `logprob ${lp} > 0`);
  // top-5 of the processed distribution per token: the sampled token is at most as likely as the best
  assert.equal(c.logprobs.top_logprobs.length, c.logprobs.tokens.length);
  c.logprobs.top_logprobs.forEach((top, t) => {
    const values = Object.values(top);
    assert.ok(values.length >= 1 && values.length <= 5, JSON.stringify(top));
    assert.ok(Math.max(...values) >= c.logprobs.token_logprobs[t], JSON.stringify(top));
  });
  assert.equal(c.noise_key.k, 8);
  assert.equal(c.noise_key.index, c.index);
}
assert.equal(a.usage.completion_tokens, a.choices.reduce((s, c) => s + c.token_ids.length, 0));

// same seed -> the same response, byte for byte in the samples
const b = await client.completions.create(params);
assert.deepEqual(b.choices, a.choices);

// another seed -> other samples (12 tokens from a real model: equal groups would be a bug)
const other = await client.completions.create({ ...params, seed: 99 });
assert.notDeepEqual(other.choices.map((c) => c.text), a.choices.map((c) => c.text));

// stop strings: cut before the stop string, finish_reason "stop"
const stopped = await client.completions.create({ model, prompt, n: 8, max_tokens: 24, seed: 5, stop: ["e", "o"] });
for (const c of stopped.choices) {
  assert.ok(!c.text.includes("e") && !c.text.includes("o"), JSON.stringify(c.text));
}

// a group of 8 split over two calls of n = 4 equals one call with n = 8
const whole = await client.completions.create({ model, prompt, n: 8, max_tokens: 12, seed: 77, group_size: 8, group_id: "g1" });
const part0 = await client.completions.create({ model, prompt, n: 4, max_tokens: 12, seed: 77, group_size: 8, group_id: "g1", index_offset: 0 });
const part1 = await client.completions.create({ model, prompt, n: 4, max_tokens: 12, seed: 77, group_size: 8, group_id: "g1", index_offset: 4 });
const strip = (c) => ({ text: c.text, token_ids: c.token_ids, raw: c.raw_logprobs, key: c.noise_key });
assert.deepEqual([...part0.choices, ...part1.choices].map(strip), whole.choices.map(strip));
// ... and without group_size, n = 8 is the same group (k = n, prompt id "0") when no group_id is given
const plain = await client.completions.create({ model, prompt, n: 8, max_tokens: 12, seed: 77 });
const split = await client.completions.create({ model, prompt, n: 3, max_tokens: 12, seed: 77, group_size: 8, index_offset: 5 });
assert.deepEqual(split.choices.map(strip), plain.choices.slice(5).map(strip));

// streaming: deltas per choice concatenate to the non-streamed text of the same request
const streamed = new Map();
const finish = new Map();
const stream = await client.completions.create({ model, prompt, n: 4, max_tokens: 16, seed: 31, stream: true });
for await (const chunk of stream) {
  for (const c of chunk.choices) {
    streamed.set(c.index, (streamed.get(c.index) || "") + c.text);
    if (c.finish_reason) finish.set(c.index, c.finish_reason);
  }
}
const unstreamed = await client.completions.create({ model, prompt, n: 4, max_tokens: 16, seed: 31 });
for (const c of unstreamed.choices) {
  assert.equal(streamed.get(c.index), c.text);
  assert.equal(finish.get(c.index), c.finish_reason);
}

// errors: the SDK's typed errors with OpenAI's shape
await assert.rejects(client.completions.create({ model: "no-such-model", prompt }), (e) => {
  assert.equal(e.status, 404);
  assert.equal(e.error?.param ?? e.param, "model");
  return true;
});
await assert.rejects(client.completions.create({ model, prompt, temperature: -1 }), (e) => {
  assert.equal(e.status, 400);
  assert.equal(e.param, "temperature");
  assert.match(e.message, /temperature -1 is invalid/);
  return true;
});

// models
const models = await client.models.list();
assert.ok(models.data.some((m) => m.id === model), JSON.stringify(models.data));

if (chatModel) {
  const chatParams = {
    model: chatModel,
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Say something." },
    ],
    n: 3,
    max_tokens: 12,
    seed: 8,
  };
  const c1 = await client.chat.completions.create(chatParams);
  assert.equal(c1.object, "chat.completion");
  assert.equal(c1.choices.length, 3);
  for (const c of c1.choices) assert.equal(c.message.role, "assistant");
  const c2 = await client.chat.completions.create(chatParams);
  assert.deepEqual(c2.choices.map((c) => c.message.content), c1.choices.map((c) => c.message.content));
  const parts = new Map();
  const cs = await client.chat.completions.create({ ...chatParams, stream: true });
  for await (const chunk of cs) {
    for (const c of chunk.choices) parts.set(c.index, (parts.get(c.index) || "") + (c.delta.content || ""));
  }
  for (const c of c1.choices) assert.equal(parts.get(c.index), c.message.content);
}
console.log("openai client OK");
