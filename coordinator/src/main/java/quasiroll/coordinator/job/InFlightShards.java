package quasiroll.coordinator.job;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The shards assigned to workers and not yet finished, by shard id. A shard leaving (finished,
 * failed or lost) gives back the verifier calls it reserved and did not use.
 */
final class InFlightShards {
  private final Map<String, InFlightShard> byShard = new HashMap<>();
  private final VerifierPool verifiers;

  InFlightShards(VerifierPool verifiers) {
    this.verifiers = verifiers;
  }

  InFlightShard get(String shardId) {
    return byShard.get(shardId);
  }

  void put(String shardId, InFlightShard f) {
    byShard.put(shardId, f);
  }

  InFlightShard remove(String shardId) {
    InFlightShard f = byShard.remove(shardId);
    if (f != null && f.verifierSlots > 0) {
      verifiers.release(f.shard.jobId(), f.verifierSlots);
      f.verifierSlots = 0;
    }
    return f;
  }

  Collection<InFlightShard> all() {
    return byShard.values();
  }
}
