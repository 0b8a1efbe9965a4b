package quasiroll.worker.node;

import java.util.HashMap;
import java.util.Map;
import quasiroll.common.noise.KeyedHash;
import quasiroll.v1.FinishReason;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ShardRunner;

/**
 * A load generator in place of a model, for cluster tests and for measuring the coordinator and
 * data plane alone: model ids {@code loadtest:?vocab=V&step_us=D}. Sample i of a prompt emits token
 * hash(promptSeed, i, t) mod V at step t until token 0 (EOS) or max_new_tokens, sleeping D
 * microseconds per step (so tests can kill a worker mid-job). Like a real model, every sample is a
 * pure function of its key, which is all the cluster relies on; there is no model behind the tokens
 * and the sampler spec only labels the noise key.
 */
final class LoadTestRunner {
  static final String PREFIX = "loadtest:";

  private LoadTestRunner() {}

  static ShardRunner open(String model) {
    Map<String, String> p = new HashMap<>();
    int q = model.indexOf('?');
    if (q >= 0) {
      for (String kv : model.substring(q + 1).split("&")) {
        String[] a = kv.split("=", 2);
        p.put(a[0], a[1]);
      }
    }
    int vocab = Integer.parseInt(p.getOrDefault("vocab", "32"));
    long stepMicros = Long.parseLong(p.getOrDefault("step_us", "0"));
    return (shard, out, cancelled) -> {
      long promptSeed = shard.noiseSeed();
      int n = shard.indices().length;
      SampleResult.Builder[] b = new SampleResult.Builder[n];
      boolean[] done = new boolean[n];
      for (int j = 0; j < n; j++) {
        int i = shard.indices()[j];
        b[j] =
            SampleResult.newBuilder()
                .setJobId(shard.jobId())
                .setPromptId(shard.promptId())
                .setIndex(i)
                .setNoiseKey(
                    NoiseKey.newBuilder()
                        .setJobSeed(shard.jobSeed())
                        .setPromptId(shard.promptId())
                        .setPromptSeed(promptSeed)
                        .setIndex(i)
                        .setK(shard.k())
                        .setSampler(shard.sampler().coupling().shortName()));
      }
      int max = shard.decode().maxNewTokens();
      int left = n;
      for (int t = 0; t < max && left > 0; t++) {
        if (cancelled.getAsBoolean()) {
          return;
        }
        if (stepMicros > 0) {
          try {
            Thread.sleep(stepMicros / 1000, (int) (stepMicros % 1000) * 1000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        for (int j = 0; j < n; j++) {
          if (done[j]) {
            continue;
          }
          long h = KeyedHash.hash(promptSeed, shard.indices()[j], t);
          int token = (int) Long.remainderUnsigned(h, vocab);
          float lp = (float) -Math.log(vocab);
          b[j].addTokenIds(token)
              .addRawLogprobs(lp)
              .addProcessedLogprobs(lp)
              .setText(b[j].getText() + (char) ('a' + token % 26));
          boolean eos = token == 0;
          if (eos || t == max - 1) {
            b[j].setFinishReason(
                eos ? FinishReason.FINISH_REASON_EOS : FinishReason.FINISH_REASON_LENGTH);
            done[j] = true;
            left--;
            out.accept(b[j].build());
          }
        }
      }
    };
  }
}
