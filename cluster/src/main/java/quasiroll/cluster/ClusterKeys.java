package quasiroll.cluster;

import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;

/** Receptionist keys through which the two node kinds find each other. */
public final class ClusterKeys {
  private ClusterKeys() {}

  /** The (singleton) job manager registers here; workers subscribe to find it. */
  public static final ServiceKey<ToCoordinator> JOB_MANAGER =
      ServiceKey.create(ToCoordinator.class, "quasiroll-job-manager");

  /** Every worker agent registers here (model, device and capacity come with RegisterWorker). */
  public static final ServiceKey<ToWorker> WORKERS =
      ServiceKey.create(ToWorker.class, "quasiroll-worker");

  /** Cluster roles. */
  public static final String ROLE_COORDINATOR = "coordinator";

  public static final String ROLE_WORKER = "worker";
}
