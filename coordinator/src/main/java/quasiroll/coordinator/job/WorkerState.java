package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;

/** What the job manager knows of one registered worker. */
final class WorkerState {
  WorkerInfo info;
  ActorRef<ToWorker> agent;
  int credits;
  boolean planeOpen;

  /**
   * Its cluster node (address and incarnation uid); it leaves when exactly this node is downed or
   * removed. Null outside a cluster (its agent is watched instead).
   */
  UniqueAddress node;

  final Set<String> inFlight = new HashSet<>();

  /** Policy versions it holds (from its last PolicyLoaded); 0 = its start-up weights. */
  Set<Long> loaded = Set.of(0L);

  /** Versions it must load before it gets shards (a worker that joined after publishes). */
  final Set<Long> syncing = new HashSet<>();
}
