package quasiroll.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class ClusterJoinTest {
  @Test
  void seedNodesIsTheDefault() {
    assertEquals(ClusterJoin.SEED_NODES, ClusterJoin.from(ConfigFactory.load()));
  }

  @Test
  void anUnknownJoinModeIsRefusedNamingIt() {
    Config config =
        ConfigFactory.parseString("quasiroll.cluster.join = gossip")
            .withFallback(ConfigFactory.load());
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                ClusterConfig.forNode(
                    config, ClusterKeys.ROLE_WORKER, "127.0.0.1", null, 0, List.of("127.0.0.1:1")));
    assertTrue(
        e.getMessage().contains("'gossip'")
            && e.getMessage().contains("quasiroll.cluster.join")
            && e.getMessage().contains("seed-nodes")
            && e.getMessage().contains("bootstrap"),
        e.getMessage());
  }

  @Test
  void bootstrapModeIgnoresSeedNodes() {
    Config config =
        ConfigFactory.parseString("quasiroll.cluster.join = bootstrap")
            .withFallback(ConfigFactory.load());
    Config pekko =
        ClusterConfig.forNode(
            config, ClusterKeys.ROLE_WORKER, "127.0.0.1", null, 0, List.of("127.0.0.1:1"));
    assertTrue(pekko.getStringList("pekko.cluster.seed-nodes").isEmpty());
    assertEquals(7626, pekko.getInt("pekko.management.http.port"));
    assertEquals(
        "kubernetes-api",
        pekko.getString(
            "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
  }

  /**
   * A single node with config discovery listing only itself and one required contact point must
   * find no existing cluster, decide it is the lowest address and found one.
   */
  @Test
  void aBootstrappedNodeFormsAOneNodeCluster() throws IOException {
    int management = freePort();
    Config config =
        ConfigFactory.parseString(
                "quasiroll.cluster.join = bootstrap\n"
                    + "quasiroll.cluster.bootstrap {\n"
                    + "  management-port = "
                    + management
                    + "\n"
                    + "  discovery-method = config\n"
                    + "  service-name = quasiroll-test\n"
                    + "  required-contact-point-nr = 1\n"
                    + "}\n"
                    + "pekko.discovery.config.services.quasiroll-test.endpoints = ["
                    + "  {host = \"127.0.0.1\", port = "
                    + management
                    + "}]\n"
                    // the default 5 s of stable discovery results only slows the test down
                    + "pekko.management.cluster.bootstrap.contact-point-discovery.stable-margin ="
                    + " 500ms\n"
                    + "pekko.management.cluster.bootstrap.contact-point-discovery.interval ="
                    + " 200ms\n")
            .withFallback(ConfigFactory.load());
    Config pekko =
        ClusterConfig.forNode(
            config, ClusterKeys.ROLE_COORDINATOR, "127.0.0.1", null, 0, List.of());
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            ClusterConfig.SYSTEM_NAME,
            ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off")
                .withFallback(pekko));
    try {
      ClusterJoin.from(config).start(system);
      Cluster cluster = Cluster.get(system);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (cluster.selfMember().status() != MemberStatus.up() && System.nanoTime() < deadline) {
        sleep(100);
      }
      assertEquals(
          MemberStatus.up(), cluster.selfMember().status(), "self member status after bootstrap");
      assertEquals(1, cluster.state().members().size());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
