package quasiroll.coordinator.job;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/** The shards assigned to workers and not yet finished, by shard id. */
final class InFlightShards {
  private final Map<String, InFlightShard> byShard = new HashMap<>();

  InFlightShard get(String shardId) {
    return byShard.get(shardId);
  }

  void put(String shardId, InFlightShard f) {
    byShard.put(shardId, f);
  }

  InFlightShard remove(String shardId) {
    return byShard.remove(shardId);
  }

  Collection<InFlightShard> all() {
    return byShard.values();
  }
}
