package quasiroll.cluster;

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
   * @param seeds "host:port" of seed nodes; empty means this node founds the cluster itself.
   *     Ignored when {@code quasiroll.cluster.join = bootstrap}: Cluster Bootstrap refuses to run
   *     next to configured seed nodes, so none are set then.
   * @throws quasiroll.common.error.BadInputException when {@code quasiroll.cluster.join} is not a
   *     known mode
   */
  public static Config forNode(
      Config user, String role, String host, String bindHost, int port, List<String> seeds) {
    ClusterJoin join = ClusterJoin.from(user);
    String bind = bindHost == null ? host : bindHost;
    List<String> seedUris =
        join == ClusterJoin.SEED_NODES
            ? seeds.stream()
                .map(s -> "pekko://" + SYSTEM_NAME + "@" + s)
                .collect(Collectors.toList())
            : List.of();
    Config node =
        ConfigFactory.empty()
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)))
            .withValue(
                "pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
            .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
            .withValue("pekko.remote.artery.bind.hostname", ConfigValueFactory.fromAnyRef(bind))
            .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedUris));
    if (join == ClusterJoin.BOOTSTRAP) {
      node = withBootstrap(node, user.getConfig("quasiroll.cluster.bootstrap"), host, bind);
    }
    // Mutual TLS on the cluster transport when quasiroll.tls.* is set: a node without a
    // certificate from the cluster CA cannot join, send Down, or talk to anyone.
    TlsFiles tls = TlsFiles.from(user);
    TlsFiles.requireForBind(bind, tls, user, "the cluster transport bind address " + bind);
    if (tls != null) {
      node = tls.pekko().withFallback(node);
    }
    // -D system properties beat the cluster defaults; the user's file does not (it is
    // layered over Pekko's reference.conf, which must not undo quasiroll-cluster.conf).
    return node.withFallback(ConfigFactory.systemProperties())
        .withFallback(ConfigFactory.parseResources("quasiroll-cluster.conf"))
        .withFallback(user)
        .resolve();
  }

  /**
   * Maps {@code quasiroll.cluster.bootstrap.*} onto Pekko Management's keys. The management
   * endpoint listens on the node's bind address and advertises {@code management-hostname} (empty =
   * the node's Pekko host): bootstrap recognises itself among the discovered contact points by that
   * host and port, so in Kubernetes it must be the pod IP.
   */
  private static Config withBootstrap(Config node, Config b, String host, String bind) {
    String advertised = b.getString("management-hostname");
    return node.withValue(
            "pekko.management.http.hostname",
            ConfigValueFactory.fromAnyRef(advertised.isEmpty() ? host : advertised))
        .withValue("pekko.management.http.bind-hostname", ConfigValueFactory.fromAnyRef(bind))
        .withValue(
            "pekko.management.http.port",
            ConfigValueFactory.fromAnyRef(b.getInt("management-port")))
        .withValue(
            "pekko.management.http.bind-port",
            ConfigValueFactory.fromAnyRef(b.getInt("management-port")))
        .withValue(
            DISCOVERY + "discovery-method",
            ConfigValueFactory.fromAnyRef(b.getString("discovery-method")))
        .withValue(
            DISCOVERY + "service-name", ConfigValueFactory.fromAnyRef(b.getString("service-name")))
        .withValue(
            DISCOVERY + "required-contact-point-nr",
            ConfigValueFactory.fromAnyRef(b.getInt("required-contact-point-nr")))
        .withValue(
            "pekko.discovery.kubernetes-api.pod-label-selector",
            ConfigValueFactory.fromAnyRef(b.getString("pod-label-selector")));
  }

  private static final String DISCOVERY =
      "pekko.management.cluster.bootstrap.contact-point-discovery.";
}
