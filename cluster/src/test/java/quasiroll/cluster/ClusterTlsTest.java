package quasiroll.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;

/**
 * The Pekko cluster transport over mutual TLS, on loopback: a node with a node certificate from the
 * cluster CA joins; a node with a client certificate (same CA, no cluster name) or with no TLS at
 * all never becomes a member, so it cannot down anyone either.
 */
class ClusterTlsTest {
  @TempDir Path dir;
  private final List<ActorSystem<Void>> systems = new ArrayList<>();

  @AfterEach
  void stop() {
    systems.forEach(ActorSystem::terminate);
    for (ActorSystem<Void> s : systems) {
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private ActorSystem<Void> node(Path ca, String cert, int port, String seed) {
    Config user = ConfigFactory.load();
    if (cert != null) {
      user =
          user.withValue(
                  "quasiroll.tls.cert",
                  ConfigValueFactory.fromAnyRef(ca.resolve(cert + ".crt").toString()))
              .withValue(
                  "quasiroll.tls.key",
                  ConfigValueFactory.fromAnyRef(ca.resolve(cert + ".key").toString()))
              .withValue(
                  "quasiroll.tls.ca",
                  ConfigValueFactory.fromAnyRef(ca.resolve("ca.crt").toString()));
    }
    Config c =
        ClusterConfig.forNode(user, ClusterKeys.ROLE_WORKER, "127.0.0.1", null, port, List.of(seed))
            .withFallback(
                ConfigFactory.parseString(
                    "pekko.coordinated-shutdown.exit-jvm = off\npekko.loglevel = WARNING"));
    c =
        ConfigFactory.parseString(
                "pekko.coordinated-shutdown.exit-jvm = off\npekko.loglevel = ERROR")
            .withFallback(c);
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), ClusterConfig.SYSTEM_NAME, c);
    systems.add(s);
    return s;
  }

  private static boolean upWithin(ActorSystem<Void> s, Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      if (Cluster.get(s).selfMember().status() == MemberStatus.up()) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  @Test
  void onlyNodesWithAClusterCertificateJoin() throws Exception {
    Path script = Path.of("..", "deploy", "tls", "make-dev-ca.sh").toAbsolutePath().normalize();
    Assumptions.assumeTrue(Files.isExecutable(script), "no " + script);
    Assumptions.assumeTrue(
        new ProcessBuilder("sh", "-c", "command -v openssl").start().waitFor() == 0, "no openssl");
    Path ca = dir.resolve("tls");
    Process p =
        new ProcessBuilder(script.toString(), ca.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);

    int seedPort = freePort();
    String seed = "127.0.0.1:" + seedPort;
    ActorSystem<Void> founder = node(ca, "coordinator", seedPort, seed);
    assertTrue(upWithin(founder, Duration.ofSeconds(20)), "the TLS seed node formed a cluster");
    ActorSystem<Void> member = node(ca, "worker", freePort(), seed);
    ActorSystem<Void> rogueCert = node(ca, "client", freePort(), seed);
    ActorSystem<Void> plaintext = node(ca, null, freePort(), seed);
    assertTrue(upWithin(member, Duration.ofSeconds(20)), "a node with a cluster certificate joins");
    assertTrue(!upWithin(rogueCert, Duration.ofSeconds(4)), "a client certificate must not join");
    assertTrue(!upWithin(plaintext, Duration.ofSeconds(1)), "a plaintext node must not join");
    assertEquals(2, Cluster.get(founder).state().getMembers().spliterator().estimateSize());
  }

  @Test
  void aNonLoopbackBindWithoutTlsIsRefused() {
    Config user = ConfigFactory.load();
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                ClusterConfig.forNode(
                    user,
                    ClusterKeys.ROLE_WORKER,
                    "10.0.0.1",
                    "0.0.0.0",
                    0,
                    List.of("10.0.0.1:1")));
    assertTrue(
        e.getMessage().contains("0.0.0.0") && e.getMessage().contains("TLS is required"),
        e.getMessage());
    ClusterConfig.forNode(
        user.withValue(TlsFiles.PLAINTEXT_KEY, ConfigValueFactory.fromAnyRef(true)),
        ClusterKeys.ROLE_WORKER,
        "10.0.0.1",
        "0.0.0.0",
        0,
        List.of("10.0.0.1:1"));
  }
}
