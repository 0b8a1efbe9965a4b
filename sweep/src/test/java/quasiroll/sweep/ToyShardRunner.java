package quasiroll.sweep;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardRunner;

/**
 * Test double for a model + coupled sampler: every sample is ONE token, drawn by inverse CDF from a
 * per-prompt distribution over 8 tokens with one uniform per sample. iid uses independent uniforms;
 * lattice uses (i/k + shift) mod 1; every other coupling falls back to independent uniforms.
 * Deterministic in (job seed, prompt id, index), like the real system. Token 0 is first on the CDF
 * and has probability {@code p0} (the "hard answer").
 */
final class ToyShardRunner implements ShardRunner {
  private final double p0;

  ToyShardRunner(double p0) {
    this.p0 = p0;
  }

  @Override
  public void run(ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled) {
    long promptSeed = KeyedHash.promptSeed(shard.jobSeed(), shard.promptId());
    // Prompt-dependent difficulty: p0 scaled by 0.5..1.5 so prompts differ.
    double p =
        p0
            * (0.5
                + KeyedHash.toUnitDouble(
                    KeyedHash.hash(KeyedHash.promptSeed(0, shard.promptId()), 7)));
    double shift = KeyedHash.toUnitDouble(KeyedHash.hash(promptSeed, 1));
    for (int i : shard.indices()) {
      if (cancelled.getAsBoolean()) {
        return;
      }
      double u =
          shard.sampler().coupling() == CouplingKind.LATTICE
              ? (i / (double) shard.k() + shift) % 1.0
              : KeyedHash.toUnitDouble(KeyedHash.hash(promptSeed, 2, i));
      int token = u < p ? 0 : 1 + (int) ((u - p) / (1 - p) * 7);
      out.accept(
          SampleResult.newBuilder()
              .setJobId(shard.jobId())
              .setPromptId(shard.promptId())
              .setIndex(i)
              .addTokenIds(Math.min(token, 7))
              .build());
    }
  }
}
