package quasiroll.cluster.wire;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * Every message a worker node sends to the coordinator's job manager over the cluster: the whole
 * worker→coordinator half of the wire contract, one record per message. Each record has a fixed
 * Kryo id in {@link KryoClusterSerializer#IDS}.
 *
 * <p>The job manager's own messages (client submissions, data-plane results, timers) never cross
 * the network: they implement {@link Local}, which the serializer does not know and therefore
 * refuses.
 */
public sealed interface ToCoordinator
    permits ToCoordinator.RegisterWorker,
        ToCoordinator.RequestWork,
        ToCoordinator.PolicyLoaded,
        ToCoordinator.Local {

  /**
   * A worker announces itself to the job manager (on start and whenever a new job manager appears).
   * The job manager answers {@link ToWorker.Welcome} and watches {@code agent}: when the worker's
   * node leaves the cluster, its in-flight shards are re-queued.
   */
  record RegisterWorker(WorkerInfo info, ActorRef<ToWorker> agent) implements ToCoordinator {}

  /**
   * Pull-based scheduling: the worker grants {@code credits} more shards. Each {@link
   * ToWorker.AssignShard} consumes one credit; a worker grants one credit back per finished shard.
   * Without credits a worker gets nothing, so a slow worker is never flooded.
   */
  record RequestWork(String workerId, int credits) implements ToCoordinator {}

  /**
   * A worker's answer to {@link ToWorker.LoadPolicy}: {@code error} is empty when the version is
   * loaded (then {@code loaded} lists every version the worker now holds), else it says why not
   * (naming the tensor or file); the versions it had keep serving either way.
   */
  record PolicyLoaded(
      String workerId, String modelId, long version, long[] loaded, String error, long loadNanos)
      implements ToCoordinator {}

  /**
   * Messages the coordinator's own components send the job manager inside its JVM. They share the
   * job manager's mailbox type but have no Kryo id (the serializer refuses them).
   */
  non-sealed interface Local extends ToCoordinator {}
}
