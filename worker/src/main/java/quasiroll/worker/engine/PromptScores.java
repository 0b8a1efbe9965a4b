package quasiroll.worker.engine;

import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.TopTokens;
import quasiroll.v1.SampleResult;
import quasiroll.v1.TopLogprobs;
import quasiroll.worker.runtime.ModelBackend;

/**
 * The model's scores of a prompt's own tokens (echo + logprobs, lm-evaluation-harness's
 * loglikelihood requests): for each prompt token after the first, its log-probability given the
 * tokens before it and the most probable tokens at that position.
 *
 * <p>These are RAW model logprobs (log-softmax of the logits at temperature 1, no
 * top-k/top-p/min-p) whatever the request's sampling settings: prompt tokens were not sampled, so
 * no processed distribution applies to them, and a loglikelihood is a property of the model
 * (lm-eval sends temperature 0, under which a processed distribution would be a point mass). The
 * arithmetic is {@link CoupledTokenSampler#rawScore}, the same as the raw logprob of a generated
 * token, so scoring a generated continuation as a prompt gives its {@code raw_logprobs} (up to the
 * backend's prefill-versus-decode arithmetic, which on the CPU backend is the same).
 *
 * @param promptIds the prompt's token ids as decoded (BOS included when the tokenizer adds one)
 * @param logprobs {@code logprobs[t - 1]} is the logprob of {@code promptIds[t]}, t >= 1
 * @param tops {@code tops[t - 1]}: the most probable tokens at position t (empty when none asked)
 */
record PromptScores(int[] promptIds, float[] logprobs, TopTokens[] tops) {

  /** Scores {@code prompt} with one {@link ModelBackend#prefixLogits} pass. */
  static PromptScores compute(ModelBackend backend, int[] prompt, int top) {
    int vocab = backend.info().vocabSize();
    float[] lp = new float[Math.max(0, prompt.length - 1)];
    TopTokens[] tops = new TopTokens[lp.length];
    CoupledTokenSampler sampler = new CoupledTokenSampler();
    backend.prefixLogits(
        prompt,
        (t, logits, offset) -> {
          CoupledTokenSampler.RawScore s =
              sampler.rawScore(logits, offset, vocab, prompt[t + 1], top);
          lp[t] = s.logprob();
          tops[t] = s.top();
        });
    return new PromptScores(prompt.clone(), lp, tops);
  }

  /** Adds the scores to a result (every sample of the shard carries them). */
  void addTo(SampleResult.Builder b) {
    for (int id : promptIds) {
      b.addPromptTokenIds(id);
    }
    for (float v : logprobs) {
      b.addPromptLogprobs(v);
    }
    for (TopTokens t : tops) {
      TopLogprobs.Builder tb = TopLogprobs.newBuilder();
      for (int i = 0; i < t.ids().length; i++) {
        tb.addTokenIds(t.ids()[i]).addLogprobs(t.logprobs()[i]);
      }
      b.addPromptTopLogprobs(tb);
    }
  }
}
