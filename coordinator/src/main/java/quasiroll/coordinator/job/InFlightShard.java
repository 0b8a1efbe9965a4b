package quasiroll.coordinator.job;

import quasiroll.v1.SampleResult;

/** A shard assigned to a worker and not yet finished, with what it has delivered so far. */
final class InFlightShard {
  final ShardScheduler.Shard shard;
  final String workerId;
  final int epoch;
  final long startNanos = System.nanoTime();
  int accepted;
  int duplicates;

  /** Verifier calls reserved for this shard's samples and not used yet ({@link VerifierPool}). */
  int verifierSlots;

  InFlightShard(ShardScheduler.Shard shard, String workerId, int epoch) {
    this.shard = shard;
    this.workerId = workerId;
    this.epoch = epoch;
  }

  /** Whether {@code r} is one of this shard's samples (its prompt, one of its indices). */
  boolean covers(Job job, SampleResult r) {
    if (!job.prompt(shard.promptIndex()).getId().equals(r.getPromptId())) {
      return false;
    }
    for (int i : shard.indices()) {
      if (i == r.getIndex()) {
        return true;
      }
    }
    return false;
  }
}
