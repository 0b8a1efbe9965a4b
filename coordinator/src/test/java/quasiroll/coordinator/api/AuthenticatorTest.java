package quasiroll.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.cluster.TlsFiles;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.GetJobStatusRequest;
import quasiroll.v1.JobStatus;
import quasiroll.v1.QuasirollServiceGrpc;

/** Who gets through, as whom: tokens, the tokens file, client certificates over TLS. */
class AuthenticatorTest {
  private static final String ALICE = "alice-token-0123456789";
  private static final String GPU = "gpu1-token-0123456789";

  @TempDir Path dir;
  private Server server;
  private ManagedChannel channel;
  private final Counter refused = new SimpleMeterRegistry().counter("refused");

  /** Answers GetJobStatus with the caller: job_id = "name roles shared". */
  private static final class WhoAmI extends QuasirollServiceGrpc.QuasirollServiceImplBase {
    @Override
    public void getJobStatus(GetJobStatusRequest req, StreamObserver<JobStatus> out) {
      Principal p = Principal.current();
      out.onNext(
          JobStatus.newBuilder()
              .setJobId(p.name() + " " + new TreeSet<>(p.roles()) + " " + p.shared())
              .build());
      out.onCompleted();
    }
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  private void inProcess(Authenticator auth) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new WhoAmI(), auth))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  private String call(String authorization) {
    var stub = QuasirollServiceGrpc.newBlockingStub(channel);
    if (authorization != null) {
      Metadata md = new Metadata();
      md.put(Authenticator.AUTHORIZATION, authorization);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    try {
      return stub.withDeadlineAfter(5, TimeUnit.SECONDS)
          .getJobStatus(GetJobStatusRequest.getDefaultInstance())
          .getJobId();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode().toString();
    }
  }

  private Path tokens(String content) throws Exception {
    return Files.writeString(dir.resolve("tokens"), content);
  }

  @Test
  void theSharedTokenAloneIsAnAdminNodeAndNothingElseGetsThrough() throws Exception {
    inProcess(Authenticator.create("s3cret-s3cret-s3cret", null, false, refused));
    assertEquals("UNAUTHENTICATED", call(null));
    assertEquals("UNAUTHENTICATED", call("Bearer wrong"));
    assertEquals("UNAUTHENTICATED", call("s3cret-s3cret-s3cret"));
    assertEquals("cluster [ADMIN, NODE] true", call("Bearer s3cret-s3cret-s3cret"));
    assertEquals(3.0, refused.count());
  }

  @Test
  void theTokensFileGivesEachPrincipalItsRoleAndTheClusterTokenOnlyNode() throws Exception {
    Path f =
        tokens(
            "# name role token\nalice client "
                + ALICE
                + "\n\nroot admin root-token-0123456789\ngpu1 node "
                + GPU
                + "\n");
    inProcess(Authenticator.create("cluster-token-0123456789", f, false, refused));
    assertEquals("alice [CLIENT] false", call("Bearer " + ALICE));
    assertEquals("root [ADMIN] false", call("Bearer root-token-0123456789"));
    assertEquals("gpu1 [NODE] false", call("Bearer " + GPU));
    assertEquals("cluster [NODE] true", call("Bearer cluster-token-0123456789"));
    assertEquals("UNAUTHENTICATED", call(null));
  }

  @Test
  void withoutAnyCredentialConfiguredEveryCallIsLocal() throws Exception {
    inProcess(Authenticator.create("", null, false, refused));
    assertEquals("local [CLIENT, ADMIN, NODE] true", call(null));
  }

  @Test
  void badTokensFilesAreRefusedWithTheLine() throws Exception {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                Authenticator.create(
                    "", tokens("alice superuser " + ALICE + "\n"), false, refused));
    assertTrue(
        e.getMessage().contains("tokens:1") && e.getMessage().contains("superuser"),
        e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> Authenticator.create("", tokens("alice client short\n"), false, refused));
    assertTrue(e.getMessage().contains("at least 16"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () ->
                Authenticator.create(
                    "", tokens("a client " + ALICE + "\nb admin " + ALICE + "\n"), false, refused));
    assertTrue(
        e.getMessage().contains("tokens:2") && e.getMessage().contains("twice"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> Authenticator.create("", tokens("just two\n"), false, refused));
    assertTrue(e.getMessage().contains("<name> <role> <token>"), e.getMessage());
  }

  @Test
  void principalsMayActOnlyAsTheirOwnWorkers() {
    Principal named = new Principal("gpu1", java.util.Set.of(Principal.Role.NODE), false);
    assertTrue(named.mayActAsWorker("gpu1-host-25520-77"));
    assertTrue(!named.mayActAsWorker("gpu2-host-25520-77"));
    assertTrue(!named.mayActAsWorker("gpu1"));
    Principal client = new Principal("alice", java.util.Set.of(Principal.Role.CLIENT), false);
    assertTrue(!client.mayActAsWorker("alice-x"));
    assertTrue(client.canSee("alice") && !client.canSee("bob"));
    assertTrue(new Principal("root", java.util.Set.of(Principal.Role.ADMIN), false).canSee("bob"));
  }

  /** Real TLS on loopback with certificates from deploy/tls/make-dev-ca.sh (needs openssl). */
  @Test
  void overTlsAClientCertificateNamesThePrincipalAndPlaintextIsRefused() throws Exception {
    Path ca = DevCa.make(dir);
    TlsFiles serverTls =
        new TlsFiles(
            ca.resolve("coordinator.crt"), ca.resolve("coordinator.key"), ca.resolve("ca.crt"));
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(serverTls.grpcServer())
            .addService(
                ServerInterceptors.intercept(
                    new WhoAmI(), Authenticator.create("", null, true, refused)))
            .build()
            .start();
    String target = "localhost:" + server.getPort();
    for (String who : new String[] {"worker", "client", "admin"}) {
      TlsFiles mine =
          new TlsFiles(ca.resolve(who + ".crt"), ca.resolve(who + ".key"), ca.resolve("ca.crt"));
      channel = NettyChannelBuilder.forTarget(target).sslContext(mine.grpcClient()).build();
      String expected =
          who
              + " ["
              + switch (who) {
                case "worker" -> "NODE";
                case "client" -> "CLIENT";
                default -> "ADMIN";
              }
              + "] false";
      assertEquals(expected, call(null));
      channel.shutdownNow();
    }
    // TLS without a certificate and without a token: no credential.
    channel =
        NettyChannelBuilder.forTarget(target)
            .sslContext(TlsFiles.of(null, null, ca.resolve("ca.crt")).grpcClient())
            .build();
    assertEquals("UNAUTHENTICATED", call(null));
    channel.shutdownNow();
    channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    String plain = call(null);
    assertTrue(
        plain.equals("UNAVAILABLE") || plain.equals("INTERNAL") || plain.equals("UNKNOWN"), plain);
  }

  /** Runs the development CA script into a temporary directory. */
  static final class DevCa {
    static Path make(Path dir) throws Exception {
      Path script = Path.of("..", "deploy", "tls", "make-dev-ca.sh").toAbsolutePath().normalize();
      Assumptions.assumeTrue(Files.isExecutable(script), "no " + script);
      Assumptions.assumeTrue(
          new ProcessBuilder("sh", "-c", "command -v openssl").start().waitFor() == 0,
          "no openssl");
      Path out = dir.resolve("tls");
      Process p =
          new ProcessBuilder(script.toString(), out.toString()).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), log);
      return out;
    }
  }
}
