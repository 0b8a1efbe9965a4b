package quasiroll.worker.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.stream.Collectors;

/** Builds the Pekko configuration of a coordinator or worker node. */
public final class ClusterConfig {
  /** Every node of one quasiroll cluster runs an actor system of this name. */
  public static final String SYSTEM_NAME = "quasiroll";

  private ClusterConfig() {}

  /**
   * @param user the loaded quasiroll configuration
   * @param role {@link ClusterKeys#ROLE_COORDINATOR} or {@link ClusterKeys#ROLE_WORKER}
   * @param host the host other nodes reach this node's Pekko port at (its canonical address)
   * @param bindHost the address to listen on (e.g. 0.0.0.0 in a container); null = host
   * @param port the Pekko port (0 = pick a free one)
   * @param seeds "host:port" of seed nodes; empty means this node founds the cluster itself
   */
  public static Config forNode(
      Config user, String role, String host, String bindHost, int port, List<String> seeds) {
    List<String> seedUris =
        seeds.stream().map(s -> "pekko://" + SYSTEM_NAME + "@" + s).collect(Collectors.toList());
    Config node =
        ConfigFactory.empty()
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)))
            .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
            .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
            .withValue("pekko.remote.artery.bind.hostname", ConfigValueFactory.fromAnyRef(bindHost == null ? host : bindHost))
            .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedUris));
    // -D system properties beat the cluster defaults; the user's file does not (it is
    // layered over Pekko's reference.conf, which must not undo quasiroll-cluster.conf).
    return node.withFallback(ConfigFactory.systemProperties())
        .withFallback(ConfigFactory.parseResources("quasiroll-cluster.conf"))
        .withFallback(user)
        .resolve();
  }
}
