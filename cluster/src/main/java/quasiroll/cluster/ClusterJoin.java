package quasiroll.cluster;

import com.typesafe.config.Config;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import quasiroll.common.error.BadInputException;

/**
 * How a node finds the cluster, chosen by {@code quasiroll.cluster.join}: through fixed seed nodes
 * (the coordinator's address, the default) or through Pekko Management Cluster Bootstrap, which
 * discovers the other nodes (e.g. through the Kubernetes API) and lets the lowest-addressed contact
 * point found the cluster when none exists yet.
 */
public enum ClusterJoin {
  SEED_NODES("seed-nodes"),
  BOOTSTRAP("bootstrap");

  public static final String KEY = "quasiroll.cluster.join";

  private final String configValue;

  ClusterJoin(String configValue) {
    this.configValue = configValue;
  }

  /** The value of {@link #KEY} that selects this mode. */
  public String configValue() {
    return configValue;
  }

  /** Reads {@link #KEY}; an absent key means {@link #SEED_NODES}. */
  public static ClusterJoin from(Config config) {
    if (!config.hasPath(KEY)) {
      return SEED_NODES;
    }
    String value = config.getString(KEY);
    for (ClusterJoin mode : values()) {
      if (mode.configValue.equals(value)) {
        return mode;
      }
    }
    throw new BadInputException(
        KEY
            + " = '"
            + value
            + "' is not known: expected one of "
            + Arrays.stream(values())
                .map(ClusterJoin::configValue)
                .collect(Collectors.joining(", ")));
  }

  /**
   * Starts joining on a freshly created node whose configuration came from {@link
   * ClusterConfig#forNode}. Seed nodes: nothing to do (Pekko joins the configured seed nodes by
   * itself). Bootstrap: starts the management HTTP endpoint (other nodes probe it as a contact
   * point) and then Cluster Bootstrap.
   */
  public void start(ActorSystem<?> system) {
    if (this == BOOTSTRAP) {
      PekkoManagement.get(system).start().toCompletableFuture().join();
      ClusterBootstrap.get(system).start();
    }
  }
}
