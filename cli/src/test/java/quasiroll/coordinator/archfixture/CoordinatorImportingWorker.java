package quasiroll.coordinator.archfixture;

import quasiroll.worker.engine.ResolvedShard;

/**
 * Deliberately bad fixture for ArchitectureRulesCanFailTest: a coordinator class using the worker.
 */
public final class CoordinatorImportingWorker {
  public int k(ResolvedShard shard) {
    return shard.k();
  }
}
