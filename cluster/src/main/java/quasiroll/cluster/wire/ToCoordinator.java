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
   * The job manager answers {@link ToWorker.Welcome}. {@code nodeUid} is the uid of the worker's
   * cluster node (its incarnation: a node that rejoins at the same host and port has a new one);
   * the job manager drops the worker, re-queueing its in-flight shards, when that exact node
   * (address and uid) is downed or removed from the cluster. 0 means no cluster node (a local actor
   * system): then the job manager watches {@code agent} instead.
   */
  record RegisterWorker(WorkerInfo info, ActorRef<ToWorker> agent, long nodeUid)
      implements ToCoordinator {
    /** A worker outside a cluster (nodeUid 0): the job manager watches its agent. */
    public RegisterWorker(WorkerInfo info, ActorRef<ToWorker> agent) {
      this(info, agent, 0L);
    }
  }

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
