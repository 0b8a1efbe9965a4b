package quasiroll.cluster.wire;

/**
 * Every message the coordinator sends to a worker node over the cluster: the whole
 * coordinator→worker half of the wire contract, one record per message. Each record has a fixed
 * Kryo id in {@link KryoClusterSerializer#IDS}; a test checks that the registered classes are
 * exactly these records (plus the value types they carry) and that no id ever changes.
 *
 * <p>A worker agent's own messages (timers, decode completions) never cross the network: they
 * implement {@link Local}, which the serializer does not know and therefore refuses.
 */
public sealed interface ToWorker
    permits ToWorker.AssignShard,
        ToWorker.CancelJobWork,
        ToWorker.Welcome,
        ToWorker.LoadPolicy,
        ToWorker.AbortOlderVersions,
        ToWorker.Local {

  /** The job manager hands a shard to a worker (consuming one of its credits). */
  record AssignShard(ShardTask task) implements ToWorker {}

  /**
   * The job was cancelled: the worker stops decoding its shards of this job at the next step (the
   * decode loop polls a cancelled flag) and drops any queued ones.
   */
  record CancelJobWork(String jobId) implements ToWorker {}

  /**
   * The job manager's answer to {@link ToCoordinator.RegisterWorker}: where to stream results (the
   * coordinator's gRPC data plane, "host:port"). Credits the worker had granted to an earlier job
   * manager are void; it grants its free slots again with {@link ToCoordinator.RequestWork}.
   */
  record Welcome(String dataPlaneAddress) implements ToWorker {}

  /**
   * Load policy version {@code version} of {@code modelId} beside the versions already loaded
   * (draining first if the worker's weight budget says so) and answer {@link
   * ToCoordinator.PolicyLoaded}. The version is the start-up weights with the tensors {@code
   * tensorNames[i]} replaced by those in the files {@code tensorFiles[i]} (paths in the
   * coordinator's data directory: read where the worker can, otherwise fetched over the data plane,
   * see quasiroll.worker.policy-fetch). {@code changed} are the tensors the publish itself gave
   * (checked for completeness unless {@code partial}); {@code keep} are the versions still pinned
   * by running groups: every other version except the newest may be closed.
   */
  record LoadPolicy(
      String modelId,
      long version,
      String[] tensorNames,
      String[] tensorFiles,
      String[] changed,
      boolean partial,
      long[] keep)
      implements ToWorker {}

  /**
   * A version published in abort mode is live: every running shard of {@code modelId} on a version
   * older than {@code version} stops at its next decode step and returns its samples as they stand
   * (finish reason ABORTED, tagged with their version).
   */
  record AbortOlderVersions(String modelId, long version) implements ToWorker {}

  /**
   * Messages a worker agent sends itself. They share the agent's mailbox type but never leave its
   * JVM, so they have no Kryo id (the serializer refuses them).
   */
  non-sealed interface Local extends ToWorker {}
}
