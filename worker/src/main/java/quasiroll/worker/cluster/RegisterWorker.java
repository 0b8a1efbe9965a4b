package quasiroll.worker.cluster;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * A worker announces itself to the job manager (on start and whenever a new job manager
 * appears). The job manager answers {@link Welcome} and watches {@code agent}: when the
 * worker's node leaves the cluster, its in-flight shards are re-queued.
 */
public record RegisterWorker(WorkerInfo info, ActorRef<WorkerCommand> agent)
    implements CoordinatorCommand {}
