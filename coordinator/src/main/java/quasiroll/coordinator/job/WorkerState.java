package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;

/** What the job manager knows of one registered worker. */
final class WorkerState {
  WorkerInfo info;
  ActorRef<ToWorker> agent;
  int credits;
  boolean planeOpen;

  /**
   * How many times its watch was renewed after a Terminated while its node was a cluster member
   * (the end of an earlier incarnation at the same address, see JobManager.onWorkerTerminated).
   */
  int rewatches;

  final Set<String> inFlight = new HashSet<>();

  /** Policy versions it holds (from its last PolicyLoaded); 0 = its start-up weights. */
  Set<Long> loaded = Set.of(0L);

  /** Versions it must load before it gets shards (a worker that joined after publishes). */
  final Set<Long> syncing = new HashSet<>();
}
